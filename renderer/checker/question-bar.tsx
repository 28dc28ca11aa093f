import { useEffect, useRef } from 'react';
import type { Question } from './checker-store.ts';

/**
 * A question asked in the page (not window.confirm, which blocks the page and which Electron and
 * test browsers may answer by themselves). Focus goes to Cancel, the safe answer; Escape cancels.
 */
export function QuestionBar({ question, onCancel }: { question: Question; onCancel: () => void }) {
  const cancel = useRef<HTMLButtonElement>(null);
  useEffect(() => cancel.current?.focus(), [question]);
  return (
    <div
      className="question-bar"
      role="alertdialog"
      aria-labelledby="checker-question"
      data-testid="question"
      onKeyDown={(e) => {
        if (e.key === 'Escape') onCancel();
      }}
    >
      <span id="checker-question">{question.text}</span>
      <span className="question-choices">
        {question.choices.map((choice) => (
          <button
            key={choice.testId}
            type="button"
            className={choice.danger ? 'danger' : undefined}
            data-testid={choice.testId}
            onClick={choice.run}
          >
            {choice.label}
          </button>
        ))}
        <button ref={cancel} type="button" data-testid="question-cancel" onClick={onCancel}>
          Cancel
        </button>
      </span>
    </div>
  );
}
