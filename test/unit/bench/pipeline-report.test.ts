/**
 * The pipeline section of BENCHMARKS.md: the verdicts it prints follow the figures (x1.6 against the
 * serial design issue 16 found, with today's serial ratio and its ceiling beside it), a --cpu-only
 * result renders only its CPU part under the model's name, and the median's bootstrap interval is
 * deterministic and brackets the median.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { medianInterval95, renderPipeline, type PipelineBenchResult, type PipelineSide } from '../../../bench/pipeline-report.ts';

const side = (qps: number): PipelineSide => ({
  qps,
  qps_slices: [qps],
  p50_ms: 100,
  p90_ms: 120,
  mean_batch: 7.9,
  failed: 0,
  worker_cpu_ms_per_pair: 4,
  worker_cores: 1,
});

const cpu: NonNullable<PipelineBenchResult['cpu']> = {
  concurrency: 16,
  app_preprocess_workers: 0,
  app_provider: 'cpu',
  app: side(85),
  serial: side(84),
  pipelined: side(82),
  app_to_serial: 85 / 84,
  pipelined_to_serial: 82 / 84,
  latency_c1: {
    rounds: 5,
    raw_p50_ms: 18,
    app_p50_ms: 18.5,
    pipelined_app_p50_ms: 18.2,
    median_difference_ms: 0.5,
    pipelined_median_difference_ms: 0.2,
    differences_ms: { app: [0.1, 0.5, 0.9, 0.4, 0.6], pipelined: [0.2, 0.2, 0.2, 0.2, 0.2] },
  },
};

function result(overrides: Partial<PipelineBenchResult>): PipelineBenchResult {
  return {
    tool: 'bench/pipeline-bench.ts',
    date: '2026-11-30T00:00:00.000Z',
    command: 'node --import tsx bench/pipeline-bench.ts',
    machine: { cpus: 2, cpu_model: 'test CPU', load_average_at_start: [0.1, 0.1, 0.1] },
    caveat: 'test',
    slice_s: 5,
    rounds: 3,
    worker_nice: 10,
    images: 16,
    preprocess: { ms_per_pair_one_thread: 4, cores: 2, capacity_qps: 500 },
    pool_scaling: {
      pinned: true,
      one_thread_qps: 260,
      two_threads_qps: 450,
      ratio: 1.73,
      cores_used: { one_thread: 1, two_threads: 1.8, two_per_core: 1.94 },
      two_per_core_qps: 480,
      two_per_core_ratio: 1.85,
      threads_per_core_qps: 480,
    },
    simulated: {
      simulated: true,
      label: 'simulated accelerator: 40 ms per batch',
      accelerator: { ms_per_batch: 40, ms_per_pair: 0 },
      max_batch_size: 8,
      concurrency: 32,
      bound: { accelerator_qps: 200, preprocess_qps: 500, bound_qps: 200, limited_by: 'accelerator' },
      measured_bound_qps: 200,
      pipelined: { ...side(194), accelerator_busy: 0.98 },
      serial: { ...side(134), accelerator_busy: 0.68 },
      serial_as_filed: { ...side(63), accelerator_busy: 0.32 },
      pipelined_to_bound: 0.97,
      pipelined_to_measured_bound: 0.97,
      pipelined_to_serial: 194 / 134,
      pipelined_to_serial_as_filed: 194 / 63,
    },
    cpu,
    ...overrides,
  };
}

describe('renderPipeline', () => {
  test('x1.6 is judged against the serial design issue 16 found; today serial ratio and its ceiling beside it', () => {
    const text = renderPipeline(result({})).join('\n');
    assert.match(text, /## Pipeline: preprocessing in parallel/);
    assert.match(text, /the serial design issue 16 found \(JavaScript resize\): x3\.08 \(target x1\.6: met\)/);
    assert.match(text, /serial with today's resize: x1\.45 \(below x1\.6\)/);
    assert.match(text, /capped by the accelerator at 200\.0 pairs\/s/);
    assert.match(text, /at or under 125\.0 pairs\/s \(it made 134\.0\)/);
    assert.match(text, /target x1\.8: \*\*missed\*\*/);
    assert.match(
      text,
      /Two threads per core \(4 on 2 cores, not what auto starts\): 480\.0 pairs\/s \(x1\.85 of one thread on one core; cores used 1\.94\)/,
    );
  });

  test('a serial design as slow as the ceiling makes today ratio x1.6 too', () => {
    const r = result({});
    const simulated = { ...r.simulated!, serial: { ...r.simulated!.serial, qps: 120 }, pipelined_to_serial: 194 / 120 };
    assert.match(renderPipeline({ ...r, simulated }).join('\n'), /serial with today's resize: x1\.62 \(reaches x1\.6\)/);
  });

  test('where the cores, not the accelerator, cap the pipeline, the ceiling is theirs', () => {
    const r = result({});
    const bound = { accelerator_qps: 800, preprocess_qps: 453.7, bound_qps: 453.7, limited_by: 'preprocessing' as const };
    const text = renderPipeline({ ...r, simulated: { ...r.simulated!, bound } }).join('\n');
    assert.match(text, /capped by the cores' preprocessing at 453\.7 pairs\/s/);
    assert.match(text, /at or under 283\.6 pairs\/s/);
  });

  test('a result without the as-filed baseline (older JSON) judges x1.6 against today serial', () => {
    const r = result({});
    const { serial_as_filed: _s, pipelined_to_serial_as_filed: _p, ...simulated } = r.simulated!;
    assert.match(renderPipeline({ ...r, simulated }).join('\n'), /Pipelined \/ serial: x1\.45 \(target x1\.6: \*\*missed\*\*\)/);
  });

  test('--cpu-only renders only the CPU part, under the model name, with the intervals', () => {
    const text = renderPipeline(
      result({ preprocess: null, pool_scaling: null, simulated: null, model: "OFA's architecture at OFA-tiny sizes" }),
    ).join('\n');
    assert.match(text, /^## Pipeline on the CPU: OFA's architecture at OFA-tiny sizes/);
    assert.doesNotMatch(text, /SIMULATED|pinned/);
    assert.match(text, /CPU, OFA's architecture at OFA-tiny sizes \(onnxruntime\)/);
    assert.match(text, /median paired difference 0\.50 ms, 95% interval 0\.\d\d to 0\.\d\d ms; target within 1 ms: met/);
    assert.match(text, /\(0\.20 ms, 95% interval 0\.20 to 0\.20 ms\)/);
    assert.doesNotMatch(text, /cannot decide/, 'the interval stays under 1 ms');
  });

  test('a median over 1 ms whose interval spans 1 ms: missed, and the run cannot decide it', () => {
    const latency_c1 = {
      ...cpu.latency_c1,
      median_difference_ms: 2.5,
      differences_ms: { app: [-3, -1, 0.5, 2.5, 3, 4, 6, 8, 2.6], pipelined: [] },
    };
    const text = renderPipeline(result({ cpu: { ...cpu, latency_c1 } })).join('\n');
    assert.match(text, /target within 1 ms: \*\*missed\*\*, but the interval spans 1 ms: this run cannot decide it\)/);
    assert.doesNotMatch(text, /What the app itself adds/, 'a JSON without the per-call figures renders without that sentence');
  });

  test("the app's own part of each call decides what the noisy paired difference cannot", () => {
    const latency_c1 = {
      ...cpu.latency_c1,
      median_difference_ms: 2.5,
      differences_ms: { app: [-3, -1, 0.5, 2.5, 3, 4, 6, 8, 2.6], pipelined: [] },
      overhead_ms: { app: [0.41, 0.44, 0.39, 0.52, 0.47, 0.43, 0.45, 0.4, 0.46], pipelined: [0.9, 1.1, 1.2, 1.0, 0.95] },
    };
    const text = renderPipeline(result({ cpu: { ...cpu, latency_c1 } })).join('\n');
    assert.match(text, /this run cannot decide it\)/);
    assert.match(
      text,
      /What the app itself adds to a call, .*median 0\.44 ms, 95% interval 0\.4\d to 0\.4\d ms, with a pool 1\.00 ms, 95% interval .*: met \(the whole interval is under 1 ms\)\./,
    );
    const over = { ...latency_c1, overhead_ms: { app: [1.2, 1.4, 1.3, 1.5], pipelined: [1.2, 1.4, 1.3, 1.5] } };
    assert.match(renderPipeline(result({ cpu: { ...cpu, latency_c1: over } })).join('\n'), /Under 1 ms: \*\*missed\*\*\./);
  });

  test("onnxruntime's spin-waiting side renders its throughput ratio and its concurrency-1 figures, and only when measured", () => {
    assert.doesNotMatch(renderPipeline(result({ cpu })).join('\n'), /spin-waiting/, 'a run from before that side renders without it');
    const latency_c1 = {
      ...cpu.latency_c1,
      spinning_app_p50_ms: 24.25,
      differences_ms: { ...cpu.latency_c1.differences_ms!, spinning: [5, 6, 7, 6, 6] },
      overhead_ms: { app: [0.4, 0.5, 0.45], pipelined: [0.9, 1, 1.1], spinning: [2.5, 2.5, 2.5] },
      worker_cpu_ms_per_call: { app: 31.5, pipelined: 33, spinning: 52.25 },
    };
    const text = renderPipeline(result({ cpu: { ...cpu, spinning: { ...side(68), app_to_spinning: 85 / 68 }, latency_c1 } })).join('\n');
    assert.match(
      text,
      /the defaults with onnxruntime's spinning \(`OFA_VE_ORT_SPINNING=1`\) 68\.0 pairs\/s \(68\.0\), .*the app makes x1\.25 of it\./,
    );
    assert.match(
      text,
      /24\.25 ms vs the app's 18\.50 ms \(paired difference to raw 6\.00 ms, 95% interval 5\.00 to 7\.00 ms\); its own part 2\.50 ms.*; the worker's CPU per call 52\.25 ms vs the app's 31\.50 ms\./,
    );
    const shared = renderPipeline(result({ preprocess: null, pool_scaling: null, simulated: null, busy_cores: 1, cpu })).join('\n');
    assert.match(shared, /^## Pipeline on the CPU: the demo model, 1 of the cores busy with other work$/m);
    assert.match(shared, /1 other process spun at nice 0 \(`--busy-cores 1`\)/);
  });
});

describe('medianInterval95', () => {
  test('brackets the median, is the same every time, and is a point for constant data', () => {
    const xs = Array.from({ length: 60 }, (_, i) => Math.sin(i * 7.3) * 20 + 5);
    const sorted = [...xs].sort((a, b) => a - b);
    const median = (sorted[29]! + sorted[30]!) / 2;
    const [lo, hi] = medianInterval95(xs);
    assert.ok(lo <= median && median <= hi, `${lo} <= ${median} <= ${hi}`);
    assert.ok(hi > lo);
    assert.deepEqual(medianInterval95(xs), [lo, hi]);
    assert.deepEqual(medianInterval95([3, 3, 3, 3]), [3, 3]);
  });

  test('more rounds of the same spread give a narrower interval', () => {
    const noisy = (n: number) => Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * 30);
    const width = (xs: number[]) => {
      const [lo, hi] = medianInterval95(xs);
      return hi - lo;
    };
    assert.ok(width(noisy(400)) < width(noisy(20)));
  });
});
