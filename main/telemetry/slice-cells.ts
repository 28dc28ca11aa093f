/**
 * The figures kept per period for all checks and for each input slice alike: counts, failures by
 * kind and sketches of the successful checks' latency and stage timings (`LatencyCell`), and a
 * period's cells per attribute and slice (`SliceTable`, created only for periods that see a check).
 */
import { STAGE_NAMES, type StageName } from '../../preload/wire-types.ts';
import { ATTRIBUTE_COUNT, sliceValues } from './input-slices.ts';
import { DurationSketch, isDuration, type SketchData } from './quantile-sketch.ts';

export type Outcome = 'success' | 'client_error' | 'server_error';

/** One request, already validated and normalised by `LiveStats.record`. */
export interface NormalisedSample {
  /** Index into RESULT_TYPES; ERROR for every unsuccessful request. */
  resultIndex: number;
  statusCode: number;
  outcome: Outcome;
  /** End-to-end latency, or NaN when the sample carried none usable. */
  latencyMs: number;
  stages: Partial<Record<StageName, number>> | undefined;
  /** The request's slice of each input attribute (`sliceIndices`). */
  slices: Uint8Array;
}

export const STAGE_COUNT = STAGE_NAMES.length;

/** A cell's figures as the readers (window queries, history, comparison) see them, live or decoded. */
export interface CellData {
  readonly requests: number;
  readonly clientErrors: number;
  readonly serverErrors: number;
  /** Successful checks' end-to-end latency; null when none. */
  readonly latency: SketchData | null;
  /** Successful checks' stage timings in STAGE_NAMES order; null where none. */
  readonly stages: ReadonlyArray<SketchData | null>;
}

export class LatencyCell {
  requests = 0;
  /** Failed requests by kind (4xx; 5xx and anything else that is not an answer). */
  clientErrors = 0;
  serverErrors = 0;
  /** Created on first use (most cells are idle most of the time). */
  latency: DurationSketch | null = null;
  readonly stages: Array<DurationSketch | null> = new Array<DurationSketch | null>(STAGE_COUNT).fill(null);

  protected clearCell(): void {
    this.requests = 0;
    this.clientErrors = 0;
    this.serverErrors = 0;
    this.latency = null;
    this.stages.fill(null);
  }

  /** Counts the request; a successful one also feeds the sketches. Returns whether its latency was recorded. */
  protected addToCell(sample: NormalisedSample): boolean {
    this.requests++;
    if (sample.outcome === 'client_error') this.clientErrors++;
    else if (sample.outcome === 'server_error') this.serverErrors++;
    if (sample.outcome !== 'success') return false;
    const stages = sample.stages;
    if (stages) {
      for (let i = 0; i < STAGE_COUNT; i++) {
        const ms = stages[STAGE_NAMES[i]!];
        if (isDuration(ms)) (this.stages[i] ??= new DurationSketch()).add(ms);
      }
    }
    if (Number.isNaN(sample.latencyMs)) return false;
    (this.latency ??= new DurationSketch()).add(sample.latencyMs);
    return true;
  }

  protected freezeCell(): void {
    this.latency?.freeze();
    for (const sketch of this.stages) sketch?.freeze();
  }

  cellData(): CellData {
    return {
      requests: this.requests,
      clientErrors: this.clientErrors,
      serverErrors: this.serverErrors,
      latency: this.latency?.data ?? null,
      stages: this.stages.map((sketch) => sketch?.data ?? null),
    };
  }
}

/** One slice's cell (the methods LatencyCell keeps for its subclasses, opened up). */
export class SliceCell extends LatencyCell {
  add(sample: NormalisedSample): void {
    this.addToCell(sample);
  }

  freeze(): void {
    this.freezeCell();
  }
}

/** A period's cells, `cells[attribute][slice]` (SLICE_ATTRIBUTES and SLICE_VALUES order), created on first use. */
export class SliceTable {
  readonly cells: Array<Array<SliceCell | null>> = Array.from({ length: ATTRIBUTE_COUNT }, (_, a) =>
    new Array<SliceCell | null>(sliceValues(a).length).fill(null),
  );

  /** Adds the request to one cell per attribute: `sample.slices[a]` is its slice of attribute a. */
  add(sample: NormalisedSample): void {
    const slices = sample.slices;
    for (let a = 0; a < ATTRIBUTE_COUNT; a++) {
      const row = this.cells[a]!;
      (row[slices[a]!] ??= new SliceCell()).add(sample);
    }
  }

  freeze(): void {
    for (const row of this.cells) for (const cell of row) cell?.freeze();
  }
}
