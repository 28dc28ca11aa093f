import { useState } from 'react';

interface RowCaptionProps {
  caption: string;
  fileName: string;
  onCommit: (caption: string) => void;
}

/**
 * A row's caption, edited in place. Edits are committed on blur or Enter (Escape reverts), not per
 * keystroke: a commit clears the row's answer, and under a label filter the row would vanish
 * mid-word.
 */
export function RowCaption({ caption, fileName, onCommit }: RowCaptionProps) {
  const [draft, setDraft] = useState(caption);
  const [shown, setShown] = useState(caption);
  // The caption changed from outside (Apply to all, an imported list): show the new one.
  if (caption !== shown) {
    setShown(caption);
    setDraft(caption);
  }
  const commit = () => {
    if (draft !== caption) onCommit(draft);
  };
  return (
    <input
      className="row-caption"
      data-testid="row-caption"
      aria-label={`Caption for ${fileName}`}
      placeholder="No caption: will be rejected"
      value={draft}
      onChange={(e) => setDraft(e.target.value)}
      onBlur={commit}
      onKeyDown={(e) => {
        if (e.key === 'Enter') commit();
        else if (e.key === 'Escape') setDraft(caption);
      }}
    />
  );
}
