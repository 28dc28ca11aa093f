/**
 * A synthetic but plausible stream of checks for the telemetry tests: a mix of English, CJK and
 * other captions, image sizes and formats, premises, a few refused checks, and stage timings
 * that depend on the input (big images decode slower). `cjkTokenizeMs` makes tokenization of CJK
 * captions slower, and nothing else: the regression the comparison must find.
 */
import type { InputAttributes, RequestSample } from '../../../main/telemetry/live-stats.ts';
import { uniform01 } from '../../../models/tools/seeded-random.ts';

export interface MixOptions {
  /** Typical tokenize time of a CJK caption (default 0.4 ms, like every other caption). */
  cjkTokenizeMs?: number;
  /** Share of CJK captions (default 0.3). */
  cjkShare?: number;
}

export interface GeneratedCheck extends RequestSample {
  attributes: InputAttributes;
}

export function checkMix(seed: number, options: MixOptions = {}): () => GeneratedCheck {
  const random = uniform01(seed);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const cjkShare = options.cjkShare ?? 0.3;
  const cjkTokenizeMs = options.cjkTokenizeMs ?? 0.4;
  let n = 0;
  return () => {
    const r = random();
    const script = r < cjkShare ? 'cjk' : r < 0.93 ? 'english' : 'other';
    const big = random() < 0.4;
    const attributes: InputAttributes = {
      captionScript: script,
      captionTokens: script === 'cjk' ? 14 + Math.floor(random() * 24) : 4 + Math.floor(random() * 16),
      imagePixels: big ? 1920 * 1080 : 640 * 480,
      imageFormat: random() < 0.7 ? 'jpeg' : 'png',
      premise: random() < 0.2,
    };
    const id = `c${n++}`;
    if (random() < 0.02) {
      return { id, endedAtMs: 0, latencyMs: 1 + random(), statusCode: 400, resultType: 'ERROR', errorCode: 'INVALID_IMAGE', attributes };
    }
    const stages = {
      queue: Math.exp(0.3 + 0.8 * gaussian()),
      decode_image: (big ? 12 : 4) * Math.exp(0.2 * gaussian()),
      tokenize: (script === 'cjk' ? cjkTokenizeMs : 0.4) * Math.exp(0.25 * gaussian()),
      inference: 45 * Math.exp(0.15 * gaussian()),
      postprocess: 0.2 * Math.exp(0.1 * gaussian()),
    };
    const latencyMs = Object.values(stages).reduce((a, b) => a + b, 0) + 0.5 * Math.exp(0.2 * gaussian());
    const resultType = (['YES', 'NO', 'MAYBE'] as const)[Math.floor(random() * 3)]!;
    return { id, endedAtMs: 0, latencyMs, statusCode: 200, resultType, stages, batchSize: 1 + Math.floor(random() * 4), attributes };
  };
}

/** A fake epoch-ms clock that only moves when told. */
export class Clock {
  constructor(public ms: number) {}
  readonly now = (): number => this.ms;
}

/**
 * Records `perSecond` checks a second for `seconds` seconds from the clock's next whole second,
 * the clock following them. Returns what was recorded.
 */
export function drive(
  record: (sample: RequestSample) => void,
  clock: Clock,
  next: () => GeneratedCheck,
  seconds: number,
  perSecond: number,
): GeneratedCheck[] {
  const out: GeneratedCheck[] = [];
  const first = Math.floor(clock.ms / 1000) + 1;
  for (let s = 0; s < seconds; s++) {
    for (let i = 0; i < perSecond; i++) {
      clock.ms = (first + s) * 1000 + Math.floor(((i + 0.5) * 1000) / perSecond);
      const check = next();
      check.endedAtMs = clock.ms;
      record(check);
      out.push(check);
    }
  }
  return out;
}
