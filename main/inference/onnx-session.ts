import * as ort from 'onnxruntime-node';
import path from 'node:path';
import type { OperatorProfile } from '../../preload/trace-spans.ts';
import { CheckError } from '../errors.ts';
import { cudaProviderInstalled, type Provider, type ProviderChoice } from './provider-choice.ts';
import { SampledProfilingRunner } from './sampled-profiling.ts';
import { defaultIntraOpThreads } from './usable-cores.ts';

export type { Provider, ProviderChoice } from './provider-choice.ts';

/**
 * What runs a batch's input tensors and gives the output tensors: an onnxruntime session, or the
 * bench's simulated accelerator. One run at a time; a run's takeProfile may still be reading its
 * profile while the next run goes.
 */
export interface BatchRunner {
  run(feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.OnnxValue>>;
  release(): Promise<void>;
  /**
   * Where batches are sampled for profiling (sampled-profiling.ts): the last run's operator events
   * (undefined where its profile could not be read); undefined, at once, when it was not profiled.
   * Called once after each run, failed ones too.
   */
  takeProfile?(): Promise<OperatorProfile | undefined> | undefined;
}

export interface OpenedSession {
  readonly session: ort.InferenceSession;
  /** What runs the batches: the session itself, or with a sample rate the SampledProfilingRunner over it. */
  readonly runner: BatchRunner;
  readonly provider: Provider;
  /** Why CUDA was not used under `auto` (absent when it was, or when cpu was asked for). */
  readonly fallbackReason?: string;
}

export interface SessionOptions {
  readonly provider: ProviderChoice;
  /** Threads inside one operator; 0 lets onnxruntime pick; unset: defaultIntraOpThreads (one per usable core on the CPU). */
  readonly intraOpThreads?: number;
  /**
   * Fraction of batches run with onnxruntime's profiler (0..1, default 0: none, and no second
   * session is made): `serve --profile-sample-rate`.
   */
  readonly profileSampleRate?: number;
}

/** The graph interface of models/README.md: input name → element type and rank. */
const CONTRACT_INPUTS: Record<string, { type: ort.Tensor.Type; rank: number }> = {
  pixel_values: { type: 'float32', rank: 4 },
  input_ids: { type: 'int64', rank: 2 },
  attention_mask: { type: 'int64', rank: 2 },
  decoder_input_ids: { type: 'int64', rank: 2 },
  decoder_attention_mask: { type: 'int64', rank: 2 },
};
export const LOGITS_OUTPUT = 'logits';

function describeError(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0]?.slice(0, 300) ?? 'unknown error';
}

/** onnxruntime's session config entries for its intra-op threads' spin-waiting (`extra.session`). */
export interface SpinningConfig {
  readonly intra_op: { readonly allow_spinning: '0' | '1' };
  readonly force_spinning_stop: '0' | '1';
}

/**
 * onnxruntime's intra-op threads spin-wait by default, within a run (between an operator's parallel
 * sections, where waking a sleeping thread costs more than the work) and for a while after it: with
 * 2 threads, 20-30 ms of a core after every run (test/unit/inference/onnx-session.test.ts), the core
 * the next batch's preprocessing, the pool's threads, the service and, in the desktop app, the UI
 * need. Here they spin during a run and stop when it ends (force_spinning_stop). The demo model on
 * 2 threads, 2026-12-02 (BENCHMARKS.md, pipeline): against onnxruntime's default this way makes
 * x1.05 the pairs/s at concurrency 16 and halves the worker's CPU per call at concurrency 1 (31.7 vs
 * 58.7 ms) for 2.7 ms more per call (23.2 vs 20.5 ms); no spinning at all cost 5.6 ms (27.8 vs 22.2).
 * OFA_VE_ORT_SPINNING=1 restores onnxruntime's default, =0 turns spinning off altogether.
 */
export function spinningConfig(env: NodeJS.ProcessEnv = process.env): SpinningConfig {
  const setting = env.OFA_VE_ORT_SPINNING;
  if (setting === '1') return { intra_op: { allow_spinning: '1' }, force_spinning_stop: '0' };
  if (setting === '0') return { intra_op: { allow_spinning: '0' }, force_spinning_stop: '0' };
  return { intra_op: { allow_spinning: '1' }, force_spinning_stop: '1' };
}

/** `profilePrefix`: a profiling session (its profile file's path starts with it). */
async function create(file: string, provider: Provider, options: SessionOptions, profilePrefix?: string): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(file, {
    executionProviders: [provider === 'cuda' ? { name: 'cuda', deviceId: 0 } : 'cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: options.intraOpThreads ?? defaultIntraOpThreads(provider),
    logSeverityLevel: 3,
    extra: { session: spinningConfig() },
    ...(profilePrefix === undefined ? {} : { enableProfiling: true, profileFilePrefix: profilePrefix }),
  });
}

