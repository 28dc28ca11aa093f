import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEMO_PROMPTS } from './demo-caption-corpus.ts';
import { buildDemoTokenizer, SPECIAL_IDS } from './demo-tokenizer-files.ts';
import { buildDemoTransformer, type DemoTransformerConfig } from './demo-transformer-graph.ts';

export const DEMO_MODEL_NAME = 'ofa-ve-demo';
export const DEMO_MODEL_VERSION = '1.0.0';
/** OFA's recipe (models/README.md), which the runtime applies to every model directory. */
const IMAGE_SIZE = 480;
const PATCH_SIZE = 16;
const MAX_WORDS = 80;
const MAX_TEXT_LENGTH = 1024;

/** The network without its vocabulary size, which the trained tokenizer decides. */
export const DEMO_LAYERS: Omit<DemoTransformerConfig, 'vocabSize'> = {
  dModel: 128,
  heads: 4,
  ffnDim: 512,
  encoderLayers: 2,
  decoderLayers: 1,
  imageSize: IMAGE_SIZE,
  patchSize: PATCH_SIZE,
  maxTextLength: MAX_TEXT_LENGTH,
  // Chosen among seeds 1-40 because its answers are the most balanced over synthetic images
  // and captions (verify-demo-model.ts prints the spread); any seed gives a valid model.
  seed: 5,
  initStd: 0.02,
  queryKeyStd: 0.3,
};

const ONNX_OPSET = 17;
const ONNX_IR_VERSION = 8;

export const DEMO_FILE_NAMES = {
  model: 'model.onnx',
  tokenizer: 'tokenizer.json',
  tokenizer_config: 'tokenizer_config.json',
  manifest: 'model.json',
} as const;

export interface DemoModelSummary {
  readonly outDir: string;
  readonly vocabSize: number;
  readonly mergeCount: number;
  readonly answers: { YES: number; NO: number; MAYBE: number };
  readonly bytes: Record<string, number>;
}

function fileEntry(path: string, content: Uint8Array): { path: string; sha256: string; bytes: number } {
  return { path, sha256: createHash('sha256').update(content).digest('hex'), bytes: content.byteLength };
}

const jsonBytes = (value: unknown): Uint8Array => new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);

/** Writes model.onnx, tokenizer.json, tokenizer_config.json and model.json into `outDir`. */
export async function writeDemoModelDirectory(outDir: string): Promise<DemoModelSummary> {
  const tokenizer = buildDemoTokenizer(MAX_TEXT_LENGTH);
  const graph = buildDemoTransformer({ ...DEMO_LAYERS, vocabSize: tokenizer.vocabSize });
  const modelBytes = graph.toModelBytes({
    irVersion: ONNX_IR_VERSION,
    opset: ONNX_OPSET,
    producerName: 'ofa-ve-console generate-demo-model',
    producerVersion: DEMO_MODEL_VERSION,
    graphName: DEMO_MODEL_NAME,
    docString: 'Demo model with random deterministic weights: its answers are not meaningful.',
  });
  const tokenizerBytes = jsonBytes(tokenizer.tokenizerJson);
  const tokenizerConfigBytes = jsonBytes(tokenizer.tokenizerConfig);
  const [prompt, promptWithPremise] = DEMO_PROMPTS as [string, string];

  const manifest = {
    schema_version: 1,
    name: DEMO_MODEL_NAME,
    version: DEMO_MODEL_VERSION,
    demo: true,
    description:
      'Generated demo model (models/tools/generate-demo-model.ts): a ' +
      `${DEMO_LAYERS.encoderLayers}+${DEMO_LAYERS.decoderLayers}-layer ` +
      `d=${DEMO_LAYERS.dModel} encoder-decoder with random but deterministic weights and its own ` +
      `${tokenizer.vocabSize}-token byte-level BPE. Same interface and preprocessing as OFA SNLI-VE; its answers mean nothing.`,
    image: {
      size: IMAGE_SIZE,
      mean: [0.5, 0.5, 0.5],
      std: [0.5, 0.5, 0.5],
      resample: 'bicubic',
      patch_size: PATCH_SIZE,
    },
    text: {
      max_words: MAX_WORDS,
      max_length: MAX_TEXT_LENGTH,
      prompt,
      prompt_with_premise: promptWithPremise,
      bos_id: SPECIAL_IDS.bos,
      pad_id: SPECIAL_IDS.pad,
      eos_id: SPECIAL_IDS.eos,
    },
    answers: tokenizer.answerIds,
    files: {
      model: fileEntry(DEMO_FILE_NAMES.model, modelBytes),
      tokenizer: fileEntry(DEMO_FILE_NAMES.tokenizer, tokenizerBytes),
      tokenizer_config: fileEntry(DEMO_FILE_NAMES.tokenizer_config, tokenizerConfigBytes),
    },
  };
  const manifestBytes = jsonBytes(manifest);

  await mkdir(outDir, { recursive: true });
  const outputs: Array<[string, Uint8Array]> = [
    [DEMO_FILE_NAMES.model, modelBytes],
    [DEMO_FILE_NAMES.tokenizer, tokenizerBytes],
    [DEMO_FILE_NAMES.tokenizer_config, tokenizerConfigBytes],
    [DEMO_FILE_NAMES.manifest, manifestBytes],
  ];
  for (const [name, bytes] of outputs) await writeFile(join(outDir, name), bytes);

  return {
    outDir,
    vocabSize: tokenizer.vocabSize,
    mergeCount: tokenizer.mergeCount,
    answers: tokenizer.answerIds,
    bytes: Object.fromEntries(outputs.map(([name, bytes]) => [name, bytes.byteLength])),
  };
}
