/**
 * Deterministic random numbers for the demo model's weights.
 *
 * Only 32-bit integer operations and + - * / are used (no Math.sin/exp/log), so the same seed gives
 * the same bits on every platform and Node version; that is what keeps model.onnx byte-identical.
 */

/** mulberry32: a small, well-mixed 32-bit generator; returns an integer in [0, 2^32). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** sqrt(3): the Irwin–Hall sum of 4 uniforms has variance 4/12, so this rescales it to 1. */
const SQRT3 = 1.7320508075688772;

export class SeededRandom {
  private readonly next: () => number;

  constructor(seed: number) {
    this.next = mulberry32(seed);
  }

  /** Uniform in [0, 1), exactly representable (a 32-bit integer divided by 2^32). */
  uniform(): number {
    return this.next() / 4294967296;
  }

  /** Approximately N(0, std²): centred sum of four uniforms (bounded, bell-shaped, exact arithmetic). */
  normalish(std: number): number {
    const sum = this.uniform() + this.uniform() + this.uniform() + this.uniform();
    return (sum - 2) * SQRT3 * std;
  }

  /** A Float32Array of `count` normal-ish values; float32 rounding is IEEE round-to-nearest everywhere. */
  normalArray(count: number, std: number): Float32Array {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i += 1) out[i] = this.normalish(std);
    return out;
  }
}

/** Uniform floats in [0, 1) from mulberry32, for seeded test and benchmark data. */
export function uniform01(seed: number): () => number {
  const next = mulberry32(seed);
  return () => next() / 4294967296;
}
