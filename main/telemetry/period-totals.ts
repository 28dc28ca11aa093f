/**
 * The figures of a stretch of time summed from its periods (live 1 s / 10 s buckets, or history
 * minutes): for all checks and, for the attributes asked for, per slice. What a comparison reads,
 * and what a restored minute is merged through.
 *
 * The history keeps a slice's stage timings as moments (count, sum, squared deviations), not
 * sketches (see minute-history.ts): a stage that got any part of its period that way has a mean
 * and variance but no quantiles.
 */
import { ATTRIBUTE_COUNT, sliceValues } from './input-slices.ts';
import { addMoments, sketchMoments, SketchSum, type Moments, type SketchData } from './quantile-sketch.ts';
import { STAGE_COUNT, type CellData } from './slice-cells.ts';

/** Values over a period: moments always; the sketch when every part of the period kept one. */
export interface Distribution {
  moments: Moments;
  sketch: SketchData | null;
}

/** A cell as a comparison reads it. */
export interface CellSummary {
  requests: number;
  clientErrors: number;
  serverErrors: number;
  latency: Distribution | null;
  stages: ReadonlyArray<Distribution | null>;
}

function distribution(sketch: SketchSum | null, moments: Moments | null): Distribution | null {
  if (!sketch && !moments) return null;
  const total: Moments = { count: 0, sum: 0, m2: 0 };
  if (sketch) addMoments(total, sketchMoments(sketch.data));
  if (moments) addMoments(total, moments);
  return { moments: total, sketch: moments && moments.count > 0 ? null : (sketch?.data ?? null) };
}

export class CellTotals implements CellData {
  requests = 0;
  clientErrors = 0;
  serverErrors = 0;
  private latencySum: SketchSum | null = null;
  private readonly stageSums: Array<SketchSum | null> = new Array<SketchSum | null>(STAGE_COUNT).fill(null);
  /** Stage timings that came as moments only (history slices). */
  private readonly stageMoments: Array<Moments | null> = new Array<Moments | null>(STAGE_COUNT).fill(null);

  get latency(): SketchData | null {
    return this.latencySum?.data ?? null;
  }

  get stages(): ReadonlyArray<SketchData | null> {
    return this.stageSums.map((sum) => sum?.data ?? null);
  }

  /** The latency sum to add to (created now). */
  latencyTarget(): SketchSum {
    return (this.latencySum ??= new SketchSum());
  }

  stageTarget(index: number): SketchSum {
    return (this.stageSums[index] ??= new SketchSum());
  }

  addCounts(requests: number, clientErrors: number, serverErrors: number): void {
    this.requests += requests;
    this.clientErrors += clientErrors;
    this.serverErrors += serverErrors;
  }

  addStageMoments(index: number, moments: Moments): void {
    if (moments.count === 0) return;
    addMoments((this.stageMoments[index] ??= { count: 0, sum: 0, m2: 0 }), moments);
  }

  /** Each stage's moments, whichever way its values came. */
  momentsOfStages(): Array<Moments | null> {
    return this.stageSums.map((sum, i) => distribution(sum, this.stageMoments[i] ?? null)?.moments ?? null);
  }

  summaryCounts(): { requests: number; clientErrors: number; serverErrors: number } {
    return { requests: this.requests, clientErrors: this.clientErrors, serverErrors: this.serverErrors };
  }

  summary(): CellSummary {
    return {
      requests: this.requests,
      clientErrors: this.clientErrors,
      serverErrors: this.serverErrors,
      latency: distribution(this.latencySum, null),
      stages: this.stageSums.map((sum, i) => distribution(sum, this.stageMoments[i] ?? null)),
    };
  }

  add(cell: CellData): void {
    this.addCounts(cell.requests, cell.clientErrors, cell.serverErrors);
    if (cell.latency && cell.latency.count > 0) this.latencyTarget().add(cell.latency);
    cell.stages.forEach((stage, i) => {
      if (stage && stage.count > 0) this.stageTarget(i).add(stage);
    });
  }
}

export class PeriodTotals {
  readonly overall = new CellTotals();
  /** `slices[attribute][slice]` for the attributes this sums (others stay empty arrays). */
  readonly slices: Array<Array<CellTotals | null>>;

  /** `attributes`: the indexes (SLICE_ATTRIBUTES order) whose slices are summed; the rest are skipped. */
  constructor(readonly attributes: readonly number[] = []) {
    this.slices = Array.from({ length: ATTRIBUTE_COUNT }, (_, a) =>
      attributes.includes(a) ? new Array<CellTotals | null>(sliceValues(a).length).fill(null) : [],
    );
  }

  wants(attribute: number): boolean {
    return this.slices[attribute]!.length > 0;
  }

  /** The totals of one slice to add to (created now), or null when this attribute is not summed. */
  sliceTarget(attribute: number, slice: number): CellTotals | null {
    const row = this.slices[attribute]!;
    if (slice < 0 || slice >= row.length) return null;
    return (row[slice] ??= new CellTotals());
  }
}
