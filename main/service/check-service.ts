import { randomUUID } from 'node:crypto';
import { captionWarnings } from '../../preload/caption-warnings.ts';
import type { OperatorProfile } from '../../preload/trace-spans.ts';
import type { CheckPair, CheckWarning, ResultType, StageName } from '../../preload/wire-types.ts';
import type { WorkerError, WorkerItem } from './worker-protocol.ts';
import { CheckError, toCheckError } from '../errors.ts';
import type { PairInputFacts } from '../inference/entailment-engine.ts';
import type { EntailmentResult, ModelInfo, StageTimings } from '../inference/entailment-types.ts';
import { sniffImageFormat } from '../inference/image-decode.ts';
import { describeInput, type InputFacts } from '../telemetry/input-slices.ts';
import type { LiveStats } from '../telemetry/live-stats.ts';
import type { ServiceMetrics } from '../telemetry/service-metrics.ts';
import type { AccessLog } from './access-log.ts';
import { DEFAULT_BATCHING, type BatchingOptions } from './batching-options.ts';
import type { InferenceBackend } from './inference-backend.ts';

export interface CheckAnswer extends EntailmentResult {
  readonly id: string;
  readonly latency_ms: number;
  readonly stages: StageTimings;
  readonly model: { readonly name: string; readonly version: string; readonly provider: string; readonly demo: boolean };
  /** What the model did not see as the reviewer meant it (caption cut at max_words, not English). */
  readonly warnings: readonly CheckWarning[];
}

/** Where a check came from and when: every field is optional (the bench calls check(request) alone). */
export interface CheckContext {
  /** performance.now() when the request arrived (default: when check() is called). */
  readonly startedAt?: number;
  readonly id?: string;
  /** For the access log: POST /api/v1/check, IPC check:run. */
  readonly method?: string;
  readonly route?: string;
  /**
   * Aborted when the client hangs up. A check still queued then is dropped before it runs and
   * counted as 499 CLIENT_CLOSED_REQUEST; one already in a running batch is counted as what it
   * ran to (the model did the work), though no one reads the answer.
   */
  readonly signal?: AbortSignal;
}

/** What a batch answers one queued check with. */
interface Ran {
  readonly result: EntailmentResult;
  readonly queueMs: number;
  readonly batchSize: number;
  readonly input?: PairInputFacts;
  /** Where the batch's operator events go when they come (for the trace). */
  readonly profile: BatchProfile;
}

/**
 * A batch's operator profile (`serve --profile-sample-rate`), which comes after its answers: each
 * answered check's trace gets it once both the check is recorded and the profile has come, in
 * whichever order the two happen. Only the backend's hooks hold it after the answers, until the
 * profile comes or the worker stops (inference-worker-host.ts), so one that never comes leaks nothing.
 */
class BatchProfile {
  private operators: OperatorProfile | undefined;
  private readonly waiting: string[] = [];

  constructor(private readonly attach: (id: string, operators: OperatorProfile) => void) {}

  /** Check `id` of the batch has been recorded in the trace ring. */
  recorded(id: string): void {
    if (this.operators) this.attach(id, this.operators);
    else this.waiting.push(id);
  }

  arrived(operators: OperatorProfile): void {
    this.operators = operators;
    for (const id of this.waiting.splice(0)) this.attach(id, operators);
  }
}

interface Queued {
  readonly item: WorkerItem;
  readonly enqueuedAt: number;
  readonly resolve: (value: Ran) => void;
  readonly reject: (error: CheckError) => void;
  timer?: NodeJS.Timeout;
  /** Stops listening for the client's hang-up once the entry is settled. */
  unlisten?: () => void;
  /** Set while the entry's batch is in the worker: a timeout then means the model is too slow. */
  dispatched?: boolean;
  /** Answered or failed: a promise settles once, and a settled entry is never sent again. */
  settled?: boolean;
}