const CUDA_INSTALL_HINT = 'install onnxruntime-node with ONNXRUNTIME_NODE_INSTALL=cuda12 on a machine with an NVIDIA GPU';

/** Opens the graph with the requested provider: `auto` tries CUDA and falls back to CPU. */
export async function openSession(file: string, imageSize: number, options: SessionOptions): Promise<OpenedSession> {
  const name = path.basename(file);
  let fallbackReason: string | undefined;
  const cudaInstalled = cudaProviderInstalled();
  if (options.provider === 'cuda' && !cudaInstalled) {
    throw new CheckError('MODEL_INVALID', `the CUDA provider is not installed; ${CUDA_INSTALL_HINT}, or use --provider cpu`);
  }
  if (options.provider === 'auto' && !cudaInstalled) fallbackReason = 'CUDA provider not installed';
  const wanted: Provider[] = options.provider === 'cpu' || !cudaInstalled ? [] : ['cuda'];
  let opened: Omit<OpenedSession, 'runner'> | undefined;
  for (const provider of wanted) {
    try {
      opened = { session: await create(file, provider, options), provider };
    } catch (err) {
      if (options.provider === 'cuda') {
        throw new CheckError(
          'MODEL_INVALID',
          `the CUDA provider could not be used (${describeError(err)}); ${CUDA_INSTALL_HINT}, or use --provider cpu`,
        );
      }
      fallbackReason = `CUDA provider unavailable: ${describeError(err)}`;
    }
  }
  if (!opened) {
    try {
      opened = { session: await create(file, 'cpu', options), provider: 'cpu', fallbackReason };
    } catch (err) {
      throw new CheckError('MODEL_INVALID', `${name}: onnxruntime cannot load it (${describeError(err)})`);
    }
  }
  checkGraphInterface(name, opened.session, imageSize);
  const rate = options.profileSampleRate ?? 0;
  if (!(rate > 0)) return { ...opened, runner: opened.session };
  const { session, provider } = opened;
  const runner = await SampledProfilingRunner.start(session, (prefix) => create(file, provider, options, prefix), {
    sampleRate: rate,
    imageSize,
    warn: (message) => process.emitWarning(`${name}: operator profiling: ${message}`, { code: 'OFA_VE_PROFILING' }),
  });
  return { ...opened, runner };
}

/** Fails with the file name and the first difference when the graph breaks the contract. */
export function checkGraphInterface(name: string, session: ort.InferenceSession, imageSize: number): void {
  const problems: string[] = [];
  const inputs = new Map(session.inputMetadata.map((m) => [m.name, m]));
  for (const [inputName, want] of Object.entries(CONTRACT_INPUTS)) {
    const meta = inputs.get(inputName);
    if (!meta) {
      problems.push(`missing input "${inputName}"`);
      continue;
    }
    if (!meta.isTensor || meta.type !== want.type) {
      problems.push(`input "${inputName}" must be ${want.type}`);
    } else if (meta.shape.length !== want.rank) {
      problems.push(`input "${inputName}" must have rank ${want.rank}, has [${meta.shape.join(', ')}]`);
    }
  }
  for (const extra of inputs.keys()) {
    if (!(extra in CONTRACT_INPUTS)) problems.push(`unexpected input "${extra}"`);
  }
  const pixels = inputs.get('pixel_values');
  if (pixels?.isTensor && pixels.shape.length === 4) {
    const [, channels, height, width] = pixels.shape;
    const fixedOk = (dim: number | string | undefined, value: number): boolean => typeof dim !== 'number' || dim === value;
    if (!fixedOk(channels, 3) || !fixedOk(height, imageSize) || !fixedOk(width, imageSize)) {
      problems.push(`input "pixel_values" is [${pixels.shape.join(', ')}], model.json says [batch, 3, ${imageSize}, ${imageSize}]`);
    }
  }
  const logits = session.outputMetadata.find((m) => m.name === LOGITS_OUTPUT);
  if (!logits) problems.push(`missing output "${LOGITS_OUTPUT}"`);
  else if (logits.isTensor && (logits.type !== 'float32' || logits.shape.length !== 2)) {
    problems.push(`output "${LOGITS_OUTPUT}" must be float32 [batch, vocab]`);
  }
  if (problems.length > 0) {
    throw new CheckError('MODEL_INVALID', `${name}: does not follow the model contract: ${problems.join('; ')}`);
  }
}
