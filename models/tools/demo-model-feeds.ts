import type * as ort from 'onnxruntime-node';
import { buildModelFeeds } from '../../main/inference/model-feeds.ts';
import { SeededRandom } from './seeded-random.ts';

/**
 * Raw-graph helpers for checking a model directory without the app: right-padded batches in the
 * contract's layout, and synthetic normalised images. Used by verify-demo-model.ts and the tests.
 */

/** One image–text pair: pixels already normalised ([3, size, size]) and encoder ids `[bos] + BPE + [eos]`. */
export interface GraphPair {
  readonly pixels: Float32Array;
  readonly encoderIds: readonly number[];
}

/**
 * The five contract inputs for `pairs`, as the app builds them (main/inference/model-feeds.ts):
 * right-padded with `padId`, decoder ids the encoder ids minus eos.
 */
export function buildFeeds(pairs: readonly GraphPair[], imageSize: number, padId: number): Record<string, ort.Tensor> {
  const plane = 3 * imageSize * imageSize;
  const pixels = new Float32Array(pairs.length * plane);
  pairs.forEach((pair, row) => {
    if (pair.pixels.length !== plane) throw new Error(`pair ${row}: expected ${plane} pixel values`);
    pixels.set(pair.pixels, row * plane);
  });
  return buildModelFeeds(pixels, pairs, imageSize, padId);
}

/**
 * A normalised synthetic image in [-1, 1]: a random base colour, a random gradient and some noise,
 * so different seeds give images that differ in colour, layout and texture.
 */
export function syntheticImage(seed: number, imageSize: number): Float32Array {
  const rng = new SeededRandom(seed);
  const out = new Float32Array(3 * imageSize * imageSize);
  const noise = rng.uniform() * 0.5;
  for (let c = 0; c < 3; c += 1) {
    const base = rng.uniform() * 2 - 1;
    const gx = rng.uniform() * 2 - 1;
    const gy = rng.uniform() * 2 - 1;
    for (let y = 0; y < imageSize; y += 1) {
      for (let x = 0; x < imageSize; x += 1) {
        const v = base + (gx * x + gy * y) / imageSize + (rng.uniform() - 0.5) * noise;
        out[(c * imageSize + y) * imageSize + x] = Math.max(-1, Math.min(1, v));
      }
    }
  }
  return out;
}

/** Row `row` of a [batch, vocab] logits tensor. */
export function logitsRow(logits: ort.Tensor, row: number): Float32Array {
  const vocab = logits.dims[1] as number;
  return (logits.data as Float32Array).subarray(row * vocab, (row + 1) * vocab);
}
