/**
 * Slices: the dashboard's window split by one input attribute (caption script, tokens, image size,
 * format, premise), each slice with its checks, QPS, P50/P90, server (5xx) and client (4xx) error
 * rates, as the headline figures count them, and where its mean latency goes (a stacked bar of the
 * stage means). Polled, as the service keeps slices per 10 s.
 */
import { useCallback, useState } from 'react';
import { SLICE_ATTRIBUTES, STAGE_NAMES, type SliceAttribute, type SliceStats, type SlicesSnapshot } from '../../preload/wire-types.ts';
import type { ConsoleClient } from '../api/console-client.ts';
import { usePoll } from '../api/use-poll.ts';
import { ATTRIBUTE_LABELS } from './compare-format.ts';
import { StageBar } from './stage-bar.tsx';
import {
  NO_VALUE,
  formatClock,
  formatCount,
  formatMs,
  formatPercent,
  formatQps,
  latencyDivision,
  spanPhrase,
  windowPhrase,
} from './stats-format.ts';
import { WindowSelect, type WindowChoice } from './window-select.tsx';

const REFRESH_MS = 5000;
const ATTRIBUTE_CHOICES: WindowChoice<SliceAttribute>[] = SLICE_ATTRIBUTES.map((a) => ({ value: a, label: ATTRIBUTE_LABELS[a] }));

/** Where a slice's mean latency goes: stage means and the untimed rest, as one stacked bar. */
function SliceStageBar({ slice }: { slice: SliceStats }) {
  const means = Object.fromEntries(STAGE_NAMES.map((stage) => [stage, slice.stages[stage]?.mean_ms ?? null]));
  const segments = latencyDivision(means, slice.mean_ms, STAGE_NAMES);
  if (segments.length === 0 || slice.mean_ms === null) return <span className="muted">—</span>;
  const title = segments.map((s) => `${s.part} ${formatMs(s.ms)}`).join(' · ');
  const label = `mean ${formatMs(slice.mean_ms)}: ${title}`;
  return <StageBar segments={segments} className="slice-stage-bar" label={label} title={title} />;
}

/**
 * The span the answer read, in its own figures: slices are kept per 10 s, so a 60 s window reads the
 * whole periods it touches (covered_s, 60–69 s), from `from` to when the answer was made.
 */
function coveredCaption(shown: SlicesSnapshot): string {
  return `last ${spanPhrase(shown.covered_s)}, ${formatClock(shown.from)}–${formatClock(shown.generated_at)} (whole 10 s periods)`;
}

/** 5xx of the checks that were not refused: none to count when every check of the slice was refused. */
function serverErrorText(slice: SliceStats): string {
  return slice.client_error_rate >= 1 ? NO_VALUE : formatPercent(slice.error_rate);
}

export function SlicesPanel({ client, windowS }: { client: ConsoleClient; windowS: number }) {
  const [attribute, setAttribute] = useState<SliceAttribute>('caption_script');
  // A new window or attribute is a new query: usePoll drops the old one's answers and shows nothing until the new one's.
  const load = useCallback((signal: AbortSignal) => client.slices(windowS, attribute, signal), [client, windowS, attribute]);
  const { value: shown, error } = usePoll(load, REFRESH_MS);

  return (
    <section className="dash-card" data-testid="slices-panel" aria-labelledby="slices-title">
      <div className="card-head">
        <h3 id="slices-title">
          Slices by input
          <span className="muted">{shown ? coveredCaption(shown) : `last ${windowPhrase(windowS)}`}</span>
        </h3>
      </div>
      <WindowSelect
        label="Slice by"
        testId="slice-attributes"
        choiceTestId="slice-attr-"
        choices={ATTRIBUTE_CHOICES}
        value={attribute}
        onChange={(a) => setAttribute(a)}
      />
      {error && (
        <p className="compare-error" role="alert" data-testid="slices-error">
          {error.message}
        </p>
      )}
      {shown && shown.slices.length === 0 && <p className="muted">No checks in this window.</p>}
      {shown && shown.slices.length > 0 && (
        <div className="table-scroll">
          <table className="slowest-table slices-table" data-testid="slices-table">
            <thead>
              <tr>
                <th scope="col">Slice</th>
                <th scope="col" className="num">
                  Checks
                </th>
                <th scope="col" className="num">
                  QPS
                </th>
                <th scope="col" className="num">
                  P50
                </th>
                <th scope="col" className="num">
                  P90
                </th>
                <th scope="col" className="num" title="checks the service failed, of the checks that were not the client's mistake">
                  Server errors (5xx)
                </th>
                <th scope="col" className="num" title="checks refused for what was sent (bad image, empty caption…), of all checks">
                  Client errors (4xx)
                </th>
                <th scope="col" className="stages-col">
                  Stage means
                </th>
              </tr>
            </thead>
            <tbody>
              {shown.slices.map((slice) => (
                <tr key={slice.slice} data-testid={`slice-row-${slice.slice}`}>
                  <th scope="row" className="mono">
                    {slice.slice}
                  </th>
                  <td className="num" data-col="requests">
                    {formatCount(slice.requests)}
                  </td>
                  <td className="num" data-col="qps">
                    {formatQps(slice.qps)}
                  </td>
                  <td className="num" data-col="p50">
                    {formatMs(slice.p50_ms)}
                  </td>
                  <td className="num" data-col="p90">
                    {formatMs(slice.p90_ms)}
                  </td>
                  <td className="num" data-col="error_rate">
                    {serverErrorText(slice)}
                  </td>
                  <td className="num" data-col="client_error_rate">
                    {formatPercent(slice.client_error_rate)}
                  </td>
                  <td className="stages-col">
                    <SliceStageBar slice={slice} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
