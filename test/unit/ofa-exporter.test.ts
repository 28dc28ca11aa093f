import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { EntailmentEngine } from '../../main/inference/entailment-engine.ts';
import { LABELS } from '../../preload/wire-types.ts';
import { findOfaPython, OFA_PYTHON_PACKAGES, sharedOfaPort } from '../../models/tools/ofa-python.ts';
import { REPO_ROOT, sharedReference } from '../support/shared-reference.ts';

const run = promisify(execFile);
const EXPORTER = path.join(REPO_ROOT, 'models', 'tools', 'export_ofa.py');
const CHECKS = path.join(REPO_ROOT, 'test', 'fixtures', 'ofa', 'exporter_checks.py');

async function hasPython(): Promise<boolean> {
  try {
    await run('python3', ['--version']);
    return true;
  } catch {
    return false;
  }
}

/** Runs a command that must fail; returns its exit code and output. */
async function runFailing(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    await run(file, args, { maxBuffer: 16 << 20 });
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
  assert.fail(`${path.basename(args[0] ?? file)} ${args.slice(1, 3).join(' ')} … succeeded; expected it to fail`);
}

describe('models/tools/export_ofa.py', async () => {
  const skip = (await hasPython()) ? false : 'python3 not installed: skipped';

  it('compiles, with its helper modules', { skip }, async () => {
    for (const file of ['export_ofa.py', 'ofa_port_shim.py', 'byte_level_bpe.py', 'ofa_fairseq_mapping.py']) {
      const full = path.join(REPO_ROOT, 'models', 'tools', file);
      await run('python3', ['-c', 'import ast, sys; ast.parse(open(sys.argv[1]).read(), sys.argv[1])', full]);
    }
  });

  it('prints its usage without torch installed', { skip }, async () => {
    const { stdout } = await run('python3', [EXPORTER, '--help'], { env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
    assert.match(stdout, /--checkpoint/);
    assert.match(stdout, /--out/);
    assert.match(stdout, /--ofa-port/);
  });
});

/**
 * The exporter's risky paths on OFA's own model (../shared/ofa-port) at a small size with random
 * weights: fairseq mapping and its refusals, the fp16 clamp guard, the external-data path, and the
 * tokenizer check without the `tokenizers` package.
 */
describe("export_ofa.py on OFA's own model (../shared/ofa-port)", () => {
  const portDir = sharedOfaPort();
  const tokenizerDir = sharedReference('ofa-tokenizer');
  const skip = portDir && tokenizerDir ? false : "../shared/ofa-port not found: exporter checks on OFA's model skipped";
  let python = '';
  let work = '';
  let fairseq: Record<string, unknown> = {};

  before(async () => {
    if (skip) return;
    const found = await findOfaPython();
    if ('missing' in found) assert.fail(`no Python can run OFA's code (${found.missing}); install ${OFA_PYTHON_PACKAGES}`);
    python = found.executable;
    work = await mkdtemp(path.join(os.tmpdir(), 'ofa-exporter-'));
    const { stdout } = await run(
      python,
      [
        CHECKS,
        'fairseq',
        '--port',
        portDir as string,
        '--tokenizer-json',
        path.join(tokenizerDir as string, 'tokenizer.json'),
        '--work',
        work,
      ],
      { maxBuffer: 16 << 20 },
    );
    fairseq = JSON.parse(stdout.trim().split('\n').pop() as string) as Record<string, unknown>;
  });

  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("maps a fairseq-style state dict (OFA's fairseq names) onto the port, every tensor exactly", { skip }, () => {
    assert.equal(fairseq.clean_ok, true, String(fairseq.clean_error));
    assert.deepEqual(fairseq.clean_mismatched, []);
    assert.ok((fairseq.clean_tensors as number) > 200);
    assert.equal(fairseq.template_differs, true, 'the template had other weights, so the mapping did the work');
    const names = fairseq.fairseq_only_names as string[];
    for (const n of [
      'attn_ln.weight',
      'self_attn_ln.weight',
      'cross_attn_ln.weight',
      'encoder_attn.k_proj.weight',
      'encoder_attn_layer_norm.weight',
      'ffn_layernorm.weight',
    ]) {
      assert.ok(names.includes(n), `the synthetic checkpoint uses fairseq's name ${n}`);
    }
  });

  it('refuses w_resid and adapter parameters the port lacks, naming them', { skip }, () => {
    const wResid = fairseq.w_resid as { ok: boolean; error: string };
    assert.equal(wResid.ok, false);
    assert.match(wResid.error, /no place for/);
    assert.match(wResid.error, /w_resid.*encoder\.layers\.0\.w_resid/);
    const adapter = fairseq.adapter as { ok: boolean; error: string };
    assert.equal(adapter.ok, false);
    assert.match(adapter.error, /adapter down_proj\/up_proj\/scale .*3 key\(s\)/);
  });

  it('refuses a checkpoint that lacks a parameter or does not fit', { skip }, () => {
    const missing = fairseq.missing_parameter as { ok: boolean; error: string };
    assert.equal(missing.ok, false);
    assert.match(missing.error, /encoder\.layers\.0\.self_attn\.c_attn.*refusing/);
    const shape = fairseq.wrong_shape as { ok: boolean; error: string };
    assert.equal(shape.ok, false);
    assert.match(shape.error, /does not fit encoder\.image_proj\.weight/);
  });

  it('the command line stops on a w_resid checkpoint before writing a model', { skip }, async () => {
    const out = path.join(work, 'refused');
    const { code, stderr } = await runFailing(python, [
      EXPORTER,
      '--checkpoint',
      fairseq.template_dir as string,
      '--ofa-port',
      portDir as string,
      '--fairseq-checkpoint',
      fairseq.w_resid_pt as string,
      '--out',
      out,
      '--image-size',
      '64',
    ]);
    assert.equal(code, 1);
    assert.match(stderr, /ERROR: .*w_resid/);
    assert.equal(existsSync(path.join(out, 'model.onnx')), false);
  });

  it("fp16: OFA's overflow clamp is traced as data, and an overflowing example is refused", { skip }, async () => {
    const { stdout } = await run(python, [CHECKS, 'fp16-guard', '--port', portDir as string], { maxBuffer: 16 << 20 });
    const r = JSON.parse(stdout.trim().split('\n').pop() as string) as Record<string, unknown>;
    assert.equal(r.ofa_layers_guarded, 2, "a guard on each of OFA's encoder layers");
    assert.equal(r.fp32_unchanged, true, 'fp32 forward untouched');
    assert.deepEqual(r.traced_ordinary, [[3, -3, 7]]);
    // Traced on an ordinary input, the graph still clamps 40000 * 2 = inf to OFA's bound (65504 - 1000, 64512 in fp16).
    assert.deepEqual(r.traced_overflow, [[64512, -3, 7]]);
    assert.equal(r.traced_nan_kept, true, 'NaN passes through the clamp, as in OFA');
    assert.match(String(r.overflowing_example_refused), /not safe in fp16/);
    assert.match(String(r.no_layers_refused), /found no OFAEncoderLayer/);
  });

  it('--fp16 on the CPU is refused at the command line', { skip }, async () => {
    const { code, stderr } = await runFailing(python, [EXPORTER, '--checkpoint', work, '--out', work, '--fp16']);
    assert.equal(code, 2);
    assert.match(stderr, /--fp16 needs --device cuda/);
  });

  it('external data: a small threshold moves the weights to model.onnx.data; --check and the engine load it', { skip }, async (t) => {
    const out = path.join(work, 'external');
    const started = performance.now();
    const { stdout } = await run(
      python,
      [
        EXPORTER,
        '--checkpoint',
        fairseq.template_dir as string,
        '--ofa-port',
        portDir as string,
        '--out',
        out,
        '--image-size',
        '64',
        '--external-data-threshold',
        '1000000',
        '--check',
        '--check-threads',
        '1',
        '--check-runtime',
        'node',
      ],
      { maxBuffer: 16 << 20 },
    );
    assert.match(stdout, /wrote model\.onnx, model\.onnx\.data/);
    assert.match(stdout, /onnxruntime-node .*CPU/);
    assert.match(stdout, /--check passed/);
    const manifest = JSON.parse(await readFile(path.join(out, 'model.json'), 'utf8')) as {
      files: Record<string, { path: string; bytes: number; sha256: string }>;
    };
    const data = manifest.files.model_data;
    assert.ok(data, 'model.json lists files.model_data');
    assert.equal(data.path, 'model.onnx.data');
    assert.equal((await stat(path.join(out, 'model.onnx.data'))).size, data.bytes);
    assert.ok((manifest.files.model?.bytes ?? Infinity) < data.bytes / 10, 'the graph file holds no weights');
    const engine = await EntailmentEngine.load(out, { provider: 'cpu', intraOpThreads: 1 });
    try {
      const pixels = Buffer.alloc(200 * 150 * 3, 0).map((_, i) => (i * 7) % 251);
      const image = await sharp(pixels, { raw: { width: 200, height: 150, channels: 3 } })
        .png()
        .toBuffer();
      const result = await engine.check({ image, text: 'two dogs play in the snow' });
      assert.ok(LABELS.includes(result.label));
    } finally {
      await engine.close();
    }
    t.diagnostic(`external-data export + --check + engine load: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  });

  it("--tokenizer-only without the `tokenizers` package: the pure-Python BPE reproduces OFA's reference ids", { skip }, async () => {
    const out = path.join(work, 'tokenizer');
    const probe = await run(python, ['-c', 'import importlib.util as u; print(u.find_spec("tokenizers") is None)']);
    const { stdout } = await run(
      python,
      [
        EXPORTER,
        '--checkpoint',
        fairseq.template_dir as string,
        '--out',
        out,
        '--tokenizer-only',
        '--reference-ids',
        path.join(tokenizerDir as string, 'reference-ids.json'),
      ],
      { maxBuffer: 16 << 20 },
    );
    if (probe.stdout.trim() === 'True') assert.match(stdout, /pure-Python byte-level BPE/);
    assert.match(stdout, /reference ids: \d+ cases and 3 answers match/);
    assert.match(stdout, /answers: YES=4420 NO=117 MAYBE=2085/);
  });
});
