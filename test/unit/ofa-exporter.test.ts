import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../support/shared-reference.ts';

const run = promisify(execFile);
const EXPORTER = path.join(REPO_ROOT, 'models', 'tools', 'export_ofa.py');

async function hasPython(): Promise<boolean> {
  try {
    await run('python3', ['--version']);
    return true;
  } catch {
    return false;
  }
}

// The exporter needs torch and OFA weights, which cannot be had here; what can be checked is that
// it compiles and that its command line works without torch installed (torch is imported lazily).
describe('models/tools/export_ofa.py', async () => {
  const skip = (await hasPython()) ? false : 'python3 not installed: skipped';

  it('compiles', { skip }, async () => {
    await run('python3', ['-c', 'import ast, sys; ast.parse(open(sys.argv[1]).read(), sys.argv[1])', EXPORTER]);
  });

  it('prints its usage without torch installed', { skip }, async () => {
    const { stdout } = await run('python3', [EXPORTER, '--help'], { env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
    assert.match(stdout, /--checkpoint/);
    assert.match(stdout, /--out/);
  });
});
