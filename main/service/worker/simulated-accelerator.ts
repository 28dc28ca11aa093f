import * as ort from 'onnxruntime-node';
import type { Label } from '../../../preload/wire-types.ts';
import type { BatchRunner } from '../../inference/onnx-session.ts';
import { simulatedBatchMs, type SimulatedAcceleratorSpec } from '../simulated-accelerator-spec.ts';

/**
 * The simulated accelerator's device (see simulated-accelerator-spec.ts): a BatchRunner in place of
 * the onnxruntime session that takes msPerBatch + msPerPair·n ms per batch of n on a timer, without
 * using the CPU, one batch at a time as a device does.
 */
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class SimulatedAccelerator implements BatchRunner {
  private readonly vocab: number;
  private readonly answerIds: readonly number[];
  /** The device runs one batch at a time: a second run waits for the first. */
  private busy: Promise<void> = Promise.resolve();

  constructor(
    private readonly spec: SimulatedAcceleratorSpec,
    answers: Readonly<Record<Label, number>>,
  ) {
    this.answerIds = [answers.YES, answers.NO, answers.MAYBE];
    this.vocab = Math.max(...this.answerIds) + 1;
  }

  async run(feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.OnnxValue>> {
    const pixels = feeds.pixel_values;
    const ids = feeds.input_ids;
    if (!pixels || !ids) throw new Error('the simulated accelerator needs pixel_values and input_ids');
    const n = Number(pixels.dims[0]);
    const previous = this.busy;
    let done!: () => void;
    this.busy = new Promise((resolve) => (done = resolve));
    try {
      await previous;
      await sleep(simulatedBatchMs(this.spec, n));
      return { logits: new ort.Tensor('float32', this.logits(n, ids), [n, this.vocab]) };
    } finally {
      done();
    }
  }

  /** Deterministic answers that differ between captions: one answer's logit raised per row. */
  private logits(n: number, ids: ort.Tensor): Float32Array {
    const data = new Float32Array(n * this.vocab);
    const values = ids.data as BigInt64Array;
    const width = Number(ids.dims[1]);
    for (let row = 0; row < n; row++) {
      let sum = 0n;
      for (let i = 0; i < width; i++) sum += values[row * width + i] as bigint;
      data[row * this.vocab + (this.answerIds[Number(sum % 3n)] as number)] = 2;
    }
    return data;
  }

  async release(): Promise<void> {}
}
