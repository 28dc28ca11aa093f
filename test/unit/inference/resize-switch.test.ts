/**
 * OFA_VE_RESIZE=js turns the WebAssembly kernels off for a whole process (the pipeline bench's
 * baseline of the serial design as issue 16 found it, and a way to rule the kernels out): the
 * resize then runs in plain JavaScript and the normalisation on the table, and a pair's tensor is
 * the same, float for float. The kernels are chosen once per process, so the switched side runs in
 * a child.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'node:test';
import assert from 'node:assert/strict';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const execFileAsync = promisify(execFile);

/** Prints the resize backend and a digest of a generated photo's normalised 480x480 tensor. */
const PROBE = `
import { createHash } from 'node:crypto';
import { resizeBackend } from './main/inference/pil-bicubic-resize.ts';
import { decodeResizeNormalize } from './main/inference/image-preprocess.ts';
import { generatedImageSet } from './main/cli/bench/image-set.ts';
const [pair] = await generatedImageSet();
const out = new Float32Array(3 * 480 * 480);
const spec = { size: 480, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };
await decodeResizeNormalize(pair.image, spec, { maxPixels: 50e6, maxBytes: 50e6 }, out, 0);
const digest = createHash('sha256').update(new Uint8Array(out.buffer)).digest('hex');
process.stdout.write(JSON.stringify({ backend: resizeBackend(), digest }));
`;

async function probe(env: NodeJS.ProcessEnv): Promise<{ backend: string; digest: string }> {
  const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', PROBE], {
    cwd: ROOT,
    env,
    timeout: 60_000,
  });
  return JSON.parse(stdout) as { backend: string; digest: string };
}

test('OFA_VE_RESIZE=js runs the JavaScript resize, and the tensor is the same as with the kernels', async () => {
  const { OFA_VE_RESIZE: _unset, ...env } = process.env;
  const [kernels, plain] = await Promise.all([probe(env), probe({ ...env, OFA_VE_RESIZE: 'js' })]);
  assert.equal(kernels.backend, 'wasm-simd');
  assert.equal(plain.backend, 'js');
  assert.match(plain.digest, /^[0-9a-f]{64}$/);
  assert.equal(plain.digest, kernels.digest);
  const zeros = createHash('sha256')
    .update(new Uint8Array(3 * 480 * 480 * 4))
    .digest('hex');
  assert.notEqual(plain.digest, zeros, 'the tensor holds the picture, not zeros');
});
