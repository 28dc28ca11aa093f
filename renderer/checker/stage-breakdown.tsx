import { STAGE_NAMES, type CheckResult, type StageName } from '../../preload/wire-types.ts';

const STAGE_TITLES: Record<StageName, string> = {
  queue: 'queue',
  decode_image: 'decode image',
  tokenize: 'tokenize',
  inference: 'inference',
  postprocess: 'postprocess',
};

/** Space kept between the latency cell and its popover (the CSS's 4 px). */
const POPOVER_GAP_PX = 4;

/** The part of the viewport this element can be seen in: its scrolling ancestors clip it (the status bar sits below them). */
function visibleBounds(element: HTMLElement): { top: number; bottom: number } {
  let top = 0;
  let bottom = window.innerHeight;
  for (let parent = element.parentElement; parent; parent = parent.parentElement) {
    if (getComputedStyle(parent).overflowY === 'visible') continue;
    const rect = parent.getBoundingClientRect();
    top = Math.max(top, rect.top);
    bottom = Math.min(bottom, rect.bottom);
  }
  return { top, bottom };
}

/**
 * Opens the popover below the latency when it fits there, else above (a row near the bottom of
 * the pane would have it cut off). Set on the element itself, before this hover's paint.
 */
function placePopover(anchor: HTMLElement): void {
  const popover = anchor.querySelector<HTMLElement>('.chk-stage-popover');
  if (!popover) return;
  // display: none until hovered: shown for the one measurement.
  popover.style.display = 'block';
  const height = popover.offsetHeight + POPOVER_GAP_PX;
  popover.style.display = '';
  const rect = anchor.getBoundingClientRect();
  const bounds = visibleBounds(anchor);
  const below = bounds.bottom - rect.bottom;
  const above = rect.top - bounds.top;
  anchor.dataset.popover = below >= height || below >= above ? 'below' : 'above';
}

export function formatMs(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2);
}

/**
 * Latency with a stacked bar of where the time went; hovering or focusing it opens the per-stage
 * table. The popover is shown by CSS (:hover / :focus-within); React's delegated mouseenter/focus
 * only picks the side it opens on, so hundreds of rows add no listeners of their own.
 */
export function StageBreakdown({ result }: { result: CheckResult }) {
  const stages = STAGE_NAMES.filter((stage) => result.stages[stage] !== undefined);
  const staged = stages.reduce((sum, stage) => sum + (result.stages[stage] ?? 0), 0);
  // Stages need not add up to the total (HTTP and IPC time sit outside them).
  const scale = Math.max(result.latency_ms, staged) || 1;
  const other = Math.max(0, result.latency_ms - staged);
  return (
    <div
      className="chk-stage-breakdown"
      data-testid="stage-breakdown"
      tabIndex={0}
      aria-label={`Latency ${Math.round(result.latency_ms)} ms; stage breakdown`}
      onMouseEnter={(event) => placePopover(event.currentTarget)}
      onFocus={(event) => placePopover(event.currentTarget)}
    >
      <span className="latency mono" data-testid="latency">
        {Math.round(result.latency_ms)} ms
      </span>
      <div className="chk-stage-bar" aria-hidden="true">
        {stages.map((stage) => (
          <div
            key={stage}
            className={`chk-stage-seg chk-stage-${stage}`}
            style={{ width: `${(((result.stages[stage] ?? 0) / scale) * 100).toFixed(2)}%` }}
          />
        ))}
      </div>
      <div className="chk-stage-popover" role="tooltip" data-testid="stage-popover">
        <table>
          <tbody>
            {stages.map((stage) => (
              <tr key={stage}>
                <td>
                  <span className={`chk-stage-swatch chk-stage-${stage}`} />
                  {STAGE_TITLES[stage]}
                </td>
                <td className="mono num">{formatMs(result.stages[stage] ?? 0)} ms</td>
              </tr>
            ))}
            {other >= 0.5 && (
              <tr className="muted">
                <td>
                  <span className="chk-stage-swatch chk-stage-other" />
                  other (transport)
                </td>
                <td className="mono num">{formatMs(other)} ms</td>
              </tr>
            )}
            <tr className="chk-stage-total">
              <td>total</td>
              <td className="mono num">{formatMs(result.latency_ms)} ms</td>
            </tr>
          </tbody>
        </table>
        <div className="muted chk-stage-scores mono">
          yes {result.scores.YES.toFixed(3)} · no {result.scores.NO.toFixed(3)} · maybe {result.scores.MAYBE.toFixed(3)}
        </div>
        <div className="muted mono chk-stage-id">{result.id}</div>
      </div>
    </div>
  );
}
