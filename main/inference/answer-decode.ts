import { LABELS, type Label } from '../../preload/wire-types.ts';

export interface DecodedAnswer {
  readonly label: Label;
  readonly score: number;
  readonly scores: Record<Label, number>;
  /** The three answer tokens' raw logits (what parity with OFA's forward is judged on; softmax hides a shift). */
  readonly logits: Record<Label, number>;
}

/**
 * OFA's SNLI-VE answer: the three answer tokens' logits at the last decoder step, argmax for the
 * label, softmax over just those three for the scores (max-subtracted, so large logits are safe),
 * and the three logits themselves.
 */
export function decodeAnswer(logits: Float32Array, rowOffset: number, answerIds: Readonly<Record<Label, number>>): DecodedAnswer {
  const values = LABELS.map((label) => logits[rowOffset + answerIds[label]] ?? Number.NaN);
  if (values.some((v) => !Number.isFinite(v))) {
    throw new Error(`model produced a non-finite answer logit: ${values.join(', ')}`);
  }
  const max = Math.max(...values);
  const exps = values.map((v) => Math.exp(v - max));
  const total = exps.reduce((a, b) => a + b, 0);
  let best = 0;
  for (let i = 1; i < values.length; i++) if ((values[i] as number) > (values[best] as number)) best = i;
  const scores = { YES: 0, NO: 0, MAYBE: 0 };
  const answerLogits = { YES: 0, NO: 0, MAYBE: 0 };
  LABELS.forEach((label, i) => {
    scores[label] = (exps[i] as number) / total;
    answerLogits[label] = values[i] as number;
  });
  const label = LABELS[best] as Label;
  return { label, score: scores[label], scores, logits: answerLogits };
}
