import type { FormEvent } from 'react';
import type { DefaultText } from './row-status.ts';
import { TextNotes } from './caption-notes.tsx';

interface CaptionControlsProps {
  defaults: DefaultText;
  maxWords: number | undefined;
  /** The service's byte limit on a caption or premise (undefined until known). */
  maxTextBytes: number | undefined;
  onCaption: (caption: string) => void;
  onPremise: (premise: string) => void;
  /** Enter in a field: check the ready rows (undefined while checking is impossible). */
  onSubmit: (() => void) | undefined;
}

/**
 * The caption (and optional premise) every row without its own is checked against, as typed:
 * no Apply step. A row's own caption (typed in the table or from a list) wins.
 */
export function CaptionControls({ defaults, maxWords, maxTextBytes, onCaption, onPremise, onSubmit }: CaptionControlsProps) {
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSubmit?.();
  };
  return (
    <form className="caption-controls" onSubmit={submit} aria-label="Caption for every row">
      <label>
        <span>Caption (hypothesis)</span>
        <input
          data-testid="caption-all"
          dir="auto"
          value={defaults.caption}
          placeholder="e.g. Two dogs are playing in the snow"
          onChange={(e) => onCaption(e.target.value)}
        />
      </label>
      <label>
        <span>
          Premise <span className="muted">(optional)</span>
        </span>
        <input
          data-testid="premise-all"
          dir="auto"
          value={defaults.premise}
          placeholder="Optional text the image is read with"
          onChange={(e) => onPremise(e.target.value)}
        />
      </label>
      <div className="caption-notes" data-testid="caption-all-notes">
        <TextNotes caption={defaults.caption.trim()} premise={defaults.premise.trim()} maxWords={maxWords} maxTextBytes={maxTextBytes} />
      </div>
      <p className="muted caption-help">
        Every row without a caption of its own is checked against these; a caption typed in a row or imported from a list wins.
      </p>
      {/* Enter in either field submits: the same as pressing the check button. */}
      <button type="submit" className="visually-hidden" tabIndex={-1} aria-hidden="true" disabled={!onSubmit} />
    </form>
  );
}
