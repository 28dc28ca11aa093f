import { useState } from 'react';

interface RowCaptionProps {
  /** The row's own caption; '' when it uses the caption field's. */
  caption: string;
  /** The caption field's text, shown (as the placeholder) when the row has none of its own. */
  fallback: string;
  fileName: string;
  onCommit: (caption: string) => void;
}

/**
 * A row's own caption, edited in place. Edits are committed on blur or Enter (Escape reverts), not
 * per keystroke: under a label filter the row would otherwise vanish mid-word. Emptying it hands
 * the row back to the caption field.
 */
export function RowCaption({ caption, fallback, fileName, onCommit }: RowCaptionProps) {
  const [draft, setDraft] = useState(caption);
  const [shown, setShown] = useState(caption);
  // The caption changed from outside (an imported list, undo): show the new one.
  if (caption !== shown) {
    setShown(caption);
    setDraft(caption);
  }
  const commit = () => {
    const next = draft.trim();
    if (next !== caption) onCommit(next);
    // The same caption as stored ('' for spaces typed into an empty row): show it as stored, so an
    // empty row shows the caption field's caption again rather than keeping the spaces.
    else if (draft !== caption) setDraft(caption);
  };
  const usesField = caption === '' && fallback !== '';
  return (
    <input
      className={`row-caption${usesField ? ' uses-field' : ''}`}
      data-testid="row-caption"
      dir="auto"
      aria-label={`Caption for ${fileName}`}
      title={usesField ? 'The caption field’s caption; type here to give this row its own' : undefined}
      placeholder={fallback || 'No caption: type one here or in the caption field'}
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