/** A batch sent to the backend and not answered yet. */
interface InFlight {
  readonly entries: Queued[];
  readonly dispatchedAt: number;
  /** The worker has started preparing every pair of it: the batch after it may be sent. */
  started: boolean;
  /** Its watchdog fired: the worker is being replaced, nothing more is sent to it. */
  stalled: boolean;
  /** Taken back into the queue (its worker hung on an earlier batch): its late outcome is ignored. */
  requeued: boolean;
  watchdog?: NodeJS.Timeout;
}

/** What one check ended with, as record() counts it. */
interface RecordedOutcome {
  readonly id: string;
  readonly statusCode: number;
  readonly resultType: ResultType;
  readonly latencyMs: number;
  readonly stages?: Partial<Record<StageName, number>>;
  readonly batchSize?: number;
  readonly errorCode?: string;
  readonly warnings?: readonly CheckWarning[];
  /** What is known of the input, for the live stats' input slices. */
  readonly input?: InputFacts;
}

/** The facts the service itself knows of a request (the worker adds caption tokens and image size). */
export function requestFacts(request: Partial<CheckPair<unknown>>): InputFacts {
  const facts: { text?: string; premise?: string; imageFormat?: string } = {};
  if (typeof request.text === 'string') facts.text = request.text;
  if (typeof request.premise === 'string') facts.premise = request.premise;
  if (request.image instanceof Uint8Array && request.image.length > 0) {
    const sniffed = sniffImageFormat(request.image);
    facts.imageFormat = sniffed.kind === 'supported' ? sniffed.format : sniffed.kind;
  }
  return facts;
}

const clientClosed = (): CheckError => new CheckError('CLIENT_CLOSED_REQUEST', 'the client closed the connection before its check ran');

/** Retry-After, in seconds, given with OVERLOADED and NOT_READY. */
export const RETRY_AFTER_SECONDS = 1;

/**
 * The one service behind the desktop window (IPC), the HTTP API and the benchmark: validates,
 * queues (bounded), batches dynamically, runs the model on the backend (the inference worker),
 * times every stage and records every outcome once, in the Prometheus metrics and the live stats
 * alike. A backend with a preprocessing pool (a GPU's, by default) gets the next batch while one
 * runs (pipelineDepth 2), so the model never waits for preprocessing; at most that many batches
 * are in it at once. Without one (the CPU's default) it takes one batch at a time.
 */
export class CheckService {
  private readonly queue: Queued[] = [];
  /** A worker's refusal of a pair, and how long that pair waited in the queue before its batch was sent. */
  private readonly queuedBeforeRefusal = new WeakMap<CheckError, number>();
  private readonly inFlight: InFlight[] = [];
  private delayTimer: NodeJS.Timeout | undefined;
  private readonly options: BatchingOptions;
  private closed = false;

  constructor(
    private worker: InferenceBackend,
    private readonly metrics: ServiceMetrics,
    private readonly stats: LiveStats,
    options: Partial<BatchingOptions> = {},
    private readonly accessLog?: AccessLog,
  ) {
    this.options = { ...DEFAULT_BATCHING, ...options };
    this.watch(worker);
  }

  /** Queued work waits while a crashed worker restarts, and goes on when it is back (or failed). */
  private readonly onWorkerBack = (): void => this.pump();

  private watch(worker: InferenceBackend): void {
    worker.on('restarted', this.onWorkerBack);
    worker.on('restart-failed', this.onWorkerBack);
  }

  private unwatch(worker: InferenceBackend): void {
    worker.off('restarted', this.onWorkerBack);
    worker.off('restart-failed', this.onWorkerBack);
  }

  /** The loaded model; also while a crashed worker restarts with it (checks queue for it meanwhile). */
  get model(): ModelInfo | undefined {
    return this.worker.isReady || this.worker.restarting ? this.worker.info : undefined;
  }

  get batching(): BatchingOptions {
    return this.options;
  }

  get queueDepth(): number {
    return this.queue.length;
  }

