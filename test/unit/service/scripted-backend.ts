import { EventEmitter } from 'node:events';
import { CheckError } from '../../../main/errors.ts';
import type { EntailmentResult, ModelInfo } from '../../../main/inference/entailment-types.ts';
import type { BatchHooks, InferenceBackend } from '../../../main/service/inference-backend.ts';
import type { WorkerError, WorkerItem, WorkerOutcome } from '../../../main/service/worker-protocol.ts';

export const MODEL: ModelInfo = {
  name: 'scripted',
  version: '1',
  demo: true,
  provider: 'cpu',
  directory: '/nowhere',
  imageSize: 16,
  maxWords: 80,
  answers: { YES: 1, NO: 2, MAYBE: 3 },
};

export function answer(label: EntailmentResult['label'] = 'YES'): EntailmentResult {
  const scores = { YES: 0.2, NO: 0.2, MAYBE: 0.2, [label]: 0.6 };
  return {
    label,
    score: 0.6,
    scores,
    logits: { YES: 0, NO: 0, MAYBE: 0 },
    stages: { decode_image: 1, tokenize: 1, inference: 2, postprocess: 0 },
  };
}

/** One batch the service sent, settled by the test. */
export class ScriptedBatch {
  settled = false;

  constructor(
    readonly items: readonly WorkerItem[],
    private readonly hooks: BatchHooks | undefined,
    private readonly settle: (outcomes: readonly WorkerOutcome[] | CheckError) => void,
  ) {}

  get texts(): string[] {
    return this.items.map((i) => i.text);
  }

  /** The worker has started preparing every pair (its 'batch-started'). */
  start(): void {
    this.hooks?.onStarted?.();
  }

  /** Pair `index` could not be prepared (the worker's 'pair-refused'); its batch runs on. */
  refuse(index: number, error: WorkerError): void {
    this.hooks?.onRefused?.(index, error);
  }

  /** Answers every pair (YES), or as `outcome` says per item. */
  answer(waitMs = 0, outcome?: (item: WorkerItem, i: number) => WorkerOutcome): void {
    this.finish(this.items.map((item, i) => outcome?.(item, i) ?? { ok: true, value: { result: answer(), waitMs } }));
  }

  /** The whole batch fails (the worker died, or is not loaded). */
  fail(error: CheckError): void {
    this.finish(error);
  }

  private finish(outcome: readonly WorkerOutcome[] | CheckError): void {
    if (this.settled) return;
    this.settled = true;
    this.settle(outcome);
  }
}

export const refused = (error: WorkerError): WorkerOutcome => ({ ok: false, error });

/**
 * An InferenceBackend the test drives: it records each batch and settles it when told, so the
 * CheckService's queue, batching, expiry, watchdog and counting are checked step by step, without
 * a worker process or any timing. exit() fails the batches in it, as a worker's death does, and
 * leaves it restarting until comeBack().
 */
export class ScriptedBackend extends EventEmitter implements InferenceBackend {
  readonly batches: ScriptedBatch[] = [];
  readonly recycled: string[] = [];
  isReady = true;
  restarting = false;
  info: ModelInfo | undefined = MODEL;
  private readonly waiters: (() => void)[] = [];

  constructor(readonly pipelineDepth = 1) {
    super();
  }

  /** Batches sent and not settled, oldest first. */
  get open(): ScriptedBatch[] {
    return this.batches.filter((b) => !b.settled);
  }

  runBatch(items: readonly WorkerItem[], hooks?: BatchHooks): Promise<readonly WorkerOutcome[]> {
    if (!this.isReady) return Promise.reject(new CheckError('NOT_READY', 'the model is not loaded'));
    return new Promise((resolve, reject) => {
      this.batches.push(new ScriptedBatch(items, hooks, (o) => (o instanceof CheckError ? reject(o) : resolve(o))));
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  /** Records the reason; the worker exits when the test says so (exit()), as a killed process does a moment later. */
  async recycle(reason: string): Promise<void> {
    if (!this.isReady) return;
    this.recycled.push(reason);
  }

  /** The worker process is gone (killed or crashed): the batches in it fail, a replacement starts. */
  exit(): void {
    this.isReady = false;
    this.restarting = true;
    for (const batch of this.open) batch.fail(new CheckError('INTERNAL', 'the inference worker stopped while processing this request'));
  }

  /** The replacement is ready: queued checks go on. */
  comeBack(): void {
    this.isReady = true;
    this.restarting = false;
    this.emit('restarted', 1);
  }

  /** Resolves once `count` batches have been sent in all. */
  async sent(count: number): Promise<ScriptedBatch> {
    while (this.batches.length < count) await new Promise<void>((resolve) => this.waiters.push(resolve));
    return this.batches[count - 1] as ScriptedBatch;
  }
}
