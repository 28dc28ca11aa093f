import { useState, type FormEvent } from 'react';

interface CaptionControlsProps {
  appliedCaption: string | undefined;
  appliedPremise: string;
  rowCount: number;
  onApply: (caption: string, premise: string) => void;
}

/** The caption (and optional premise) for every row, and for images added afterwards. */
export function CaptionControls({ appliedCaption, appliedPremise, rowCount, onApply }: CaptionControlsProps) {
  const [caption, setCaption] = useState(appliedCaption ?? '');
  const [premise, setPremise] = useState(appliedPremise);
  const pending = caption.trim() !== (appliedCaption ?? '') || premise.trim() !== appliedPremise;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    onApply(caption.trim(), premise.trim());
  };

  return (
    <form className="caption-controls" onSubmit={submit}>
      <label>
        <span>Caption (hypothesis)</span>
        <input
          data-testid="caption-all"
          value={caption}
          placeholder="e.g. Two dogs are playing in the snow"
          onChange={(e) => setCaption(e.target.value)}
        />
      </label>
      <label>
        <span>
          Premise <span className="muted">(optional)</span>
        </span>
        <input
          data-testid="premise-all"
          value={premise}
          placeholder="Optional text the image is read with"
          onChange={(e) => setPremise(e.target.value)}
        />
      </label>
      <div className="caption-apply">
        <button type="submit" data-testid="apply-caption" disabled={caption.trim() === ''}>
          Apply to all
        </button>
        <span className="muted">
          {pending && caption.trim() !== ''
            ? `Not applied yet: sets ${rowCount} row${rowCount === 1 ? '' : 's'} and images added later.`
            : appliedCaption !== undefined
              ? 'Applied; images added later get it too (a caption list wins for the images it names).'
              : 'Sets every row’s caption; each row stays editable.'}
        </span>
      </div>
    </form>
  );
}
