import * as ort from 'onnxruntime-node';

/** Inputs of the model contract's shapes for `n` pairs with prompts of `length` tokens (values fixed, not meaningful). */
export function syntheticFeeds(n: number, length: number, imageSize = 480): Record<string, ort.Tensor> {
  const pixels = new Float32Array(n * 3 * imageSize * imageSize);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.sin(i) * 0.5;
  const ids = (len: number) => new BigInt64Array(n * len).fill(5n);
  const mask = (len: number) => new BigInt64Array(n * len).fill(1n);
  return {
    pixel_values: new ort.Tensor('float32', pixels, [n, 3, imageSize, imageSize]),
    input_ids: new ort.Tensor('int64', ids(length), [n, length]),
    attention_mask: new ort.Tensor('int64', mask(length), [n, length]),
    decoder_input_ids: new ort.Tensor('int64', ids(length - 1), [n, length - 1]),
    decoder_attention_mask: new ort.Tensor('int64', mask(length - 1), [n, length - 1]),
  };
}
