/**
 * Checks a generated model directory with onnxruntime-node (CPU):
 *
 *   node --import tsx models/tools/verify-demo-model.ts [--model DIR]     (default: models/demo)
 *
 * interface names and shapes, batch-vs-single equality, that all three labels occur over a few
 * synthetic images and captions, and the time of one batch-1 run.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Tokenizer } from '@huggingface/tokenizers';
import * as ort from 'onnxruntime-node';
import { buildFeeds, logitsRow, syntheticImage, type GraphPair } from './demo-model-feeds.ts';

const defaultDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'demo');
const { values } = parseArgs({ options: { model: { type: 'string', default: defaultDir } } });
const dir = resolve(values.model ?? defaultDir);

interface FileEntry {
  path: string;
  sha256: string;
  bytes: number;
}
interface Manifest {
  image: { size: number };
  text: { prompt: string; prompt_with_premise: string; bos_id: number; pad_id: number; eos_id: number };
  answers: { YES: number; NO: number; MAYBE: number };
  files: Record<string, FileEntry>;
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`verify failed: ${what}`);
  console.log(`ok  ${what}`);
}

const manifest = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as Manifest;
for (const entry of Object.values(manifest.files)) {
  const bytes = await readFile(join(dir, entry.path));
  const sha = createHash('sha256').update(bytes).digest('hex');
  check(sha === entry.sha256 && bytes.byteLength === entry.bytes, `${entry.path}: sha256 and size match the manifest`);
}

const tokenizer = new Tokenizer(
  JSON.parse(await readFile(join(dir, 'tokenizer.json'), 'utf8')) as object,
  JSON.parse(await readFile(join(dir, 'tokenizer_config.json'), 'utf8')) as object,
);
const bpe = (text: string): number[] => tokenizer.encode(text, { add_special_tokens: false }).ids;
const sample = manifest.text.prompt.replace('{text}', 'two dogs play in the snow');
const sampleEncoding = tokenizer.encode(sample);
console.log(`    ${JSON.stringify(sample)} → ${JSON.stringify(sampleEncoding.ids)}`);
console.log(`    tokens ${JSON.stringify(sampleEncoding.tokens)}`);
for (const [label, word] of [
  ['YES', ' yes'],
  ['NO', ' no'],
  ['MAYBE', ' maybe'],
] as const) {
  const ids = bpe(word);
  check(ids.length === 1 && ids[0] === manifest.answers[label], `"${word}" is the single token ${manifest.answers[label]}`);
}

const size = manifest.image.size;
const session = await ort.InferenceSession.create(join(dir, manifest.files.model?.path ?? 'model.onnx'), {
  executionProviders: ['cpu'],
});
const describe = (m: ort.InferenceSession.ValueMetadata): string =>
  m.isTensor ? `${m.name} ${m.type} [${m.shape.join(', ')}]` : `${m.name} (not a tensor)`;
console.log(`    inputs:  ${session.inputMetadata.map(describe).join('; ')}`);
console.log(`    outputs: ${session.outputMetadata.map(describe).join('; ')}`);
const expectedInputs = [
  'pixel_values float32 [batch, 3, 480, 480]'.replaceAll('480', String(size)),
  'input_ids int64 [batch, enc_len]',
  'attention_mask int64 [batch, enc_len]',
  'decoder_input_ids int64 [batch, dec_len]',
  'decoder_attention_mask int64 [batch, dec_len]',
];
check(JSON.stringify(session.inputMetadata.map(describe)) === JSON.stringify(expectedInputs), 'inputs as the contract says');
check(/^logits float32 \[batch, \d+\]$/u.test(session.outputMetadata.map(describe).join()), 'output logits [batch, vocab]');

const pair = (imageSeed: number, text: string, premise?: string): GraphPair => {
  const prompt =
    premise === undefined
      ? manifest.text.prompt.replace('{text}', text)
      : manifest.text.prompt_with_premise.replace('{premise}', premise).replace('{text}', text);
  return { pixels: syntheticImage(imageSeed, size), encoderIds: [manifest.text.bos_id, ...bpe(prompt), manifest.text.eos_id] };
};
const run = async (pairs: GraphPair[]): Promise<ort.Tensor> =>
  (await session.run(buildFeeds(pairs, size, manifest.text.pad_id))).logits as ort.Tensor;

// A batch of three different lengths must give each row exactly its single-pair logits.
const trio = [
  pair(1, 'two dogs play in the snow'),
  pair(2, 'a man'),
  pair(3, 'a woman is reading a book on a bench in the park', 'a person is outdoors'),
];
const batched = await run(trio);
let worst = 0;
for (let row = 0; row < trio.length; row += 1) {
  const alone = logitsRow(await run([trio[row] as GraphPair]), 0);
  const inBatch = logitsRow(batched, row);
  for (let i = 0; i < alone.length; i += 1) worst = Math.max(worst, Math.abs((alone[i] as number) - (inBatch[i] as number)));
}
const lengths = trio.map((p) => p.encoderIds.length).join('/');
check(worst <= 1e-4, `batch of 3 (lengths ${lengths}) equals single runs (max |Δ| ${worst.toExponential(2)})`);

// Labels over a grid of synthetic images and captions: all three must occur.
const captions = [
  'two dogs play in the snow',
  'a man is riding a motorcycle',
  'a cat',
  'people are walking in a busy market at night',
  'it is raining',
  'a red car',
];
const counts = { YES: 0, NO: 0, MAYBE: 0 };
const labels = ['YES', 'NO', 'MAYBE'] as const;
for (let image = 0; image < 6; image += 1) {
  const pairs = captions.map((c) => pair(100 + image, c));
  const logits = await run(pairs);
  const row: string[] = [];
  pairs.forEach((_, r) => {
    const l = logitsRow(logits, r);
    const scores = labels.map((k) => l[manifest.answers[k]] as number);
    const best = scores.indexOf(Math.max(...scores));
    const label = labels[best] as (typeof labels)[number];
    counts[label] += 1;
    const exp = scores.map((s) => Math.exp(s - (scores[best] as number)));
    row.push(`${label}:${((exp[best] as number) / exp.reduce((a, b) => a + b, 0)).toFixed(2)}`);
  });
  console.log(`    image ${image}: ${row.join(' ')}`);
}
check(counts.YES > 0 && counts.NO > 0 && counts.MAYBE > 0, `all three labels occur (${JSON.stringify(counts)})`);

// Batch-1 latency: median of 7 runs after a warm-up.
const one = [pair(7, 'two dogs play in the snow')];
await run(one);
const times: number[] = [];
for (let i = 0; i < 7; i += 1) {
  const t0 = performance.now();
  await run(one);
  times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
console.log(`    batch-1 run: median ${times[3]?.toFixed(1)} ms (min ${times[0]?.toFixed(1)}, max ${times[6]?.toFixed(1)})`);
