/** Marks: named points in time that periods are compared between (kept by the minute history). */
import type { MarkKind } from '../../preload/wire-types.ts';

export type { Mark, MarkKind } from '../../preload/wire-types.ts';

export const MARK_KINDS: readonly MarkKind[] = ['user', 'model-change'];
/** Marks kept at most (the oldest go first): a bound on memory and on the marks file. */
export const MAX_MARKS = 1000;
export const MAX_MARK_NAME_LENGTH = 200;
