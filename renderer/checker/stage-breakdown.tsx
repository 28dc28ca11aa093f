import { STAGE_NAMES, type CheckResult, type StageName } from '../../preload/wire-types.ts';

const STAGE_TITLES: Record<StageName, string> = {
  queue: 'queue',
  decode_image: 'decode image',
  tokenize: 'tokenize',
  inference: 'inference',
  postprocess: 'postprocess',
};

export function formatMs(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2);
}

/**
 * Latency with a stacked bar of where the time went; hovering or focusing it opens the per-stage
 * table. The popover is plain CSS (:hover / :focus-within), so hundreds of rows add no listeners.
 */
export function StageBreakdown({ result }: { result: CheckResult }) {
  const stages = STAGE_NAMES.filter((stage) => result.stages[stage] !== undefined);
  const staged = stages.reduce((sum, stage) => sum + (result.stages[stage] ?? 0), 0);
  // Stages need not add up to the total (HTTP and IPC time sit outside them).
  const scale = Math.max(result.latency_ms, staged) || 1;
  const other = Math.max(0, result.latency_ms - staged);
  return (
    <div className="chk-stage-breakdown" tabIndex={0} aria-label={`Latency ${Math.round(result.latency_ms)} ms; stage breakdown`}>
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
      <div className="chk-stage-popover" role="tooltip">
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
