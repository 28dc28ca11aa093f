/**
 * Runs an ONNX graph on feeds written by export_ofa.py, with onnxruntime-node: the runtime that
 * `export_ofa.py --check` uses when Python's onnxruntime is not installed (Debian does not package
 * it), and the one the app itself runs the exported model with.
 *
 *   node --import tsx models/tools/onnx-check-runner.ts REQUEST.json
 *
 * REQUEST.json: { "model": "model.onnx", "threads": 1, "runs": [ { "inputs": { NAME: { "dtype":
 * "float32" | "int64", "dims": [..], "file": "x.bin" } }, "output": "logits", "file": "out.bin" } ] }
 * (file paths relative to REQUEST.json; raw little-endian arrays). Every run uses one session. Writes
 * each output as raw float32 and prints { "onnxruntime": version, "outputs": [{ "dims": [..] }] } on stdout.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';

interface InputSpec {
  dtype: 'float32' | 'int64';
  dims: number[];
  file: string;
}
interface RunSpec {
  inputs: Record<string, InputSpec>;
  output: string;
  file: string;
}
interface Request {
  model: string;
  threads?: number;
  runs: RunSpec[];
}

async function readTensor(dir: string, spec: InputSpec): Promise<ort.Tensor> {
  const bytes = await readFile(path.resolve(dir, spec.file));
  // Copy into a fresh, aligned buffer: a Buffer from readFile may sit at any offset in a shared pool.
  const buffer = new Uint8Array(bytes).buffer;
  const data = spec.dtype === 'float32' ? new Float32Array(buffer) : new BigInt64Array(buffer);
  const expected = spec.dims.reduce((a, b) => a * b, 1);
  if (data.length !== expected) throw new Error(`${spec.file}: ${data.length} values, dims [${spec.dims.join(', ')}] need ${expected}`);
  return new ort.Tensor(spec.dtype, data, spec.dims);
}

const requestPath = process.argv[2];
if (!requestPath) {
  console.error('usage: node --import tsx models/tools/onnx-check-runner.ts REQUEST.json');
  process.exit(2);
}
const dir = path.dirname(path.resolve(requestPath));
const request = JSON.parse(await readFile(requestPath, 'utf8')) as Request;
const session = await ort.InferenceSession.create(path.resolve(dir, request.model), {
  executionProviders: ['cpu'],
  graphOptimizationLevel: 'all',
  intraOpNumThreads: request.threads ?? 0,
  logSeverityLevel: 3,
});
const outputs: { dims: number[] }[] = [];
for (const run of request.runs) {
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, spec] of Object.entries(run.inputs)) feeds[name] = await readTensor(dir, spec);
  const result = await session.run(feeds);
  const out = result[run.output];
  if (!out || !(out.data instanceof Float32Array)) throw new Error(`output "${run.output}" missing or not float32`);
  await writeFile(path.resolve(dir, run.file), new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.byteLength));
  outputs.push({ dims: out.dims.map(Number) });
}
await session.release();
const version = (createRequire(import.meta.url)('onnxruntime-node/package.json') as { version: string }).version;
console.log(JSON.stringify({ onnxruntime: version, outputs }));
