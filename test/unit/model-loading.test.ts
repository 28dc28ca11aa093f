import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CheckError } from '../../main/errors.ts';
import { EntailmentEngine } from '../../main/inference/entailment-engine.ts';
import { OnnxGraphBuilder } from '../../models/tools/onnx-graph-builder.ts';
import { TensorDataType } from '../../models/tools/onnx-proto.ts';
import { DEMO_MODEL_DIR } from '../support/shared-reference.ts';

type Manifest = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** A fresh copy of the demo model that a test may break. */
async function demoCopy(root: string, name: string): Promise<{ dir: string; manifest: Manifest; save: () => Promise<void> }> {
  const dir = path.join(root, name);
  await cp(DEMO_MODEL_DIR, dir, { recursive: true });
  const manifest = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8')) as Manifest;
  return { dir, manifest, save: () => writeFile(path.join(dir, 'model.json'), JSON.stringify(manifest, null, 2)) };
}

/** Replaces a listed file and updates its checksum, so the load gets past the checksum check. */
async function replaceFile(dir: string, manifest: Manifest, key: string, bytes: Uint8Array): Promise<void> {
  const entry = manifest.files[key];
  await writeFile(path.join(dir, entry.path), bytes);
  entry.sha256 = sha256(bytes);
  entry.bytes = bytes.length;
  await writeFile(path.join(dir, 'model.json'), JSON.stringify(manifest, null, 2));
}

async function loadFails(dir: string, pattern: RegExp, provider: 'cpu' | 'cuda' = 'cpu'): Promise<void> {
  await assert.rejects(EntailmentEngine.load(dir, { provider }), (err: unknown) => {
    assert.ok(err instanceof CheckError, String(err));
    assert.equal(err.code, 'MODEL_INVALID');
    assert.match(err.message, pattern);
    return true;
  });
}

describe('loading a model directory', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'ofa-ve-model-'));
  });
  after(async () => rm(root, { recursive: true, force: true }));

  it('loads the demo model and falls back to CPU under auto, saying why', async () => {
    const engine = await EntailmentEngine.load(DEMO_MODEL_DIR, { provider: 'auto' });
    try {
      if (engine.info.provider === 'cpu') assert.match(engine.info.providerFallbackReason ?? '', /CUDA/);
    } finally {
      await engine.close();
    }
  });

  it('names model.json when it is missing, not JSON, or breaks the schema', async () => {
    await loadFails(root, /model\.json: not found/);
    const { dir, manifest, save } = await demoCopy(root, 'schema');
    await writeFile(path.join(dir, 'model.json'), '{ "name": ');
    await loadFails(dir, /model\.json: not valid JSON/);
    manifest.image.size = 'big';
    delete manifest.answers.MAYBE;
    await save();
    await loadFails(dir, /model\.json: invalid manifest: .*image\.size.*answers\.MAYBE/);
  });

  it('refuses a file path that leaves the model directory', async () => {
    const { dir, manifest, save } = await demoCopy(root, 'escape');
    manifest.files.model.path = '../../etc/passwd';
    await save();
    await loadFails(dir, /files\.model\.path: must be a file name inside the model directory/);
  });

  it('names a missing graph, a wrong size and a bad checksum', async () => {
    const missing = await demoCopy(root, 'missing');
    await rm(path.join(missing.dir, missing.manifest.files.model.path));
    await loadFails(missing.dir, /model\.onnx: not found/);

    const resized = await demoCopy(root, 'resized');
    resized.manifest.files.model.bytes += 1;
    await resized.save();
    await loadFails(resized.dir, /model\.onnx: size is \d+ bytes, model\.json says \d+/);

    const tampered = await demoCopy(root, 'tampered');
    const file = path.join(tampered.dir, tampered.manifest.files.tokenizer.path);
    const bytes = await readFile(file);
    bytes[bytes.length - 2] = (bytes[bytes.length - 2] ?? 0) ^ 1;
    await writeFile(file, bytes);
    await loadFails(tampered.dir, /tokenizer\.json: sha256 mismatch/);
  });

  it('names a graph onnxruntime cannot read', async () => {
    const { dir, manifest } = await demoCopy(root, 'garbage');
    await replaceFile(dir, manifest, 'model', new TextEncoder().encode('this is not an onnx graph'));
    await loadFails(dir, /model\.onnx: onnxruntime cannot load it/);
  });

  it('names inputs and outputs that break the contract', async () => {
    const { dir, manifest } = await demoCopy(root, 'wrong-io');
    const g = new OnnxGraphBuilder();
    const image = g.input('image', TensorDataType.FLOAT, ['batch', 3, 224, 224]);
    const pooled = g.op('ReduceMean', [image], { keepdims: { int: 0 } });
    g.op('Identity', [pooled], {}, 'out', 'scores');
    g.output('scores', TensorDataType.FLOAT, ['batch', 224]);
    const bytes = g.toModelBytes({
      producerName: 'test',
      producerVersion: '0',
      graphName: 'wrong',
      docString: '',
      opset: 17,
      irVersion: 8,
    });
    await replaceFile(dir, manifest, 'model', bytes);
    await loadFails(
      dir,
      /model\.onnx: does not follow the model contract: missing input "pixel_values".*unexpected input "image".*missing output "logits"/,
    );
  });

  it('names an answer id that the tokenizer does not agree with', async () => {
    const { dir, manifest, save } = await demoCopy(root, 'answers');
    manifest.answers.YES = manifest.answers.NO;
    await save();
    await loadFails(dir, /tokenizer\.json: " yes" is id \d+, model\.json answers\.YES says \d+/);
  });

  it('names a tokenizer.json that is JSON but not a tokenizer (MODEL_INVALID at load, not INTERNAL later)', async () => {
    const demoTokenizer = JSON.parse(await readFile(path.join(DEMO_MODEL_DIR, 'tokenizer.json'), 'utf8')) as Manifest;
    const broken: [string, unknown][] = [
      ['empty object', {}],
      ['no model', { ...demoTokenizer, model: null }],
      ['merges that are not pairs', { ...demoTokenizer, model: { ...demoTokenizer.model, merges: [42] } }],
      ['unknown pre-tokenizer', { ...demoTokenizer, pre_tokenizer: { type: 'NoSuchPreTokenizer' } }],
      ['unknown normalizer', { ...demoTokenizer, normalizer: { type: 'NoSuchNormalizer' } }],
    ];
    for (const [name, json] of broken) {
      const { dir, manifest } = await demoCopy(root, `tokenizer-${name.replaceAll(' ', '-')}`);
      await replaceFile(dir, manifest, 'tokenizer', new TextEncoder().encode(JSON.stringify(json)));
      await loadFails(dir, /: tokenizer\.json: not a usable Hugging Face tokenizer \(.+\)$/);
    }
  });

  it(
    'fails clearly when --provider cuda is asked for and CUDA is absent',
    { skip: process.env.OFA_VE_HAS_CUDA === '1' && 'CUDA machine' },
    async () => {
      await loadFails(DEMO_MODEL_DIR, /CUDA provider (is not installed|could not be used).*ONNXRUNTIME_NODE_INSTALL=cuda12/, 'cuda');
    },
  );
});
