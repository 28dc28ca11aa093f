/** What bench/ofa-arch-bench.ts writes (bench/results/ofa-arch.json), and its section of BENCHMARKS.md. */
export interface OfaArchResult {
  date: string;
  command: string;
  seconds: number;
  machine: { cpus: number; cpu_model: string; load_average_start: number[]; load_average_end: number[] };
  model: { what: string; image_size: number; parameters: number; model_onnx_mib: number; generated_s: number; engine_load_ms: number };
  rounds: number;
  stages: {
    decode_image_ms: number;
    tokenize_ms: number;
    inference_ms: number;
    inference_cpu_ms: number;
    postprocess_ms: number;
    samples: number;
  };
  demo?: { inference_ms: number; model_onnx_mib: number; samples: number };
  batches: { batch: number; ms_per_pair: number; cpu_ms_per_pair: number; pairs_per_s: number; ms_per_pair_all: number[] }[];
  options: {
    name: string;
    change: string;
    create_ms: number;
    batch1_ms: number;
    batch1_cpu_ms: number;
    batch4_ms_per_pair: number;
    batch4_cpu_ms_per_pair: number;
  }[];
  torch: {
    version: string;
    load_s: number;
    max_answer_logit_difference: number;
    rows: {
      threads: number;
      onnxruntime_ms: number;
      torch_ms: number;
      torch_over_onnxruntime: number;
      onnxruntime_cpu_ms: number;
      torch_cpu_ms: number;
      onnxruntime_all: number[];
      torch_all: number[];
    }[];
  };
  arena_memory: Record<'on' | 'off', { after_load_mib: number; after_runs_mib: number }>;
}

const f = (x: number | undefined, d = 1) => (x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d));

/** Said only when measured: a second intra-op thread that loses to one on this shared machine. */
function threadsNote(r: OfaArchResult): string {
  const one = r.options.find((o) => o.name === 'threads-1');
  // Runs before the threads-2 row compared threads 1 with the engine, which then ran 2 threads.
  const two = r.options.find((o) => o.name === 'threads-2') ?? r.options.find((o) => o.name === 'engine');
  if (!one || !two || one.batch1_ms >= two.batch1_ms) return '';
  return (
    ' Here 1 intra-op thread beat 2 at batch 1: an operator split over 2 threads waits for its slower half, which ' +
    'waits for a core wherever anything else runs on the machine; on a machine of its own the order may differ.'
  );
}

/** What the tables say, computed from them (CPU-time ratios: the measure the shared machine disturbs least). */
function readingIt(r: OfaArchResult): string[] {
  const s = r.stages;
  const total = s.decode_image_ms + s.tokenize_ms + s.inference_ms + s.postprocess_ms;
  const opt = (name: string) => r.options.find((o) => o.name === name);
  const base = opt('engine');
  const cpu = (name: string, batch: 1 | 4) => {
    const o = opt(name);
    if (!o || !base) return '—';
    return f(batch === 1 ? o.batch1_cpu_ms / base.batch1_cpu_ms : o.batch4_cpu_ms_per_pair / base.batch4_cpu_ms_per_pair, 2);
  };
  const b1 = r.batches.find((b) => b.batch === 1);
  const b8 = r.batches.find((b) => b.batch === 8);
  const t1 = r.torch.rows.find((t) => t.threads === 1);
  const lines = ['What it says:', ''];
  lines.push(
    `- Inference is ${f((100 * s.inference_ms) / total)}% of a pair; decode and resize take ${f(s.decode_image_ms)} ms. At a real ` +
      "model's size the engine's own stages do not matter; the session does.",
  );
  if (b1 && b8) {
    lines.push(
      `- Batching: CPU per pair at batch 8 is ${f(b8.cpu_ms_per_pair / b1.cpu_ms_per_pair, 2)} of batch 1's. Wall time per ` +
        'pair moves with the load more than with the batch on 2 shared cores.',
    );
  }
  lines.push(
    `- Graph optimisation basic instead of all costs x${cpu('basic', 1)} CPU at batch 1, x${cpu('basic', 4)} at batch 4; ` +
      `parallel execution mode x${cpu('parallel', 1)} and x${cpu('parallel', 4)} (its inter-op pool adds threads to 2 cores ` +
      'and finds little to run side by side).',
  );
  lines.push(
    `- The CPU arena: off costs x${cpu('no-arena', 1)} CPU at batch 1 and x${cpu('no-arena', 4)} at batch 4, and saves ` +
      `${f(r.arena_memory.on.after_runs_mib - r.arena_memory.off.after_runs_mib, 0)} MiB of RSS after a batch of 8. With the arena ` +
      "on, a worker that once ran a full batch keeps that memory for good, so on a real model the max batch size sets the worker's RSS.",
  );
  if (t1) {
    lines.push(
      `- PyTorch eager, the peer the seed measured, costs ${f(t1.torch_cpu_ms / t1.onnxruntime_cpu_ms, 1)}× onnxruntime's CPU ` +
        'time at 1 thread on the same model and the same pair.',
    );
  }
  return lines;
}

