import { captionCut, captionWarnings, hasNothingToCheck } from '../../preload/caption-warnings.ts';
import type { CheckWarning } from '../../preload/wire-types.ts';
import { utf8Bytes } from './row-status.ts';

/** Words of the kept part shown before the cut, so the reviewer sees where it falls. */
const KEPT_WORDS_SHOWN = 4;

function lastWords(text: string, n: number): string {
  const words = text.trimEnd().split(/\s+/);
  return (words.length > n ? '…' : '') + words.slice(-n).join(' ');
}

/** Where the model stops reading a long text: the end of what it reads, then the rest struck through. */
export function CutText({ text, maxWords, field }: { text: string; maxWords: number; field: 'caption' | 'premise' }) {
  const cut = captionCut(text, maxWords);
  if (!cut) return null;
  return (
    <div className="caption-cut" data-testid="caption-cut" data-field={field}>
      <span className="caption-cut-note">
        model reads the first {cut.maxWords} words{field === 'premise' ? ' of the premise' : ''} ({cut.words} here):
      </span>
      <div className="caption-cut-text" dir="auto" title={text}>
        <span className="caption-kept">{lastWords(text.slice(0, cut.cutAt), KEPT_WORDS_SHOWN)} </span>
        <del className="caption-lost" data-testid="caption-lost">
          {text.slice(cut.cutAt)}
        </del>
      </div>
    </div>
  );
}

/** A text the service would refuse (TEXT_TOO_LONG): said before it is sent, with the service's own limit. */
export function TooLongNote({ text, maxTextBytes, field }: { text: string; maxTextBytes: number; field: 'caption' | 'premise' }) {
  const bytes = utf8Bytes(text);
  return (
    <div className="text-too-long" data-testid="text-too-long" data-field={field} role="alert">
      The {field} is {bytes.toLocaleString('en-US')} bytes (UTF-8), over the service&apos;s limit of {maxTextBytes.toLocaleString('en-US')}{' '}
      bytes: it would be refused (TEXT_TOO_LONG), so it is not sent. Shorten it.
    </div>
  );
}

/** A text without a word the model reads (only punctuation or spaces): the service would refuse it (EMPTY_TEXT). */
export function NoWordsNote({ field }: { field: 'caption' | 'premise' }) {
  return (
    <div className="text-too-long text-no-words" data-testid="text-no-words" data-field={field}>
      The {field} has no words, only punctuation or spaces: the service would refuse it (EMPTY_TEXT), so it is not sent.{' '}
      {field === 'caption' ? 'Give a sentence.' : 'Give a sentence, or leave it out.'}
    </div>
  );
}

interface TextNotesProps {
  caption: string;
  premise: string;
  /** The model's word limit; undefined until the service has said which model it runs. */
  maxWords: number | undefined;
  /** The service's byte limit on a caption or premise; undefined until it has said (or an older service). */
  maxTextBytes?: number | undefined;
  /** The warnings the service sent with its answer; without one, the same rules run here. */
  warnings?: readonly CheckWarning[];
}

/**
 * What the model will not see as the reviewer meant it: a long caption's cut, shown in place, and
 * the warnings (NOT_ENGLISH, ...) before the check, or the service's own after it.
 */
export function TextNotes({ caption, premise, maxWords, maxTextBytes, warnings }: TextNotesProps) {
  // Over the byte limit the service refuses the text outright: no word cut to show for it.
  const captionTooLong = maxTextBytes !== undefined && utf8Bytes(caption) > maxTextBytes;
  const premiseTooLong = maxTextBytes !== undefined && utf8Bytes(premise) > maxTextBytes;
  const tooLong = captionTooLong || premiseTooLong;
  // No word the model reads (the service's own rule): refused too, so nothing else to say about it.
  const captionWordless = caption !== '' && !captionTooLong && hasNothingToCheck(caption, maxWords);
  const premiseWordless = premise !== '' && !premiseTooLong && hasNothingToCheck(premise, maxWords);
  const refused = tooLong || captionWordless || premiseWordless;
  const local = maxWords === undefined || refused ? [] : captionWarnings(caption, maxWords, premise || undefined);
  const answered = warnings !== undefined;
  // The cut is drawn in place; its sentence would only repeat it before the check.
  const listed = answered ? warnings : local.filter((w) => w.code !== 'CAPTION_TRUNCATED');
  if (maxWords === undefined && listed.length === 0 && !refused) return null;
  return (
    <>
      {captionTooLong && <TooLongNote text={caption} maxTextBytes={maxTextBytes} field="caption" />}
      {premiseTooLong && <TooLongNote text={premise} maxTextBytes={maxTextBytes} field="premise" />}
      {captionWordless && <NoWordsNote field="caption" />}
      {premiseWordless && <NoWordsNote field="premise" />}
      {maxWords !== undefined && caption && !captionTooLong && !captionWordless && (
        <CutText text={caption} maxWords={maxWords} field="caption" />
      )}
      {maxWords !== undefined && premise && !premiseTooLong && !premiseWordless && (
        <CutText text={premise} maxWords={maxWords} field="premise" />
      )}
      {listed.length > 0 && (
        <ul className="text-warnings" data-testid={answered ? 'result-warnings' : 'text-warnings'}>
          {listed.map((w, i) => (
            <li key={i} data-code={w.code}>
              <span className="warning-code">{w.code === 'NOT_ENGLISH' ? 'Not English' : 'Cut'}</span> {w.message}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
