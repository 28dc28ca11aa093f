/**
 * The model's five contract inputs (onnx-session.ts checks the graph declares them) for a batch:
 * pixels [n, 3, size, size] as given, and the encoder and decoder ids right-padded with the pad id,
 * with their attention masks. The one place the input tensors are built: the engine runs them, and
 * models/tools/ checks a model directory with them.
 */
import * as ort from 'onnxruntime-node';
import { CheckError } from '../errors.ts';

/** A pair's token ids: `[bos] + BPE(prompt) + [eos]`. */
export interface EncodedRow {
  readonly encoderIds: readonly number[];
}

/**
 * Input tensors for `rows`, whose pixels lie in `pixels` row after row (row i at i · 3 · size²; a
 * longer buffer is fine: its first rows are used as they are, not copied).
 */
export function buildModelFeeds(
  pixels: Float32Array,
  rows: readonly EncodedRow[],
  size: number,
  padId: number,
): Record<string, ort.Tensor> {
  const n = rows.length;
  const plane = 3 * size * size;
  if (pixels.length < n * plane) {
    throw new CheckError('INTERNAL', `a batch of ${n} needs ${n * plane} pixel values, the tensor has ${pixels.length}`);
  }
  // A view of the first n rows: the same memory, not a copy.
  const batchPixels = pixels.length === n * plane ? pixels : pixels.subarray(0, n * plane);

  const encLen = Math.max(...rows.map((p) => p.encoderIds.length));
  const decLen = encLen - 1;
  const inputIds = new BigInt64Array(n * encLen).fill(BigInt(padId));
  const attention = new BigInt64Array(n * encLen);
  const decoderIds = new BigInt64Array(n * decLen).fill(BigInt(padId));
  const decoderAttention = new BigInt64Array(n * decLen);
  rows.forEach((pair, row) => {
    const ids = pair.encoderIds;
    ids.forEach((id, i) => {
      inputIds[row * encLen + i] = BigInt(id);
      attention[row * encLen + i] = 1n;
      // The decoder sees `[bos] + BPE(prompt)`: the encoder ids without the final eos.
      if (i < ids.length - 1) {
        decoderIds[row * decLen + i] = BigInt(id);
        decoderAttention[row * decLen + i] = 1n;
      }
    });
  });
  return {
    pixel_values: new ort.Tensor('float32', batchPixels, [n, 3, size, size]),
    input_ids: new ort.Tensor('int64', inputIds, [n, encLen]),
    attention_mask: new ort.Tensor('int64', attention, [n, encLen]),
    decoder_input_ids: new ort.Tensor('int64', decoderIds, [n, decLen]),
    decoder_attention_mask: new ort.Tensor('int64', decoderAttention, [n, decLen]),
  };
}
