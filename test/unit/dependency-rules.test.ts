/**
 * The dependency rules of .dependency-cruiser.cjs (`npm run deps`): the source tree breaks none of
 * them (no import cycle; main/ never imports bench/ or renderer/; the renderer never imports main/
 * or the preload's bridge; preload/ imports neither side; bench/ never imports test/), and each
 * rule catches a breach in a small tree written for it, type-only imports included, while the
 * imports the design allows pass.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cruise, type ICruiseOptions, type ICruiseResult, type IViolation } from 'dependency-cruiser';
import { REPO_ROOT } from '../support/shared-reference.ts';

const config = createRequire(import.meta.url)(path.join(REPO_ROOT, '.dependency-cruiser.cjs')) as {
  forbidden: NonNullable<NonNullable<ICruiseOptions['ruleSet']>['forbidden']>;
  options: ICruiseOptions;
};

/** The folders `npm run deps` cruises: the arguments of its script that are not flags. */
function cruisedFolders(): string[] {
  const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const args = pkg.scripts.deps!.split(/\s+/).slice(1);
  return args.filter((arg, i) => !arg.startsWith('-') && !args[i - 1]?.startsWith('-'));
}

async function violations(baseDir: string, folders: string[]): Promise<IViolation[]> {
  const { output } = await cruise(folders, { ...config.options, baseDir, validate: true, ruleSet: { forbidden: config.forbidden } });
  return (output as ICruiseResult).summary.violations;
}

/** rule: from → to, or for a cycle every module of it. */
const describeViolation = (v: IViolation) => `${v.rule.name}: ${[v.from, ...(v.cycle?.map((c) => c.name) ?? [v.to])].join(' → ')}`;

describe('dependency rules (.dependency-cruiser.cjs)', () => {
  it('npm run deps cruises the product, the tools, the benchmarks and the tests', () => {
    assert.deepEqual(cruisedFolders().sort(), ['bench', 'bin', 'build', 'main', 'models/tools', 'preload', 'renderer', 'test']);
  });

  it('the source tree breaks none of them', async () => {
    const found = await violations(REPO_ROOT, cruisedFolders());
    assert.deepEqual(found.map(describeViolation), []);
  });

  describe('a tree with one breach of each rule', () => {
    let dir: string;
    /** Each file of the tree and what it imports. */
    const tree: Record<string, string> = {
      'main/cycle-a.ts': "import { b } from './cycle-b.ts';\nexport const a = () => b;",
      'main/cycle-b.ts': "import { a } from './cycle-a.ts';\nexport const b = () => a;",
      'main/uses-bench.ts': "import { load } from '../bench/load.ts';\nexport const x = load;",
      'main/uses-renderer.ts': "import { view } from '../renderer/view.ts';\nexport const x = view;",
      'main/uses-test.ts': "import { fixture } from '../test/fixture.ts';\nexport const x = fixture;",
      'main/uses-contract.ts': "import type { Wire } from '../preload/wire-types.ts';\nexport const x = (w: Wire) => w;",
      'main/types.ts': 'export interface Model { name: string }',
      'renderer/view.ts': "import type { Wire } from '../preload/wire-types.ts';\nexport const view = (w: Wire) => w;",
      'renderer/uses-main.ts': "import type { Model } from '../main/types.ts';\nexport const x = (m: Model) => m;",
      'renderer/uses-bridge.ts': "import '../preload/index.ts';\nexport const x = 1;",
      'preload/wire-types.ts': 'export interface Wire { id: string }',
      'preload/index.ts': "import { view } from '../renderer/view.ts';\nexport const api = { view };",
      'models/tools/uses-renderer.ts': "import { view } from '../../renderer/view.ts';\nexport const x = view;",
      'bench/load.ts': "import { a } from '../main/cycle-a.ts';\nexport const load = a;",
      'bench/uses-test.ts': "import { fixture } from '../test/fixture.ts';\nexport const x = fixture;",
      'test/fixture.ts': "import { view } from '../renderer/view.ts';\nexport const fixture = view;",
    };

    before(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'ofa-ve-deps-'));
      for (const [file, text] of Object.entries(tree)) {
        await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
        await writeFile(path.join(dir, file), `${text}\n`);
      }
    });
    after(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('catches every breach, and nothing the design allows', async () => {
      const found = await violations(dir, ['main', 'preload', 'renderer', 'models/tools', 'bench', 'test']);
      assert.deepEqual(found.map(describeViolation).sort(), [
        'bench-not-to-test: bench/uses-test.ts → test/fixture.ts',
        'main-not-to-renderer: main/uses-renderer.ts → renderer/view.ts',
        'models-tools-not-to-renderer: models/tools/uses-renderer.ts → renderer/view.ts',
        'no-circular: main/cycle-a.ts → main/cycle-b.ts → main/cycle-a.ts',
        'nothing-to-bench-or-test: main/uses-bench.ts → bench/load.ts',
        'nothing-to-bench-or-test: main/uses-test.ts → test/fixture.ts',
        'preload-not-to-renderer-or-main: preload/index.ts → renderer/view.ts',
        'renderer-not-to-main: renderer/uses-main.ts → main/types.ts',
        'renderer-not-to-preload-bridge: renderer/uses-bridge.ts → preload/index.ts',
      ]);
    });
  });
});