  /** Checks one pair. Never throws anything but a CheckError; every call is counted exactly once. */
  async check(request: CheckPair, context: CheckContext = {}): Promise<CheckAnswer> {
    const startedAt = context.startedAt ?? performance.now();
    const id = context.id ?? randomUUID();
    this.metrics.inflight.inc();
    let facts: InputFacts | undefined;
    try {
      facts = requestFacts(request);
      const model = this.model;
      if (!model) throw new CheckError('NOT_READY', 'the model is not loaded yet');
      if (typeof request.text !== 'string') throw new CheckError('EMPTY_TEXT', 'the caption (text) is missing');
      const item = { id, image: request.image, text: request.text, premise: request.premise };
      const { result, queueMs, batchSize, input, profile } = await this.enqueue(item, context.signal);
      const latency = performance.now() - startedAt;
      const stages: StageTimings = { ...result.stages, queue: queueMs };
      const answer: CheckAnswer = {
        ...result,
        id,
        latency_ms: latency,
        stages,
        model: { name: model.name, version: model.version, provider: model.provider, demo: model.demo },
        // Here, once per answered check, so HTTP, IPC and the bench all carry (and count) the same.
        warnings: captionWarnings(request.text, model.maxWords, request.premise),
      };
      const outcome = { statusCode: 200, resultType: result.label, latencyMs: latency, stages, batchSize, warnings: answer.warnings };
      this.record({ id, ...outcome, input: { ...facts, ...input } }, context);
      profile.recorded(id);
      return answer;
    } catch (err) {
      // A pair the worker refused waited in the queue first: its trace and the slowest list show that.
      const queued = err instanceof CheckError ? this.queuedBeforeRefusal.get(err) : undefined;
      throw this.refuse(err, { ...context, id, startedAt }, facts, queued === undefined ? undefined : { queue: queued });
    } finally {
      this.metrics.inflight.dec();
    }
  }

  /**
   * The one place a check that got no answer is counted (metrics, live stats, access log): every
   * failure inside check(), and every check an adapter refused before handing it over (401, 403,
   * 413, 415, no room for the body, a body that does not parse, 408 past the body deadline, 499 when
   * the client hung up mid-body, a malformed IPC request). Adapters parse and hand over; they call
   * this for what they refuse and count nothing themselves. Returns the error to throw or answer.
   */
  refuse(
    err: unknown,
    context: CheckContext & { readonly id: string; readonly startedAt: number },
    input?: InputFacts,
    stages?: Partial<Record<StageName, number>>,
  ): CheckError {
    const error = toCheckError(err);
    const latencyMs = performance.now() - context.startedAt;
    this.record(
      { id: context.id, statusCode: error.status, resultType: 'ERROR', latencyMs, stages, errorCode: error.code, input },
      context,
    );
    return error;
  }

  private record(outcome: RecordedOutcome, context: CheckContext): void {
    const { id, statusCode, resultType, latencyMs, stages, batchSize, errorCode, warnings } = outcome;
    const attributes = outcome.input ? describeInput(outcome.input) : undefined;
    // The metrics count the warnings of a 200 themselves (ofa_ve_check_warnings_total); stages carry the caption's script.
    this.metrics.recordRequest({ id, statusCode, resultType, latencyMs, stages, warnings, script: attributes?.captionScript });
    this.stats.record({ id, endedAtMs: Date.now(), latencyMs, statusCode, resultType, stages, batchSize, errorCode, attributes });
    this.accessLog?.write({
      id,
      status: statusCode,
      code: errorCode,
      label: statusCode === 200 ? resultType : undefined,
      latencyMs,
      method: context.method,
      route: context.route,
    });
  }

