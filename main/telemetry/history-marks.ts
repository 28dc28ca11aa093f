/** Marks: named points in time that periods are compared between (kept by the minute history). */

export type MarkKind = 'user' | 'model-change';

/** A named point in time ("before deploy"; "model: ofa-ve-large 1.0" set on a model change). */
export interface Mark {
  name: string;
  at_ms: number;
  kind: MarkKind;
}

export const MARK_KINDS: readonly MarkKind[] = ['user', 'model-change'];
/** Marks kept at most (the oldest go first): a bound on memory and on the marks file. */
export const MAX_MARKS = 1000;
export const MAX_MARK_NAME_LENGTH = 200;
