/**
 * The trace ring: what `GET /api/v1/requests/{id}/trace` is built from, for each of the last
 * `capacity` checks (default 2000), successful or failed. It keeps only the compact sample in
 * preallocated columns (typed arrays, one slot per check) and a map from request id to slot; the
 * documents are built on request (trace-chrome.ts, trace-otlp.ts, in this folder). Recording a check overwrites the
 * oldest slot: a few array writes and one map update, no allocation but the map's entry.
 * Measured: about 150 ns to record a check and 600 bytes a check kept, most of it the id string (a
 * randomUUID) and its map entry: 1.2 MB for the default 2000.
 *
 * Operator profiles (`serve --profile-sample-rate`) are attached to the checks of their batch
 * afterwards (`attachOperators`): one profile shared by the batch's slots, and at most
 * `profilesKept` profiles (default 32) held at once, the oldest let go first, so the ring's memory
 * stays bounded however often batches are profiled (a profile holds at most 2000 events: about
 * 300 kB, 10 MB for 32).
 */
import type { OperatorProfile, TraceInput } from '../../preload/trace-spans.ts';
import { RESULT_TYPES, STAGE_NAMES, type StageName } from '../../preload/wire-types.ts';
import { isDuration } from './quantile-sketch.ts';

export const DEFAULT_TRACES_KEPT = 2000;
export const DEFAULT_PROFILES_KEPT = 32;

const STAGE_COUNT = STAGE_NAMES.length;

/** What the ring takes from a check (a RequestSample is one): a trace's input less its times, which record() takes apart. */
export type TracedCheck = Omit<TraceInput, 'endedAtMs' | 'latencyMs'>;

export class RequestTraces {
  readonly capacity: number;
  private readonly ids: (string | undefined)[];
  private readonly endedAt: Float64Array;
  private readonly latency: Float64Array;
  private readonly status: Uint16Array;
  private readonly result: Uint8Array;
  /** NaN: not reported. Stages and batch sizes are kept by the slowest list's rule (`isDuration`), so both give the same trace. */
  private readonly batchSize: Float64Array;
  /** STAGE_COUNT per slot, in STAGE_NAMES order; NaN: the stage did not run (or was not timed). */
  private readonly stages: Float64Array;
  private readonly errorCodes: (string | undefined)[];
  private readonly batchIds: (string | undefined)[];
  /** Per slot: the key of its batch's operator profile in `profiles`; 0: none. */
  private readonly profileKeys: Float64Array;
  /** The profiles held, oldest first (a Map keeps insertion order), at most profilesKept. */
  private readonly profiles = new Map<number, OperatorProfile>();
  private lastProfile: { profile: OperatorProfile; key: number } | undefined;
  private nextProfileKey = 1;
  private readonly slotOf = new Map<string, number>();
  private next = 0;

  constructor(
    capacity: number = DEFAULT_TRACES_KEPT,
    private readonly profilesKept: number = DEFAULT_PROFILES_KEPT,
  ) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError(`tracesKept must be a whole number ≥ 0, got ${capacity}`);
    if (!Number.isInteger(profilesKept) || profilesKept < 0) {
      throw new RangeError(`profilesKept must be a whole number ≥ 0, got ${profilesKept}`);
    }
    this.capacity = capacity;
    this.profileKeys = new Float64Array(capacity);
    this.ids = new Array<string | undefined>(capacity).fill(undefined);
    this.endedAt = new Float64Array(capacity);
    this.latency = new Float64Array(capacity);
    this.status = new Uint16Array(capacity);
    this.result = new Uint8Array(capacity);
    this.batchSize = new Float64Array(capacity);
    this.stages = new Float64Array(capacity * STAGE_COUNT);
    this.errorCodes = new Array<string | undefined>(capacity).fill(undefined);
    this.batchIds = new Array<string | undefined>(capacity).fill(undefined);
  }

  /** Checks currently kept. */
  get size(): number {
    return this.slotOf.size;
  }

  /**
   * Keeps `check` (ended at `endedAtMs`, epoch ms, after `latencyMs`; NaN when unknown) in place of
   * the oldest. A second check with the same id replaces the first's entry.
   */
  record(check: TracedCheck, endedAtMs: number, latencyMs: number): void {
    if (this.capacity === 0) return;
    const slot = this.next;
    this.next = slot + 1 === this.capacity ? 0 : slot + 1;
    const evicted = this.ids[slot];
    if (evicted !== undefined && this.slotOf.get(evicted) === slot) this.slotOf.delete(evicted);
    const id = String(check.id);
    this.ids[slot] = id;
    this.endedAt[slot] = endedAtMs;
    this.latency[slot] = latencyMs;
    this.status[slot] = check.statusCode;
    const result = RESULT_TYPES.indexOf(check.resultType);
    this.result[slot] = result < 0 ? RESULT_TYPES.length - 1 : result;
    this.batchSize[slot] = isDuration(check.batchSize) ? check.batchSize : NaN;
    const base = slot * STAGE_COUNT;
    for (let i = 0; i < STAGE_COUNT; i++) {
      const ms = check.stages?.[STAGE_NAMES[i]!];
      this.stages[base + i] = isDuration(ms) ? ms : NaN;
    }
    this.errorCodes[slot] = typeof check.errorCode === 'string' ? check.errorCode : undefined;
    this.batchIds[slot] = typeof check.batchId === 'string' ? check.batchId : undefined;
    this.profileKeys[slot] = 0;
    this.slotOf.set(id, slot);
  }

  /**
   * Adds the operator profile of the batch that answered request `id` (recorded already) to its
   * trace. The checks of one batch pass the same profile object: it is held once for all of them.
   */
  attachOperators(id: string, profile: OperatorProfile): void {
    const slot = this.slotOf.get(id);
    if (slot === undefined || this.profilesKept === 0) return;
    let key: number;
    if (this.lastProfile?.profile === profile) key = this.lastProfile.key;
    else {
      key = this.nextProfileKey++;
      this.profiles.set(key, profile);
      this.lastProfile = { profile, key };
      // Map order is insertion order: the first key is the oldest profile.
      if (this.profiles.size > this.profilesKept) this.profiles.delete(this.profiles.keys().next().value as number);
    }
    this.profileKeys[slot] = key;
  }

  /** The trace input of request `id`, or undefined when it is unknown or no longer kept. */
  get(id: string): TraceInput | undefined {
    const slot = this.slotOf.get(id);
    if (slot === undefined) return undefined;
    const input: TraceInput = {
      id,
      endedAtMs: this.endedAt[slot]!,
      latencyMs: this.latency[slot]!,
      statusCode: this.status[slot]!,
      resultType: RESULT_TYPES[this.result[slot]!]!,
    };
    const stages: Partial<Record<StageName, number>> = {};
    let timed = false;
    for (let i = 0; i < STAGE_COUNT; i++) {
      const ms = this.stages[slot * STAGE_COUNT + i]!;
      if (Number.isNaN(ms)) continue;
      stages[STAGE_NAMES[i]!] = ms;
      timed = true;
    }
    if (timed) input.stages = stages;
    const batchSize = this.batchSize[slot]!;
    if (!Number.isNaN(batchSize)) input.batchSize = batchSize;
    const errorCode = this.errorCodes[slot];
    if (errorCode !== undefined) input.errorCode = errorCode;
    const batchId = this.batchIds[slot];
    if (batchId !== undefined) input.batchId = batchId;
    const operators = this.profiles.get(this.profileKeys[slot]!);
    if (operators) input.operators = operators;
    return input;
  }
}