export function renderOfaArch(r: OfaArchResult): string[] {
  const s = r.stages;
  const total = s.decode_image_ms + s.tokenize_ms + s.inference_ms + s.postprocess_ms;
  const share = (ms: number) => `${f((100 * ms) / total)}%`;
  const load = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(' / ');
  const out = [
    `## OFA's architecture at OFA-tiny sizes (${r.date.slice(0, 10)})`,
    '',
    '```',
    r.command,
    '```',
    '',
    '(`npm run bench:report -- --only ofa-arch` runs it and rewrites this file.)',
    '',
    `The model: ${r.model.what} (bench/ofa-arch-export.ts, git-ignored cache under bench/.cache/; ~30 s to generate)` +
      `: d_model 256, 4+4 layers, 4 heads, ResNet-50 stem, 59457-token vocabulary, ${f(r.model.parameters / 1e6)}M parameters, ` +
      `${r.model.image_size}×${r.model.image_size} input, model.onnx ${f(r.model.model_onnx_mib)} MiB. Random weights change no ` +
      "timing: the graph and the shapes are OFA's (OFA-Base has 180M parameters, OFA-Large 470M).",
    '',
    `**Noise.** ${r.machine.cpus} × ${r.machine.cpu_model}, a shared machine ` +
      `(load average ${load(r.machine.load_average_start)} at the start, ${load(r.machine.load_average_end)} at the end, ` +
      `1/5/15 min). Every figure is a median of ${r.rounds} rounds taken in rotating order with a 50 ms pause before each timed ` +
      'call, so drift hits every variant alike; compare figures within a table (ratios), not across runs. Beside wall time, ' +
      '"CPU" is the process\'s CPU time (all threads) over the same call: other processes disturb it least (a run that waits ' +
      "for a busy core takes longer but costs no more CPU), but with spinning on it also counts the pool's spin-waiting, so " +
      `it judges cost, not latency. The whole measurement took ${f(r.seconds / 60)} minutes.${threadsNote(r)}`,
    '',
    `Stages of one pair through the engine (as the service opens it; 8 generated images 320×240 to 1280×960, medians of ${s.samples}):`,
    '',
    '| stage | median ms | share |',
    '|---|---|---|',
    `| decode + resize + normalise (sharp, PIL-exact bicubic) | ${f(s.decode_image_ms)} | ${share(s.decode_image_ms)} |`,
    `| tokenize (caption rules + BPE) | ${f(s.tokenize_ms, 2)} | ${share(s.tokenize_ms)} |`,
    `| inference (session.run; CPU ${f(s.inference_cpu_ms)} ms) | ${f(s.inference_ms)} | ${share(s.inference_ms)} |`,
    `| postprocess (answer logits, softmax) | ${f(s.postprocess_ms, 3)} | ${share(s.postprocess_ms)} |`,
    '',
  ];
  if (r.demo) {
    out.push(
      `The demo model (${f(r.demo.model_onnx_mib)} MiB) in the same rounds: ${f(r.demo.inference_ms)} ms of inference per pair; ` +
        `this model takes ${f(s.inference_ms / r.demo.inference_ms, 0)}× that. Engine load: ${f(r.model.engine_load_ms, 0)} ms ` +
        `(hashing ${f(r.model.model_onnx_mib, 0)} MiB, tokenizer, session).`,
      '',
    );
  }
  const b1 = r.batches.find((b) => b.batch === 1)?.ms_per_pair ?? Number.NaN;
  out.push(
    'Engine throughput by batch size (one `engine.run` of the first N pairs, captions of different lengths, so padded):',
    '',
    '| batch | ms per pair | CPU ms per pair | pairs/s | per-pair cost vs batch 1 |',
    '|---|---|---|---|---|',
  );
  for (const b of r.batches)
    out.push(`| ${b.batch} | ${f(b.ms_per_pair)} | ${f(b.cpu_ms_per_pair)} | ${f(b.pairs_per_s, 2)} | ${f(b.ms_per_pair / b1, 2)} |`);
  out.push('');
  const base = r.options.find((o) => o.name === 'engine');
  out.push(
    "onnxruntime CPU session options, one changed at a time from the engine's (each round creates each session, warms it " +
      'with a batch of 4, times a batch of 1 and one of 4, and releases it; the order rotating):',
    '',
    '| setting | session create ms | batch 1: ms (CPU ms) | batch 4: ms per pair (CPU ms) | batch 1 vs engine: wall, CPU | batch 4 vs engine: wall, CPU |',
    '|---|---|---|---|---|---|',
  );
  const ratio = (x: number, y: number | undefined) => f(x / (y ?? Number.NaN), 2);
  for (const o of r.options) {
    out.push(
      `| ${o.change} | ${f(o.create_ms, 0)} | ${f(o.batch1_ms)} (${f(o.batch1_cpu_ms)}) | ` +
        `${f(o.batch4_ms_per_pair)} (${f(o.batch4_cpu_ms_per_pair)}) | ${ratio(o.batch1_ms, base?.batch1_ms)}, ${ratio(o.batch1_cpu_ms, base?.batch1_cpu_ms)} | ` +
        `${ratio(o.batch4_ms_per_pair, base?.batch4_ms_per_pair)}, ${ratio(o.batch4_cpu_ms_per_pair, base?.batch4_cpu_ms_per_pair)} |`,
    );
  }
  const on = r.arena_memory.on;
  const off = r.arena_memory.off;
  out.push(
    '',
    `Worker RSS after one batch of 1 and one of 8 (fresh process each): ${f(on.after_runs_mib, 0)} MiB with the CPU arena, ` +
      `${f(off.after_runs_mib, 0)} MiB without (${f(on.after_load_mib, 0)} MiB after loading): the arena keeps the largest ` +
      "batch's activations for the life of the session.",
    '',
  );
  out.push(
    `PyTorch eager (OFA's own forward, \`bench/ofa-arch-torch.py\`, Debian's torch ${r.torch.version}, \`torch.no_grad()\`) against ` +
      "onnxruntime on the same model and the same pair (the engine's pixels and ids), batch 1, runs alternating:",
    '',
    '| threads | onnxruntime ms (CPU ms) | PyTorch eager ms (CPU ms) | PyTorch / onnxruntime: wall, CPU |',
    '|---|---|---|---|',
  );
  for (const t of r.torch.rows) {
    out.push(
      `| ${t.threads} | ${f(t.onnxruntime_ms)} (${f(t.onnxruntime_cpu_ms)}) | ${f(t.torch_ms)} (${f(t.torch_cpu_ms)}) | ` +
        `x${f(t.torch_over_onnxruntime, 2)}, x${f(t.torch_cpu_ms / t.onnxruntime_cpu_ms, 2)} |`,
    );
  }
  out.push(
    '',
    `Their answer logits agree within ${r.torch.max_answer_logit_difference.toExponential(1)} (the export at OFA-tiny's full size, ` +
      `${r.model.image_size}×${r.model.image_size}). PyTorch's forward computes the vocabulary projection at every decoder position, ` +
      'as OFA does; the export only at the last one.',
    '',
  );
  out.push(...readingIt(r), '');
  return out;
}
