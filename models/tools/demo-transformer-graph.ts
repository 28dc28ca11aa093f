import { floatTensor, OnnxGraphBuilder } from './onnx-graph-builder.ts';
import { TensorDataType } from './onnx-proto.ts';
import { SeededRandom } from './seeded-random.ts';

/** Shape of the demo network: a tiny OFA-like encoder–decoder with the contract's interface. */
export interface DemoTransformerConfig {
  readonly vocabSize: number;
  readonly dModel: number;
  readonly heads: number;
  readonly ffnDim: number;
  readonly encoderLayers: number;
  readonly decoderLayers: number;
  readonly imageSize: number;
  readonly patchSize: number;
  /** Rows of each text position table: the most encoder (and decoder) ids a pair may have. */
  readonly maxTextLength: number;
  readonly seed: number;
  /** Std of the weight matrices and embeddings. */
  readonly initStd: number;
  /**
   * Std of the query/key projections. Larger than initStd so that attention is peaked rather than a
   * plain average: otherwise every row looks alike and the answer barely depends on image or text.
   */
  readonly queryKeyStd: number;
}

/** Added to the score of every key a query must not see; exp() of it underflows to exactly 0. */
const MASKED = -1e9;
const LN_EPSILON = 1e-5;

/** The ONNX model with the graph of models/README.md; weights come from `config.seed` alone. */
export function buildDemoTransformer(config: DemoTransformerConfig): OnnxGraphBuilder {
  const { dModel: d, heads, ffnDim, imageSize, patchSize, vocabSize } = config;
  if (d % heads !== 0) throw new Error('dModel must be a multiple of heads');
  const headDim = d / heads;
  const grid = imageSize / patchSize;
  if (!Number.isInteger(grid)) throw new Error('imageSize must be a multiple of patchSize');
  const imageTokens = grid * grid;

  const g = new OnnxGraphBuilder();
  const rng = new SeededRandom(config.seed);
  const randomWeight = (name: string, dims: number[], std: number): string =>
    g.weight(
      name,
      dims,
      rng.normalArray(
        dims.reduce((a, b) => a * b, 1),
        std,
      ),
    );
  const constWeight = (name: string, dims: number[], value: number): string =>
    g.weight(name, dims, new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(value));

  const linear = (name: string, x: string, inDim: number, outDim: number, std = config.initStd): string => {
    const w = randomWeight(`${name}.weight`, [inDim, outDim], std);
    const b = constWeight(`${name}.bias`, [outDim], 0);
    return g.op('Add', [g.op('MatMul', [x, w]), b]);
  };
  const layerNorm = (name: string, x: string): string =>
    g.op('LayerNormalization', [x, constWeight(`${name}.weight`, [d], 1), constWeight(`${name}.bias`, [d], 0)], {
      axis: { int: -1 },
      epsilon: { float: LN_EPSILON },
    });
  /** 0 where allowed (1), MASKED where not (0): an additive attention bias. */
  const additiveBias = (allowed: string): string => g.op('Mul', [g.op('Sub', [allowed, g.float(1)]), g.float(-MASKED)], {}, 'bias');

  /** Multi-head attention; `bias` broadcasts to [batch, heads, queries, keys]. */
  const attention = (name: string, xq: string, xkv: string, bias: string): string => {
    const splitHeads = (x: string, perm: number[]): string =>
      g.op('Transpose', [g.op('Reshape', [x, g.int64([0, 0, heads, headDim])])], { perm: { ints: perm } });
    const q = splitHeads(linear(`${name}.q_proj`, xq, d, d, config.queryKeyStd), [0, 2, 1, 3]);
    const k = splitHeads(linear(`${name}.k_proj`, xkv, d, d, config.queryKeyStd), [0, 2, 3, 1]);
    const v = splitHeads(linear(`${name}.v_proj`, xkv, d, d), [0, 2, 1, 3]);
    const scores = g.op('Add', [g.op('Mul', [g.op('MatMul', [q, k]), g.float(1 / Math.sqrt(headDim))]), bias]);
    const context = g.op('MatMul', [g.op('Softmax', [scores], { axis: { int: -1 } }), v]);
    const merged = g.op('Reshape', [g.op('Transpose', [context], { perm: { ints: [0, 2, 1, 3] } }), g.int64([0, 0, d])]);
    return linear(`${name}.out_proj`, merged, d, d);
  };
  const feedForward = (name: string, x: string): string =>
    linear(`${name}.fc2`, g.op('Relu', [linear(`${name}.fc1`, x, d, ffnDim)]), ffnDim, d);
  /** The first `length` rows of a position table ([length] is a 1-element int64 tensor). */
  const positions = (table: string, length: string): string => g.op('Slice', [table, g.int64([0]), length, g.int64([0])]);

  // Inputs, exactly as the contract names them.
  const pixels = g.input('pixel_values', TensorDataType.FLOAT, ['batch', 3, imageSize, imageSize]);
  const inputIds = g.input('input_ids', TensorDataType.INT64, ['batch', 'enc_len']);
  const attentionMask = g.input('attention_mask', TensorDataType.INT64, ['batch', 'enc_len']);
  const decoderIds = g.input('decoder_input_ids', TensorDataType.INT64, ['batch', 'dec_len']);
  const decoderMask = g.input('decoder_attention_mask', TensorDataType.INT64, ['batch', 'dec_len']);

  // Weights are drawn in this fixed order; changing the order changes every later value.
  const tokenEmbedding = randomWeight('embed_tokens.weight', [vocabSize, d], config.initStd);
  const encoderPositions = randomWeight('encoder.embed_positions.weight', [config.maxTextLength, d], config.initStd);
  const imagePositions = randomWeight('encoder.embed_image_positions.weight', [imageTokens, d], config.initStd);
  const decoderPositions = randomWeight('decoder.embed_positions.weight', [config.maxTextLength, d], config.initStd);
  const patchWeight = randomWeight('encoder.patch_embed.weight', [d, 3, patchSize, patchSize], config.initStd);
  const patchBias = constWeight('encoder.patch_embed.bias', [d], 0);

  // Image tokens: 16×16 patches → [batch, 900, d] plus a learned position per patch.
  const patches = g.op('Conv', [pixels, patchWeight, patchBias], {
    kernel_shape: { ints: [patchSize, patchSize] },
    strides: { ints: [patchSize, patchSize] },
  });
  const imageSeq = g.op('Transpose', [g.op('Reshape', [patches, g.int64([0, d, imageTokens])])], { perm: { ints: [0, 2, 1] } });
  const imageEmbeds = g.op('Add', [imageSeq, imagePositions]);

  // Text tokens.
  const encLen = g.op('Shape', [inputIds], { start: { int: 1 }, end: { int: 2 } }, 'enc_len');
  const textTokens = g.op('Gather', [tokenEmbedding, inputIds], { axis: { int: 0 } });
  const textEmbeds = g.op('Add', [textTokens, positions(encoderPositions, encLen)]);
  let x = g.op('Concat', [imageEmbeds, textEmbeds], { axis: { int: 1 } }, 'encoder_in');

  // Encoder key mask: image tokens are always attended, text tokens per attention_mask.
  const batch = g.op('Shape', [inputIds], { start: { int: 0 }, end: { int: 1 } }, 'batch');
  const oneAttr = { value: { tensor: floatTensor([1], Float32Array.of(1)) } };
  const imageAllowed = g.op('ConstantOfShape', [g.op('Concat', [batch, g.int64([imageTokens])], { axis: { int: 0 } })], oneAttr);
  const textAllowed = g.op('Cast', [attentionMask], { to: { int: TensorDataType.FLOAT } });
  const encoderAllowed = g.op('Concat', [imageAllowed, textAllowed], { axis: { int: 1 } });
  const encoderBias = additiveBias(g.op('Unsqueeze', [encoderAllowed, g.int64([1, 2])])); // [batch,1,1,S]

  for (let i = 0; i < config.encoderLayers; i += 1) {
    const p = `encoder.layers.${i}`;
    const h = layerNorm(`${p}.self_attn_layer_norm`, x);
    x = g.op('Add', [x, attention(`${p}.self_attn`, h, h, encoderBias)]);
    x = g.op('Add', [x, feedForward(p, layerNorm(`${p}.final_layer_norm`, x))]);
  }
  const encoderOut = layerNorm('encoder.layer_norm', x);

  // Decoder self-attention mask: causal (lower triangle) and the key padding of decoder_attention_mask.
  const decLen = g.op('Shape', [decoderIds], { start: { int: 1 }, end: { int: 2 } }, 'dec_len');
  const square = g.op('ConstantOfShape', [g.op('Concat', [decLen, decLen], { axis: { int: 0 } })], oneAttr);
  const causal = g.op('Trilu', [square], { upper: { int: 0 } });
  const decoderKeys = g.op('Unsqueeze', [g.op('Cast', [decoderMask], { to: { int: TensorDataType.FLOAT } }), g.int64([1, 2])]);
  const decoderBias = additiveBias(g.op('Mul', [causal, decoderKeys])); // [batch,1,T,T]

  const decoderTokens = g.op('Gather', [tokenEmbedding, decoderIds], { axis: { int: 0 } });
  let y = g.op('Add', [decoderTokens, positions(decoderPositions, decLen)]);
  for (let i = 0; i < config.decoderLayers; i += 1) {
    const p = `decoder.layers.${i}`;
    const h = layerNorm(`${p}.self_attn_layer_norm`, y);
    y = g.op('Add', [y, attention(`${p}.self_attn`, h, h, decoderBias)]);
    y = g.op('Add', [y, attention(`${p}.encoder_attn`, layerNorm(`${p}.encoder_attn_layer_norm`, y), encoderOut, encoderBias)]);
    y = g.op('Add', [y, feedForward(p, layerNorm(`${p}.final_layer_norm`, y))]);
  }

  // The hidden state after each row's last real decoder token: index sum(mask) - 1.
  const lastIndex = g.op('Sub', [g.op('ReduceSum', [decoderMask, g.int64([1])], { keepdims: { int: 0 } }), g.int64([1], true)]);
  const last = g.op('GatherND', [y, g.op('Unsqueeze', [lastIndex, g.int64([1])])], { batch_dims: { int: 1 } }, 'last_hidden');
  const hidden = layerNorm('decoder.layer_norm', last);

  // Output projection tied to the token embedding, as in OFA/BART.
  g.op('Gemm', [hidden, tokenEmbedding], { transB: { int: 1 } }, 'logits', 'logits');
  g.output('logits', TensorDataType.FLOAT, ['batch', vocabSize]);
  return g;
}