  private enqueue(item: WorkerItem, signal?: AbortSignal): Promise<Ran> {
    if (this.closed) return Promise.reject(new CheckError('NOT_READY', 'the service is shutting down'));
    if (signal?.aborted) return Promise.reject(clientClosed());
    if (this.queue.length >= this.options.maxQueueSize) {
      return Promise.reject(
        new CheckError('OVERLOADED', `the queue is full (${this.options.maxQueueSize} waiting); retry in ${RETRY_AFTER_SECONDS} s`),
      );
    }
    return new Promise((resolve, reject) => {
      const entry: Queued = {
        item,
        enqueuedAt: performance.now(),
        resolve: (value) => {
          entry.settled = true;
          entry.unlisten?.();
          resolve(value);
        },
        reject: (error) => {
          entry.settled = true;
          entry.unlisten?.();
          reject(error);
        },
      };
      if (signal) {
        const onAbort = () => this.dropQueued(entry, clientClosed());
        signal.addEventListener('abort', onAbort, { once: true });
        entry.unlisten = () => signal.removeEventListener('abort', onAbort);
      }
      entry.timer = setTimeout(() => this.expire(entry), this.options.requestTimeoutMs);
      entry.timer.unref();
      this.queue.push(entry);
      this.metrics.queueDepth.set(this.queue.length);
      this.pump();
    });
  }

  /** Takes an entry out of the queue before it runs and fails it; one already dispatched runs on. */
  private dropQueued(entry: Queued, error: CheckError): void {
    const index = this.queue.indexOf(entry);
    if (index < 0) return;
    this.queue.splice(index, 1);
    this.metrics.queueDepth.set(this.queue.length);
    clearTimeout(entry.timer);
    entry.reject(error);
  }

  /**
   * The request's time is up. Still queued: 503 OVERLOADED (retry later), or NOT_READY while the
   * worker restarts. In a running batch:
   * 504 TIMEOUT; the batch's late result for it is dropped (a promise settles once, so it is
   * counted once), and the batch watchdog replaces the worker if the whole batch overruns.
   */
  private expire(entry: Queued): void {
    const ms = this.options.requestTimeoutMs;
    if (entry.dispatched) {
      entry.reject(new CheckError('TIMEOUT', `the model did not answer within the request timeout (${ms} ms)`));
      return;
    }
    // Waiting for a worker that is being replaced is not overload: say so (503 either way).
    const error = this.worker.restarting
      ? new CheckError('NOT_READY', `the request waited ${ms} ms in the queue for the inference worker to restart`)
      : new CheckError('OVERLOADED', `the request waited ${ms} ms in the queue without a free model slot`);
    this.dropQueued(entry, error);
  }

  /**
   * Dispatches a batch when the worker can take one: at once when full, else after
   * maxQueueDelayMs. A worker busy with a batch takes the next (up to its pipelineDepth) once it
   * has started preparing every pair it holds: its preprocessing threads then never run dry, and
   * a worker that is stuck (or a batch still waiting for threads) is sent nothing more.
   */
  private pump(): void {
    if (this.queue.length === 0 || this.worker.restarting) return;
    if (this.inFlight.length >= this.worker.pipelineDepth) return;
    if (this.inFlight.some((f) => f.stalled || !f.started)) return;
    const oldest = this.queue[0] as Queued;
    const waited = performance.now() - oldest.enqueuedAt;
    if (this.queue.length < this.options.maxBatchSize && waited < this.options.maxQueueDelayMs) {
      if (!this.delayTimer) {
        this.delayTimer = setTimeout(() => {
          this.delayTimer = undefined;
          this.pump();
        }, this.options.maxQueueDelayMs - waited);
      }
      return;
    }
    if (this.delayTimer) {
      clearTimeout(this.delayTimer);
      this.delayTimer = undefined;
    }
    const batch = this.queue.splice(0, this.options.maxBatchSize);
    this.metrics.queueDepth.set(this.queue.length);
    void this.dispatch(batch);
  }

