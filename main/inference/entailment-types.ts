/** The shapes that flow out of the engine; the service, CLI and API contract build on them. */
import type { Label, StageName } from '../../preload/wire-types.ts';

/** Stage durations in milliseconds (one per StageName). `queue` is filled in by the service. */
export type StageTimings = { queue?: number } & Record<Exclude<StageName, 'queue'>, number>;

export interface EntailmentResult {
  readonly label: Label;
  /** Softmax over the three answer logits, at the label. */
  readonly score: number;
  readonly scores: Readonly<Record<Label, number>>;
  /**
   * The three answer tokens' logits at the last decoder step, as the model gave them. Internal (the
   * wire's CheckResult carries scores only): the OFA parity test compares them with OFA's forward.
   */
  readonly logits: Readonly<Record<Label, number>>;
  readonly stages: StageTimings;
}

export interface ModelInfo {
  readonly name: string;
  readonly version: string;
  readonly demo: boolean;
  readonly description?: string;
  readonly provider: 'cuda' | 'cpu';
  readonly providerFallbackReason?: string;
  readonly directory: string;
  readonly imageSize: number;
  readonly maxWords: number;
  readonly answers: Readonly<Record<Label, number>>;
}
