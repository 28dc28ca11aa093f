/**
 * A simulated accelerator for benchmarking the pipeline on a machine without a GPU (`ofa-ve bench
 * --simulate-accelerator MS_PER_BATCH[,MS_PER_PAIR]`, never `serve`): it stands in for the
 * onnxruntime session (worker/simulated-accelerator.ts) and takes msPerBatch + msPerPair·n ms per
 * batch of n, on a timer, without using the CPU. Preprocessing stays the real one, so what is
 * measured is whether the CPU side keeps such a device busy. This module is plain data and
 * arithmetic, so the service process reads it without loading onnxruntime.
 */
export interface SimulatedAcceleratorSpec {
  readonly msPerBatch: number;
  readonly msPerPair: number;
}

/** `40` or `40,2.5` → the spec; throws RangeError saying what is wrong. */
export function parseSimulatedAccelerator(value: string): SimulatedAcceleratorSpec {
  const parts = value.split(',').map((v) => v.trim());
  const numbers = parts.map(Number);
  if (parts.length > 2 || parts.some((p) => p === '') || numbers.some((n) => !Number.isFinite(n) || n < 0)) {
    throw new RangeError(`expected MS_PER_BATCH[,MS_PER_PAIR] (milliseconds, 0 or more), got "${value}"`);
  }
  const [msPerBatch = 0, msPerPair = 0] = numbers;
  if (msPerBatch + msPerPair <= 0) throw new RangeError('a simulated batch must take some time (MS_PER_BATCH + MS_PER_PAIR > 0)');
  return { msPerBatch, msPerPair };
}

/** How long the simulated device takes for a batch of n. */
export function simulatedBatchMs(spec: SimulatedAcceleratorSpec, n: number): number {
  return spec.msPerBatch + spec.msPerPair * n;
}

/** The device's capacity in pairs per second when every batch holds `batchSize` pairs. */
export function simulatedCapacity(spec: SimulatedAcceleratorSpec, batchSize: number): number {
  return (1000 * batchSize) / simulatedBatchMs(spec, batchSize);
}

/** A one-line label for logs and reports. */
export function describeSimulatedAccelerator(spec: SimulatedAcceleratorSpec): string {
  return `simulated accelerator: ${spec.msPerBatch} ms per batch + ${spec.msPerPair} ms per pair (no model runs; answers mean nothing)`;
}
