/**
 * The model of bench/ofa-arch-bench.ts: OFA's own OFAModel (../shared/ofa-port, unmodified) at OFA-tiny's
 * sizes with seeded random weights, exported at SNLI-VE's 480×480 by models/tools/export_ofa.py. Generated
 * here, never committed: ~350 MB under the cache directory (git-ignored by the .gitignore this writes
 * there), and generated again when a script that makes it changes.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { findOfaPython, OFA_PYTHON_PACKAGES, sharedOfaPort, type OfaPython } from '../models/tools/ofa-python.ts';

const run = promisify(execFile);

export const OFA_ARCH = { config: 'tiny', imageSize: 480, seed: 0 } as const;

export interface OfaArchExport {
  readonly python: OfaPython;
  readonly portDir: string;
  readonly checkpoint: string;
  /** The model directory (model.json, model.onnx, tokenizer files). */
  readonly directory: string;
  readonly modelBytes: number;
  readonly parameters: number;
  /** Seconds spent generating it in this run; 0 when the cached one was used. */
  readonly generatedS: number;
}

/** Everything whose change makes a different model: the generating scripts and the settings. */
async function fingerprint(root: string): Promise<string> {
  const hash = createHash('sha256').update(JSON.stringify(OFA_ARCH));
  const scripts = [
    'test/fixtures/ofa/ofa_port_reference.py',
    'models/tools/export_ofa.py',
    'models/tools/ofa_port_shim.py',
    'models/tools/byte_level_bpe.py',
    'models/tools/ofa_fairseq_mapping.py',
  ];
  for (const file of scripts) hash.update(await readFile(path.join(root, file)));
  return hash.digest('hex');
}

export async function ensureOfaArchExport(root: string, cacheDir: string, log: (line: string) => void): Promise<OfaArchExport> {
  const portDir = sharedOfaPort();
  const tokenizerDir = path.resolve(root, '..', 'shared', 'ofa-tokenizer');
  if (!portDir || !existsSync(path.join(tokenizerDir, 'tokenizer.json'))) {
    throw new Error("needs OFA's port and tokenizer beside the checkout (../shared/ofa-port, ../shared/ofa-tokenizer)");
  }
  const python = await findOfaPython();
  if ('missing' in python) throw new Error(`no Python can run OFA's code (${python.missing}); install ${OFA_PYTHON_PACKAGES}`);

  const checkpoint = path.join(cacheDir, 'checkpoint');
  const directory = path.join(cacheDir, 'export');
  const stampFile = path.join(cacheDir, 'stamp.json');
  const want = await fingerprint(root);
  const stamp = existsSync(stampFile)
    ? (JSON.parse(await readFile(stampFile, 'utf8')) as { fingerprint: string; parameters: number })
    : undefined;
  let generatedS = 0;
  let parameters = stamp?.parameters ?? 0;
  if (stamp?.fingerprint !== want || !existsSync(path.join(directory, 'model.json'))) {
    const t0 = performance.now();
    await rm(cacheDir, { recursive: true, force: true });
    await mkdir(cacheDir, { recursive: true });
    // A cache is never committed, whatever the repository's own .gitignore says.
    await writeFile(path.join(cacheDir, '.gitignore'), '*\n');
    log(`generating OFA-tiny-sized OFAModel (seed ${OFA_ARCH.seed}) into ${checkpoint}`);
    const built = await run(
      python.executable,
      [
        path.join(root, 'test', 'fixtures', 'ofa', 'ofa_port_reference.py'),
        '--port',
        portDir,
        '--tokenizer-json',
        path.join(tokenizerDir, 'tokenizer.json'),
        '--checkpoint-out',
        checkpoint,
        '--config',
        OFA_ARCH.config,
        '--seed',
        String(OFA_ARCH.seed),
      ],
      { maxBuffer: 16 << 20 },
    );
    parameters = (JSON.parse(built.stdout.trim().split('\n').at(-1) ?? '{}') as { parameters: number }).parameters;
    log(`exporting it at ${OFA_ARCH.imageSize}×${OFA_ARCH.imageSize} with models/tools/export_ofa.py into ${directory}`);
    await run(
      python.executable,
      [
        path.join(root, 'models', 'tools', 'export_ofa.py'),
        '--checkpoint',
        checkpoint,
        '--ofa-port',
        portDir,
        '--out',
        directory,
        '--image-size',
        String(OFA_ARCH.imageSize),
        '--name',
        'OFA-tiny architecture (random weights)',
      ],
      { maxBuffer: 64 << 20 },
    );
    generatedS = (performance.now() - t0) / 1000;
    await writeFile(stampFile, `${JSON.stringify({ fingerprint: want, parameters, generated_s: generatedS }, null, 2)}\n`);
  } else {
    log(`using the cached export in ${directory}`);
  }
  const modelBytes = (await stat(path.join(directory, 'model.onnx'))).size;
  return { python, portDir, checkpoint, directory, modelBytes, parameters, generatedS };
}
