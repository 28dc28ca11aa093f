import type { ImportedList } from './checker-store.ts';
import type { PairEntry } from '../../preload/pair-list.ts';

interface PairListPanelProps {
  list: ImportedList;
  missing: readonly PairEntry[];
  onRemove: () => void;
}

/** How many names the list shows inline before folding the rest away. */
const SHOWN_MISSING = 12;

function firstFew(items: readonly string[], n: number, separator: string): string {
  return items.slice(0, n).join(separator) + (items.length > n ? `${separator}…` : '');
}

/** Lines that were skipped and names listed twice, briefly. */
function listWarnings(list: ImportedList): string {
  const parts: string[] = [];
  const { problems, duplicates } = list;
  if (problems.length > 0) {
    const where = firstFew(
      problems.map((p) => `line ${p.line}: ${p.message}`),
      3,
      '; ',
    );
    parts.push(`Skipped ${problems.length} unusable line${problems.length === 1 ? '' : 's'} (${where}).`);
  }
  if (duplicates.length > 0) parts.push(`Listed more than once (the last one is used): ${firstFew(duplicates, 5, ', ')}.`);
  return parts.join(' ');
}

/** The imported caption list: how much of it matched, and which listed images were not dropped. */
export function PairListPanel({ list, missing, onRemove }: PairListPanelProps) {
  const listed = list.byKey.size;
  const matched = listed - missing.length;
  return (
    <section className="pair-list-panel" data-testid="pair-list" aria-label="Imported caption list">
      <div className="pair-list-summary">
        <strong>{list.fileName}</strong>
        <span>
          {listed} listed image{listed === 1 ? '' : 's'} ({list.format.toUpperCase()}), {matched} matched
        </span>
        {missing.length > 0 ? (
          <span className="pair-list-missing-count" data-testid="missing-count">
            {missing.length} missing: drop or pick {missing.length === 1 ? 'it' : 'them'} to check
          </span>
        ) : (
          <span className="pair-list-ok">all listed images present</span>
        )}
        <button type="button" onClick={onRemove}>
          Remove list
        </button>
      </div>
      {missing.length > 0 && (
        <div className="pair-list-missing" data-testid="missing-images">
          <span className="muted">Missing:</span>
          <ul>
            {missing.slice(0, SHOWN_MISSING).map((entry) => (
              <li key={entry.line} data-testid="missing-image" title={`line ${entry.line}: ${entry.caption}`}>
                {entry.image}
              </li>
            ))}
          </ul>
          {missing.length > SHOWN_MISSING && (
            <details>
              <summary>{missing.length - SHOWN_MISSING} more</summary>
              <ul>
                {missing.slice(SHOWN_MISSING).map((entry) => (
                  <li key={entry.line} data-testid="missing-image">
                    {entry.image}
                  </li>
                ))}
              </ul>
            </details>
          )}
        </div>
      )}
      {(list.problems.length > 0 || list.duplicates.length > 0) && <p className="muted pair-list-problems">{listWarnings(list)}</p>}
    </section>
  );
}
