import { cudaProviderInstalled, type ProviderChoice } from '../../inference/provider-choice.ts';
import { usableCores } from '../../inference/usable-cores.ts';

/**
 * `--preprocess-workers`: a number of preprocessing threads (0 is the serial design: the worker
 * prepares each batch, then runs it), or 'auto' (the default), decided by where the model runs.
 */
export type PreprocessWorkersSetting = number | 'auto';

/** Where the inference worker's model runs, as far as the preprocessing plan cares. */
export interface ModelPlacement {
  /** The `--provider` asked for. */
  readonly provider: ProviderChoice;
  /** The bench's simulated accelerator stands in for the session: a device that takes no CPU. */
  readonly simulated: boolean;
  /** onnxruntime's CUDA provider is installed (cudaProviderInstalled): without it, auto is the CPU. */
  readonly cudaInstalled: boolean;
  /** The cores this process can use (usableCores: its affinity, bounded by a container's CPU quota). */
  readonly cores: number;
}

/** This machine's placement of a model asked for with `provider` (the simulated accelerator: `simulated`). */
export function modelPlacement(provider: ProviderChoice, simulated: boolean): ModelPlacement {
  return { provider, simulated, cudaInstalled: cudaProviderInstalled(), cores: usableCores() };
}

/**
 * The threads for a setting once the session is open. 'auto' gives one per core when the model
 * runs off the CPU (a GPU, the simulated accelerator): preparing the next batch while the device
 * runs one keeps it fed (x1.5 pairs/s against the serial design at 40 ms per batch of 8). On the
 * CPU it gives none: there the threads take their cores from the model, and the pool's hand-offs
 * and the copy into the batch tensor cost more than the overlap wins (the demo model on 2 cores:
 * x0.95 pairs/s pipelined against serial, BENCHMARKS.md).
 */
export function preprocessThreads(setting: PreprocessWorkersSetting, modelOnCpu: boolean, cores: number): number {
  if (setting !== 'auto') return setting;
  return modelOnCpu ? 0 : cores;
}

/**
 * The threads when they can be known before the session opens, so that the pool starts while the
 * session loads (both take a while); undefined when 'auto' must wait to learn whether the session
 * got a GPU: provider auto with CUDA installed may still fall back to the CPU (no GPU, a driver
 * error), while provider cuda fails instead and auto without CUDA is the CPU.
 */
export function preprocessThreadsBeforeSession(setting: PreprocessWorkersSetting, placement: ModelPlacement): number | undefined {
  if (setting !== 'auto') return setting;
  if (placement.simulated || placement.provider === 'cuda') return placement.cores;
  if (placement.provider === 'cpu' || !placement.cudaInstalled) return 0;
  return undefined;
}

/** The most threads the pool can get: the worker's libuv pool is sized for them when it starts (workerEnv). */
export function mostPreprocessThreads(setting: PreprocessWorkersSetting, placement: ModelPlacement): number {
  return preprocessThreadsBeforeSession(setting, placement) ?? placement.cores;
}

/** A setting from a flag or an option: 'auto', or a whole number >= 0; anything else is undefined. */
export function parsePreprocessWorkers(value: string | number): PreprocessWorkersSetting | undefined {
  if (value === 'auto') return 'auto';
  const n = typeof value === 'number' ? value : value.trim() === '' ? Number.NaN : Number(value);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}
