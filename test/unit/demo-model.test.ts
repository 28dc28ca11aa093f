import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Tokenizer } from '@huggingface/tokenizers';
import * as ort from 'onnxruntime-node';
import { buildFeeds, logitsRow, syntheticImage, type GraphPair } from '../../models/tools/demo-model-feeds.ts';
import { writeDemoModelDirectory } from '../../models/tools/demo-model-directory.ts';

const DEMO_DIR = fileURLToPath(new URL('../../models/demo/', import.meta.url));

interface FileEntry {
  path: string;
  sha256: string;
  bytes: number;
}
interface Manifest {
  demo: boolean;
  name: string;
  image: { size: number };
  text: { prompt: string; prompt_with_premise: string; bos_id: number; pad_id: number; eos_id: number };
  answers: { YES: number; NO: number; MAYBE: number };
  files: { model: FileEntry; tokenizer: FileEntry; tokenizer_config?: FileEntry };
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const readJson = async <T>(path: string): Promise<T> => JSON.parse(await readFile(path, 'utf8')) as T;

describe('demo model directory', () => {
  let manifest: Manifest;
  let tokenizer: Tokenizer;
  let session: ort.InferenceSession;

  before(async () => {
    manifest = await readJson<Manifest>(join(DEMO_DIR, 'model.json'));
    tokenizer = new Tokenizer(
      await readJson<object>(join(DEMO_DIR, manifest.files.tokenizer.path)),
      manifest.files.tokenizer_config === undefined ? {} : await readJson<object>(join(DEMO_DIR, manifest.files.tokenizer_config.path)),
    );
    session = await ort.InferenceSession.create(join(DEMO_DIR, manifest.files.model.path), {
      executionProviders: ['cpu'],
    });
  });

  after(async () => {
    await session?.release();
  });

  it('regenerates byte-identical files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'demo-model-'));
    try {
      await writeDemoModelDirectory(dir);
      const committed = (await readdir(DEMO_DIR)).sort();
      assert.deepEqual((await readdir(dir)).sort(), committed);
      for (const name of committed) {
        assert.equal(
          sha256(await readFile(join(dir, name))),
          sha256(await readFile(join(DEMO_DIR, name))),
          `${name} differs from models/demo/${name}: run npm run model:demo`,
        );
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('has a manifest whose checksums and sizes match the files', async () => {
    assert.equal(manifest.demo, true);
    assert.equal(manifest.name, 'ofa-ve-demo');
    const entries = Object.values(manifest.files);
    assert.equal(entries.length, 3);
    for (const entry of entries) {
      const bytes = await readFile(join(DEMO_DIR, entry.path));
      assert.equal(bytes.byteLength, entry.bytes, `${entry.path} size`);
      assert.equal(sha256(bytes), entry.sha256, `${entry.path} sha256`);
    }
  });

  it('has the inputs and output of the contract', () => {
    assert.deepEqual(session.inputNames, ['pixel_values', 'input_ids', 'attention_mask', 'decoder_input_ids', 'decoder_attention_mask']);
    assert.deepEqual(session.outputNames, ['logits']);
    const shapes = Object.fromEntries(
      [...session.inputMetadata, ...session.outputMetadata].map((m) => [m.name, m.isTensor ? [m.type, ...m.shape] : ['not a tensor']]),
    );
    const size = manifest.image.size;
    const vocab = tokenizer.get_vocab(true).size;
    assert.deepEqual(shapes, {
      pixel_values: ['float32', 'batch', 3, size, size],
      input_ids: ['int64', 'batch', 'enc_len'],
      attention_mask: ['int64', 'batch', 'enc_len'],
      decoder_input_ids: ['int64', 'batch', 'dec_len'],
      decoder_attention_mask: ['int64', 'batch', 'dec_len'],
      logits: ['float32', 'batch', vocab],
    });
  });

  it('gives each row of a padded batch the logits of that pair alone', async () => {
    const { text, image } = manifest;
    const pair = (seed: number, prompt: string): GraphPair => ({
      pixels: syntheticImage(seed, image.size),
      encoderIds: [text.bos_id, ...tokenizer.encode(prompt, { add_special_tokens: false }).ids, text.eos_id],
    });
    const pairs = [
      pair(1, text.prompt.replace('{text}', 'two dogs play in the snow')),
      pair(2, text.prompt.replace('{text}', 'a cat')),
      pair(3, text.prompt_with_premise.replace('{premise}', 'a man is riding a horse').replace('{text}', 'an animal is outdoors')),
    ];
    assert.equal(new Set(pairs.map((p) => p.encoderIds.length)).size, 3, 'three different lengths');

    const run = async (batch: GraphPair[]): Promise<ort.Tensor> =>
      (await session.run(buildFeeds(batch, image.size, text.pad_id))).logits as ort.Tensor;
    const batched = await run(pairs);
    assert.deepEqual(batched.dims.slice(0, 1), [3]);
    for (let row = 0; row < pairs.length; row += 1) {
      const alone = logitsRow(await run([pairs[row] as GraphPair]), 0);
      const inBatch = logitsRow(batched, row);
      let worst = 0;
      for (let i = 0; i < alone.length; i += 1) {
        worst = Math.max(worst, Math.abs((alone[i] as number) - (inBatch[i] as number)));
      }
      assert.ok(worst <= 1e-4, `row ${row}: max |batch - single| = ${worst}`);
    }
  });

  it('has " yes", " no" and " maybe" as single tokens with the manifest ids', () => {
    for (const [label, word] of [
      ['YES', ' yes'],
      ['NO', ' no'],
      ['MAYBE', ' maybe'],
    ] as const) {
      assert.deepEqual(tokenizer.encode(word, { add_special_tokens: false }).ids, [manifest.answers[label]], word);
    }
    const ids = tokenizer.encode(manifest.text.prompt.replace('{text}', 'two dogs play in the snow')).ids;
    assert.equal(ids[0], manifest.text.bos_id);
    assert.equal(ids.at(-1), manifest.text.eos_id);
  });
});
