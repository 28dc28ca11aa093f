/**
 * Cost per check of input slicing, at a steady rate: what LiveStats.record() does for slices alone
 * (`sliceIndices`, then one cell per attribute in a 10 s and a 60 s table, frozen when their period
 * ends, as the levels do), the whole record() with attributes for scale, the cost of working the
 * attributes out (`describeInput`: caption script from the text, the rest from numbers the worker
 * reports), and the once-a-minute cost of writing a finished minute into the history.
 * Run: node --import tsx bench/slice-cost.ts [--seconds 120] [--rate 50] [--rounds 5]
 */
import { ATTRIBUTE_COUNT, describeInput, sliceIndices, type InputAttributes } from '../main/telemetry/input-slices.ts';
import { LiveStats, type RequestSample } from '../main/telemetry/live-stats.ts';
import type { NormalisedSample } from '../main/telemetry/second-buckets.ts';
import { SliceTable } from '../main/telemetry/slice-cells.ts';
import { writeJsonFlag } from './support/json-flag.ts';
import { seededDraws, syntheticSample } from './synthetic-checks.ts';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const SECONDS = flag('seconds', 120);
const RATE = flag('rate', 50);
const ROUNDS = flag('rounds', 5);
const T0 = 1_700_000_040_000; // a minute boundary

const draws = seededDraws(7);
const { random } = draws;
const CAPTIONS = [
  'two dogs play in the snow near a wooden fence',
  'a man riding a bicycle down a busy city street while holding an umbrella',
  '两只狗在雪地里玩耍',
  '公園のベンチに座っている女性',
  'un homme et une femme avec un chien dans la rue',
  'people at a concert',
];
const FORMATS = ['jpeg', 'jpeg', 'png', 'webp', 'gif', 'tiff'];

interface Check {
  sample: RequestSample;
  text: string;
  premise: string | undefined;
  format: string;
  tokens: number;
  width: number;
  height: number;
}

/** Pre-built checks, reused round-robin so the timing measures LiveStats and not the generator. */
const POOL: Check[] = Array.from({ length: 20_000 }, (_, i) => {
  const sample = syntheticSample(i, draws);
  const text = CAPTIONS[i % CAPTIONS.length]!;
  const side = [320, 640, 1280, 2560][Math.floor(random() * 4)]!;
  return {
    sample,
    text,
    premise: random() < 0.2 ? 'a photo taken outdoors' : undefined,
    format: FORMATS[i % FORMATS.length]!,
    tokens: 3 + Math.floor(random() * 40),
    width: side,
    height: Math.round(side * 0.75),
  };
});
/** What the service would pass: the caption and premise, the sniffed format, the worker's token count and image size. */
const factsOf = (c: Check) => ({
  text: c.text,
  premise: c.premise,
  imageFormat: c.format,
  captionTokens: c.tokens,
  imageWidth: c.width,
  imageHeight: c.height,
});
const ATTRIBUTES: InputAttributes[] = POOL.map((c) => describeInput(factsOf(c)));

/** µs per check of the slicing work alone (see the header), over SECONDS seconds at RATE checks/s. */
function slicingCost(): number {
  const sample: NormalisedSample = {
    resultIndex: 0,
    statusCode: 200,
    outcome: 'success',
    latencyMs: 0,
    stages: undefined,
    slices: new Uint8Array(ATTRIBUTE_COUNT),
  };
  let tenSeconds = new SliceTable();
  let minute = new SliceTable();
  let k = 0;
  const start = performance.now();
  for (let s = 0; s < SECONDS; s++) {
    if (s % 10 === 0) {
      tenSeconds.freeze();
      tenSeconds = new SliceTable();
    }
    if (s % 60 === 0) {
      minute.freeze();
      minute = new SliceTable();
    }
    for (let i = 0; i < RATE; i++) {
      const check = POOL[k % POOL.length]!.sample;
      const ok = check.statusCode === 200;
      sample.outcome = ok ? 'success' : 'client_error';
      sample.latencyMs = check.latencyMs;
      sample.stages = check.stages;
      sliceIndices(ATTRIBUTES[k % POOL.length], sample.slices);
      tenSeconds.add(sample);
      minute.add(sample);
      k++;
    }
  }
  return ((performance.now() - start) * 1000) / (SECONDS * RATE);
}

/** µs per record() over SECONDS seconds at RATE checks/s, with or without attributes. */
function recordCost(sliced: boolean): number {
  let nowMs = T0;
  const stats = new LiveStats({ now: () => nowMs });
  let k = 0;
  const start = performance.now();
  for (let s = 0; s < SECONDS; s++) {
    for (let i = 0; i < RATE; i++) {
      nowMs += 1000 / RATE;
      const check = POOL[k % POOL.length]!;
      check.sample.endedAtMs = nowMs;
      check.sample.attributes = sliced ? ATTRIBUTES[k % POOL.length] : undefined;
      stats.record(check.sample);
      k++;
    }
  }
  return ((performance.now() - start) * 1000) / (SECONDS * RATE);
}

function describeCost(): number {
  const n = 200_000;
  let sink = 0;
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const c = POOL[i % POOL.length]!;
    const a = describeInput(factsOf(c));
    sink += a.imagePixels ?? 0;
  }
  if (sink < 0) console.log(sink);
  return ((performance.now() - start) * 1000) / n;
}

/** ms to encode one finished minute into the history (at RATE checks/s, every attribute sliced). */
function minuteCost(): number {
  let nowMs = T0;
  const stats = new LiveStats({ now: () => nowMs });
  const times: number[] = [];
  let k = 0;
  for (let minute = 0; minute < 10; minute++) {
    for (let i = 0; i < 60 * RATE; i++) {
      nowMs += 1000 / RATE;
      const check = POOL[k % POOL.length]!;
      check.sample.endedAtMs = nowMs;
      check.sample.attributes = ATTRIBUTES[k % POOL.length];
      // The first request of a minute pays for encoding the previous one: time that one alone.
      const t = performance.now();
      stats.record(check.sample);
      if (i === 0 && minute > 0) times.push(performance.now() - t);
      k++;
    }
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
recordCost(true); // warm up
slicingCost();
const record: number[] = [];
const slicing: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  record.push(recordCost(true));
  slicing.push(slicingCost());
}
const describe = describeCost();
const result = {
  command: `node --import tsx bench/slice-cost.ts ${process.argv.slice(2).join(' ')}`.trim(),
  rate_per_s: RATE,
  seconds: SECONDS,
  rounds: ROUNDS,
  slicing_us_per_check: +median(slicing).toFixed(3),
  record_us_per_check_with_attributes: +median(record).toFixed(3),
  describe_input_us_per_check: +describe.toFixed(3),
  minute_to_history_ms: +minuteCost().toFixed(3),
  rounds_us: { slicing: slicing.map((x) => +x.toFixed(3)), record: record.map((x) => +x.toFixed(3)) },
};
console.log(JSON.stringify(result, null, 2));
writeJsonFlag(result);
