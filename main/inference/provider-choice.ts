/**
 * The execution-provider choice, apart from onnx-session.ts so that the service process (which
 * never runs the model: its worker does) can parse `--provider`, and know whether CUDA can be
 * had at all, without loading onnxruntime.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export type ProviderChoice = 'auto' | 'cuda' | 'cpu';
export type Provider = 'cuda' | 'cpu';
export const PROVIDER_CHOICES: readonly ProviderChoice[] = ['auto', 'cuda', 'cpu'];

/**
 * Whether onnxruntime-node's CUDA provider library was installed (ONNXRUNTIME_NODE_INSTALL=cuda12
 * puts it beside the binding). Checked first so that `auto` on a CPU machine does not make
 * onnxruntime print a load failure on stderr, and so that `auto` without it is known to mean the
 * CPU before any session opens.
 */
export function cudaProviderInstalled(): boolean {
  // Asked at every worker start (the host, on the service's event loop) and again in the worker:
  // the installed files do not change while the process runs, so they are looked up once.
  installed ??= findCudaProvider();
  return installed;
}

let installed: boolean | undefined;

function findCudaProvider(): boolean {
  if (process.platform !== 'linux' && process.platform !== 'win32') return false;
  try {
    const packageDir = path.dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
    const library = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
    return existsSync(path.join(packageDir, 'bin', 'napi-v6', process.platform, process.arch, library));
  } catch {
    return false;
  }
}
