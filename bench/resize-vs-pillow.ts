/**
 * The bicubic resize against Pillow on the same pixels, in one run (issue 16: "at least 1.5x faster
 * than Pillow 9 on the same 8 photos, one core each").
 *
 *   taskset -c 0 node --import tsx bench/resize-vs-pillow.ts [--reps 9] [--size 480] [--no-js] [--json FILE]
 *
 * Eight photo-like images (gradients, shapes and seeded noise; 640x480 to 4000x3000, landscape and
 * portrait) are made in memory and written as raw RGB to a temporary folder. Pillow runs in one
 * long-lived Python process (bench/resize-pillow.py, Debian's python3-pil), which inherits this
 * process's CPU affinity, so `taskset -c 0` pins both sides to the same core; the two never run at
 * the same time. Each repetition times ours then Pillow's on each image in turn (alternating, so
 * drift in the machine's load hits both), and the medians are compared. Pillow's time is the
 * `Image.resize` call alone (measured in Python); ours is the `resizeBicubicPil` call alone (the
 * WebAssembly SIMD path; the plain-JavaScript fallback is timed too, for reference, unless --no-js).
 * Both wall time and the process's CPU time are recorded: on a shared machine the CPU time is the
 * steadier figure (it leaves out the time another process held the core). The outputs are compared
 * byte for byte: a difference fails the run (exit 1). Needs Debian's python3-pil (/usr/bin/python3,
 * or --python / $PILLOW_PYTHON).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { resizeBackend, resizeBicubicJs, resizeBicubicPil } from '../main/inference/pil-bicubic-resize.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));

const SIZES: Array<[number, number]> = [
  [640, 480],
  [800, 600],
  [1024, 768],
  [1280, 960],
  [1920, 1080],
  [1080, 1920],
  [3024, 4032],
  [4000, 3000],
];

interface Options {
  reps: number;
  size: number;
  js: boolean;
  json?: string;
  python: string;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = { reps: 9, size: 480, js: true, python: process.env.PILLOW_PYTHON ?? '/usr/bin/python3' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--reps') opts.reps = Number(next());
    else if (a === '--size') opts.size = Number(next());
    else if (a === '--json') opts.json = next();
    else if (a === '--no-js') opts.js = false;
    else if (a === '--python') opts.python = next();
    else throw new Error(`unknown option ${a}`);
  }
  if (!Number.isInteger(opts.reps) || opts.reps < 1) throw new Error('--reps must be a positive integer');
  return opts;
}

/** A photo-like RGB image: an SVG scene (gradient, shapes) rendered by sharp, plus seeded noise. */
async function photoLike(width: number, height: number, seed: number): Promise<Uint8Array> {
  let s = seed >>> 0 || 1;
  const rnd = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
  const c = (): string => `rgb(${Math.floor(rnd() * 255)},${Math.floor(rnd() * 255)},${Math.floor(rnd() * 255)})`;
  const shapes = Array.from({ length: 12 }, () => {
    const r = Math.floor((0.05 + rnd() * 0.2) * Math.min(width, height));
    return `<circle cx="${Math.floor(rnd() * width)}" cy="${Math.floor(rnd() * height)}" r="${r}" fill="${c()}" fill-opacity="0.7"/>`;
  }).join('');
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
    `<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="${c()}"/>` +
    `<stop offset="1" stop-color="${c()}"/></linearGradient></defs>` +
    `<rect width="100%" height="100%" fill="url(#g)"/>${shapes}</svg>`;
  const { data } = await sharp(Buffer.from(svg)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const px = new Uint8Array(data.buffer, data.byteOffset, data.length);
  for (let i = 0; i < px.length; i++) {
    const v = px[i]! + Math.floor((rnd() - 0.5) * 24);
    px[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
  return px;
}

interface PillowAnswer {
  ms: number[];
  cpu_ms: number[];
  pil: string;
}

/** The long-lived Pillow process: one JSON request per line, one JSON answer per line. */
function startPillow(python: string): { ask: (req: object) => Promise<PillowAnswer>; close: () => void } {
  const child = spawn(python, [path.join(HERE, 'resize-pillow.py')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const waiting: Array<{ resolve: (v: PillowAnswer) => void; reject: (e: Error) => void }> = [];
  lines.on('line', (line) => waiting.shift()?.resolve(JSON.parse(line) as PillowAnswer));
  const fail = (err: Error): void => {
    for (const w of waiting.splice(0)) w.reject(err);
  };
  child.on('error', fail);
  child.on('exit', (code) => fail(new Error(`${python} bench/resize-pillow.py exited with ${code} (is python3-pil installed?)`)));
  return {
    ask: (req) =>
      new Promise((resolve, reject) => {
        waiting.push({ resolve, reject });
        child.stdin!.write(`${JSON.stringify(req)}\n`);
      }),
    close: () => child.stdin!.end(),
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function cpusAllowed(): string {
  try {
    return /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '?';
  } catch {
    return '?';
  }
}

/** Wall and CPU milliseconds of one call. */
function timed(fn: () => void): { ms: number; cpuMs: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  fn();
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { ms, cpuMs: (c.user + c.system) / 1000 };
}

interface Samples {
  ms: number[];
  cpuMs: number[];
}

const samples = (): Samples => ({ ms: [], cpuMs: [] });
const round2 = (x: number): number => Math.round(x * 100) / 100;

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const cpus = cpusAllowed();
  if (cpus.includes(',') || cpus.includes('-')) {
    console.warn(`warning: this process may run on CPUs ${cpus}; run it under \`taskset -c 0\` to pin both sides to one core`);
  }
  const backend = resizeBackend();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'resize-vs-pillow-'));
  const pillow = startPillow(opts.python);
  try {
    const images = [];
    for (const [i, [w, h]] of SIZES.entries()) {
      const pixels = await photoLike(w, h, 1000 + i);
      const file = path.join(dir, `${w}x${h}.rgb`);
      await writeFile(file, pixels);
      images.push({ w, h, pixels, file, ours: samples(), js: samples(), pil: samples() });
    }

    // Warm-up (JIT on our side, page cache on both) and the bit-exactness check.
    let pilVersion = '?';
    for (const img of images) {
      const ours = resizeBicubicPil(img.pixels, img.w, img.h, 3, opts.size, opts.size);
      const js = opts.js ? resizeBicubicJs(img.pixels, img.w, img.h, 3, opts.size, opts.size) : ours;
      const save = `${img.file}.pil`;
      pilVersion = (await pillow.ask({ path: img.file, width: img.w, height: img.h, out: opts.size, reps: 1, save })).pil;
      const theirs = new Uint8Array(await readFile(save));
      for (const [name, mine] of [
        [backend, ours],
        ['js', js],
      ] as const) {
        let differing = 0;
        for (let i = 0; i < mine.length; i++) if (mine[i] !== theirs[i]) differing++;
        if (mine.length !== theirs.length || differing > 0) {
          throw new Error(`${img.w}x${img.h}: the ${name} output differs from Pillow's in ${differing} of ${theirs.length} bytes`);
        }
      }
    }

    for (let r = 0; r < opts.reps; r++) {
      for (const img of images) {
        const add = (into: Samples, t: { ms: number; cpuMs: number }): void => {
          into.ms.push(t.ms);
          into.cpuMs.push(t.cpuMs);
        };
        add(
          img.ours,
          timed(() => resizeBicubicPil(img.pixels, img.w, img.h, 3, opts.size, opts.size)),
        );
        if (opts.js)
          add(
            img.js,
            timed(() => resizeBicubicJs(img.pixels, img.w, img.h, 3, opts.size, opts.size)),
          );
        const answer = await pillow.ask({ path: img.file, width: img.w, height: img.h, out: opts.size, reps: 1 });
        add(img.pil, { ms: answer.ms[0]!, cpuMs: answer.cpu_ms[0]! });
      }
    }

    const rows = images.map((img) => {
      const ours = median(img.ours.ms);
      const oursCpu = median(img.ours.cpuMs);
      const pil = median(img.pil.ms);
      const pilCpu = median(img.pil.cpuMs);
      return {
        image: `${img.w}x${img.h}`,
        oursMs: round2(ours),
        pillowMs: round2(pil),
        speedup: round2(pil / ours),
        oursCpuMs: round2(oursCpu),
        pillowCpuMs: round2(pilCpu),
        cpuSpeedup: round2(pilCpu / oursCpu),
        ...(opts.js ? { jsMs: round2(median(img.js.ms)), jsCpuMs: round2(median(img.js.cpuMs)) } : {}),
      };
    });
    const geomean = (xs: number[]): number => round2(Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length));
    const report = {
      command:
        `taskset -c ${cpus} node --import tsx bench/resize-vs-pillow.ts --reps ${opts.reps} --size ${opts.size}` +
        (opts.js ? '' : ' --no-js'),
      cpus,
      node: process.version,
      backend,
      pillow: pilVersion,
      output: `${opts.size}x${opts.size} RGB, BICUBIC`,
      reps: opts.reps,
      bitExact: true,
      rows,
      minSpeedup: Math.min(...rows.map((r) => r.speedup)),
      geomeanSpeedup: geomean(rows.map((r) => r.speedup)),
      minCpuSpeedup: Math.min(...rows.map((r) => r.cpuSpeedup)),
      geomeanCpuSpeedup: geomean(rows.map((r) => r.cpuSpeedup)),
    };
    const f = (x: number, w: number): string => x.toFixed(2).padStart(w);
    console.log(
      `resize to ${report.output}: ours (${backend}) vs Pillow ${pilVersion}, medians of ${opts.reps} alternating runs, CPUs ${cpus}`,
    );
    const jsHeader = opts.js ? ' |  plain JS: wall ms  CPU ms' : '';
    console.log(`image       |  wall ms: ours  Pillow  Pillow/ours |  CPU ms: ours  Pillow  Pillow/ours${jsHeader}`);
    for (const r of rows) {
      const js = r.jsMs !== undefined ? ` | ${f(r.jsMs, 17)} ${f(r.jsCpuMs!, 7)}` : '';
      console.log(
        `${r.image.padEnd(11)} | ${f(r.oursMs, 14)} ${f(r.pillowMs, 7)} ${f(r.speedup, 11)}x | ` +
          `${f(r.oursCpuMs, 12)} ${f(r.pillowCpuMs, 7)} ${f(r.cpuSpeedup, 11)}x${js}`,
      );
    }
    console.log(
      `bit-exact with Pillow on all ${rows.length} images; Pillow/ours wall: min ${report.minSpeedup}x, geometric mean ` +
        `${report.geomeanSpeedup}x; CPU: min ${report.minCpuSpeedup}x, geometric mean ${report.geomeanCpuSpeedup}x ` +
        `(target: at least 1.5x on every image: ${report.minSpeedup >= 1.5 ? 'met' : 'NOT met'})`,
    );
    if (opts.json) await writeFile(opts.json, `${JSON.stringify(report, null, 2)}\n`);
  } finally {
    pillow.close();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