  private async dispatch(entries: Queued[]): Promise<void> {
    const flight: InFlight = { entries, dispatchedAt: performance.now(), started: false, stalled: false, requeued: false };
    this.inFlight.push(flight);
    for (const entry of entries) entry.dispatched = true;
    // Every request of the batch has timed out by now: the worker is hung or far too slow, and the
    // queue behind it would wait forever. Replacing it fails the batch and frees the service.
    const worker = this.worker;
    flight.watchdog = setTimeout(() => this.watchdogFired(flight, worker), this.options.requestTimeoutMs);
    flight.watchdog.unref();
    const onStarted = () => {
      if (flight.requeued) return;
      flight.started = true;
      this.pump();
    };
    const profile = new BatchProfile((id, operators) => this.stats.traces.attachOperators(id, operators));
    const onProfile = (operators: OperatorProfile) => profile.arrived(operators);
    // A pair refused while being prepared is answered at once: on a CPU the batch's run can take seconds.
    // The queue time of a pair the worker refused (its error's key): until its batch was sent.
    const refusal = (entry: Queued, error: WorkerError): CheckError => {
      const refused = new CheckError(error.code, error.message);
      this.queuedBeforeRefusal.set(refused, flight.dispatchedAt - entry.enqueuedAt);
      return refused;
    };
    const onRefused = (index: number, error: WorkerError) => {
      const entry = entries[index];
      if (flight.requeued || !entry || entry.settled) return;
      clearTimeout(entry.timer);
      entry.reject(refusal(entry, error));
    };
    try {
      const outcomes = await worker.runBatch(
        entries.map((e) => e.item),
        { onStarted, onProfile, onRefused },
      );
      if (flight.requeued) return;
      const ran = outcomes.filter((o) => o.ok).length;
      if (ran > 0) {
        this.metrics.batchSize.observe(ran);
        this.stats.recordBatch(ran);
      }
      entries.forEach((entry, i) => {
        const outcome = outcomes[i];
        if (outcome?.ok) {
          // Queue time is all the waiting: here before dispatch, and in the worker (for a thread, then for the session).
          const { result, waitMs, input } = outcome.value;
          const queueMs = flight.dispatchedAt - entry.enqueuedAt + waitMs;
          entry.resolve({ result, queueMs, batchSize: ran, input, profile });
        } else {
          entry.reject(outcome ? refusal(entry, outcome.error) : new CheckError('INTERNAL', 'no result for this request'));
        }
      });
    } catch (err) {
      if (flight.requeued) return;
      const error = toCheckError(err);
      for (const entry of entries) entry.reject(error);
    } finally {
      clearTimeout(flight.watchdog);
      const index = this.inFlight.indexOf(flight);
      if (index >= 0) this.inFlight.splice(index, 1);
      if (!flight.requeued) for (const entry of entries) clearTimeout(entry.timer);
      this.pump();
    }
  }

  /**
   * A batch ran past the request timeout: its worker is replaced (which fails the batch). Batches
   * sent after it have not started running (the worker runs them in order), so they go back to
   * the front of the queue for the replacement rather than fail with the hung one.
   */
  private watchdogFired(flight: InFlight, worker: InferenceBackend): void {
    const index = this.inFlight.indexOf(flight);
    if (index < 0) return;
    flight.stalled = true;
    const later = this.inFlight.splice(index + 1);
    const requeued: Queued[] = [];
    for (const next of later) {
      next.requeued = true;
      clearTimeout(next.watchdog);
      for (const entry of next.entries) {
        if (entry.settled) continue;
        entry.dispatched = false;
        requeued.push(entry);
      }
    }
    if (requeued.length > 0) {
      this.queue.unshift(...requeued);
      this.metrics.queueDepth.set(this.queue.length);
    }
    void worker.recycle(`a batch of ${flight.entries.length} ran past the request timeout (${this.options.requestTimeoutMs} ms)`);
  }

  /**
   * Sends later batches to `next` (a worker with another model, already loaded); resolves once
   * the batches in the previous worker, if any, have finished, so that it can be closed.
   */
  async replaceWorker(next: InferenceBackend): Promise<void> {
    const previous = this.worker;
    while (this.inFlight.length > 0) await new Promise((r) => setTimeout(r, 5));
    this.unwatch(previous);
    this.worker = next;
    this.watch(next);
    this.pump();
  }

  /** Stops taking requests and waits (bounded) for queued and running ones to finish. */
  async drain(timeoutMs: number): Promise<void> {
    this.closed = true;
    const deadline = Date.now() + timeoutMs;
    while ((this.queue.length > 0 || this.inFlight.length > 0) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}
