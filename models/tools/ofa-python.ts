import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const run = promisify(execFile);

/** OFA's Hugging Face port beside the checkout (../shared/ofa-port), or undefined where it is absent. */
export function sharedOfaPort(): string | undefined {
  const dir = path.resolve(REPO_ROOT, '..', 'shared', 'ofa-port');
  return existsSync(path.join(dir, 'modeling_ofa.py')) ? dir : undefined;
}

/** What `.ci/run` installs from Debian for the OFA tests (PyPI is not reachable in CI). */
export const OFA_PYTHON_PACKAGES = 'python3-torch python3-torchvision python3-onnx python3-numpy python3-pil python3-regex';
const MODULES = ['torch', 'torchvision', 'onnx', 'numpy', 'PIL', 'regex'];

export interface OfaPython {
  readonly executable: string;
  readonly versions: Record<string, string>;
}

/**
 * A Python 3 that can import torch, torchvision, onnx, numpy, Pillow and regex: $OFA_PYTHON, else
 * `python3`, else Debian's /usr/bin/python3 (a pyenv or venv python3 first on PATH does not see the
 * Debian packages). Returns the reasons each candidate failed when none fits.
 */
export async function findOfaPython(): Promise<OfaPython | { missing: string }> {
  const candidates = [process.env.OFA_PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => !!c);
  const reasons: string[] = [];
  const probe =
    'import importlib, json, sys\n' +
    `mods = ${JSON.stringify(MODULES)}\n` +
    'v = {"python": sys.version.split()[0]}\n' +
    'for m in mods: v[m] = getattr(importlib.import_module(m), "__version__", "?")\n' +
    'print(json.dumps(v))';
  for (const executable of [...new Set(candidates)]) {
    try {
      const { stdout } = await run(executable, ['-c', probe], { timeout: 60_000 });
      return { executable, versions: JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Record<string, string> };
    } catch (err) {
      const text = (err as { stderr?: string }).stderr?.trim().split('\n').pop() ?? (err as Error).message;
      reasons.push(`${executable}: ${text}`);
    }
  }
  return { missing: reasons.join('; ') };
}
