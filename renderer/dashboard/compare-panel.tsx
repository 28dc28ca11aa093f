/**
 * Compare two periods: set marks ("before deploy"), choose range A and B (from/to marks, or some
 * minutes ago to now), and read per stage (end to end first) P50/P90/P99 and the mean of each
 * period with their intervals, the difference and whether it is significant, after a verdict that
 * names the stage (and the input slice) that explains most of the change.
 */
import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import {
  PROMETHEUS_SLICE_ATTRIBUTES,
  SLICE_ATTRIBUTES,
  type FigureSource,
  type Mark,
  type PeriodComparison,
  type QuantileEstimate,
  type SliceAttribute,
  type StageChange,
} from '../../preload/wire-types.ts';
import { toApiError, type ConsoleClient, type TimeSpan } from '../api/console-client.ts';
import {
  AGO_CHOICES_MIN,
  ATTRIBUTE_LABELS,
  agoLabel,
  aroundMark,
  comparedRows,
  comparisonVerdict,
  estimateParts,
  formatCountOf,
  formatDifference,
  periodPhrase,
  prometheusHost,
  rangeProblem,
  resolveEnd,
  significanceLabel,
  stageCountsPhrase,
  stageLabel,
  type RangeChoice,
} from './compare-format.ts';
import { IN_APP_SOURCE, prometheusSource } from './fleet-format.ts';
import { formatClock, formatMs, formatPercent } from './stats-format.ts';

const markTime = (mark: Mark) => formatClock(mark.at_ms / 1000);

function EndSelect({
  label,
  value,
  marks,
  onChange,
  testId,
}: {
  label: string;
  value: string;
  marks: Mark[];
  onChange(v: string): void;
  testId: string;
}) {
  const id = useId();
  const chosenMark = marks.find((mark) => `mark:${mark.at_ms}` === value);
  return (
    <span className="range-end">
      <label htmlFor={id}>{label}</label>
      {/* A long mark name is cut by the select's width: the title gives it whole. */}
      <select
        id={id}
        value={value}
        title={chosenMark ? `${chosenMark.name} (${markTime(chosenMark)})` : undefined}
        data-testid={testId}
        onChange={(e) => onChange(e.target.value)}
      >
        {AGO_CHOICES_MIN.map((m) => (
          <option key={`ago:${m}`} value={`ago:${m}`}>
            {agoLabel(m)}
          </option>
        ))}
        {marks.map((mark) => (
          <option key={`mark:${mark.at_ms}:${mark.name}`} value={`mark:${mark.at_ms}`}>
            {`${mark.name} (${markTime(mark)})`}
          </option>
        ))}
        <option value="now">now</option>
      </select>
    </span>
  );
}

function RangePicker({
  name,
  range,
  marks,
  onChange,
}: {
  name: 'A' | 'B';
  range: RangeChoice;
  marks: Mark[];
  onChange(r: RangeChoice): void;
}) {
  const key = name.toLowerCase();
  return (
    <fieldset className="range-picker" data-testid={`range-${key}`}>
      <legend>Range {name}</legend>
      <EndSelect
        label="from"
        value={range.from}
        marks={marks}
        testId={`range-${key}-from`}
        onChange={(from) => onChange({ ...range, from })}
      />
      <EndSelect label="to" value={range.to} marks={marks} testId={`range-${key}-to`} onChange={(to) => onChange({ ...range, to })} />
    </fieldset>
  );
}

const QUANTILE_NAMES: Record<number, string> = { 0.5: 'P50', 0.9: 'P90', 0.99: 'P99' };

/**
 * A quantile with its interval, which may wrap below it: each part stays whole, so two tables side by
 * side fit the card instead of cutting their last column off.
 */
function Estimate({ estimate }: { estimate: QuantileEstimate }) {
  const { value, interval } = estimateParts(estimate);
  return (
    <>
      <span className="estimate-part">{value}</span>
      {interval && (
        <>
          {' '}
          <span className="estimate-part">{interval}</span>
        </>
      )}
    </>
  );
}

/** One stage: P50/P90/P99 and the mean, each period with its interval, the difference and its significance. */
function StageTable({ change, estimated }: { change: StageChange; estimated: boolean | undefined }) {
  return (
    <table className="slowest-table compare-table" data-testid={`compare-stage-${change.stage}`}>
      <caption>
        <strong>{stageLabel(change.stage)}</strong>
        <span className="muted">{` ${stageCountsPhrase(change, estimated)}`}</span>
      </caption>
      <thead>
        <tr>
          <th scope="col" />
          <th scope="col" className="num">
            A
          </th>
          <th scope="col" className="num">
            B
          </th>
          <th scope="col" className="num">
            B − A
          </th>
          <th scope="col">Significant</th>
        </tr>
      </thead>
      <tbody>
        {change.quantiles.map((q) => (
          <tr
            key={q.quantile}
            data-q={QUANTILE_NAMES[q.quantile] ?? String(q.quantile)}
            className={q.significant ? 'significant' : undefined}
          >
            <th scope="row">{QUANTILE_NAMES[q.quantile] ?? `q${q.quantile}`}</th>
            <td className="num" data-col="a">
              <Estimate estimate={q.a} />
            </td>
            <td className="num" data-col="b">
              <Estimate estimate={q.b} />
            </td>
            <td className="num" data-col="diff">
              {formatDifference(q.difference_ms, q.a.value_ms)}
            </td>
            <td data-col="sig">{significanceLabel(q)}</td>
          </tr>
        ))}
        <tr data-q="mean" className={change.mean.significant ? 'significant' : undefined}>
          <th scope="row">mean</th>
          <td className="num" data-col="a">
            {formatMs(change.mean.a_ms)}
          </td>
          <td className="num" data-col="b">
            {formatMs(change.mean.b_ms)}
          </td>
          <td className="num" data-col="diff">
            {formatDifference(change.mean.difference_ms, change.mean.a_ms)}
          </td>
          <td data-col="sig">{significanceLabel(change.mean)}</td>
        </tr>
      </tbody>
    </table>
  );
}

function SliceTable({ slices, estimated }: { slices: NonNullable<PeriodComparison['slices']>; estimated: boolean | undefined }) {
  return (
    <div className="table-scroll">
      <table className="slowest-table compare-table" data-testid="compare-slices">
        <caption>
          <strong>By {ATTRIBUTE_LABELS[slices.attribute].toLowerCase()}</strong>
          <span className="muted"> each slice's part of the mean change: within the slice + from its share of checks</span>
        </caption>
        <thead>
          <tr>
            <th scope="col">Slice</th>
            <th scope="col" className="num">
              Checks A → B
            </th>
            <th scope="col" className="num">
              Mean A → B
            </th>
            <th scope="col" className="num">
              Part
            </th>
            <th scope="col">Significant</th>
          </tr>
        </thead>
        <tbody>
          {slices.slices.map((s) => (
            <tr key={s.slice} data-testid={`compare-slice-${s.slice}`}>
              <th scope="row" className="mono">
                {s.slice}
              </th>
              <td className="num">{`${formatCountOf(s.a.requests, estimated)} → ${formatCountOf(s.b.requests, estimated)}`}</td>
              <td className="num">{`${formatMs(s.end_to_end.mean.a_ms)} → ${formatMs(s.end_to_end.mean.b_ms)}`}</td>
              <td className="num" title={`within ${formatDifference(s.within_ms, null)}, mix ${formatDifference(s.mix_ms, null)}`}>
                {formatDifference(s.contribution_ms, null)}
              </td>
              <td>{s.significant ? 'yes' : 'no'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Where a comparison's figures come from, in the words every chart uses. */
function comparisonSource(comparison: PeriodComparison): string {
  const url = comparison.prometheus?.url;
  return comparison.source === 'prometheus' && url ? prometheusSource(url, 'sum by (le, stage) over instances') : IN_APP_SOURCE;
}

function ComparisonView({ comparison, query }: { comparison: PeriodComparison; query: { a: TimeSpan; b: TimeSpan } }) {
  const period = (r: PeriodComparison['a']) => periodPhrase(r, comparison);
  const estimated = comparison.counts_estimated;
  return (
    <div
      className="comparison"
      data-testid="comparison"
      data-a-from={query.a.from_ms}
      data-a-to={query.a.to_ms}
      data-b-from={query.b.from_ms}
      data-b-to={query.b.to_ms}
      data-source={comparison.source ?? 'in-app'}
    >
      <p className={comparison.explained_by ? 'compare-verdict changed' : 'compare-verdict'} data-testid="compare-verdict" role="status">
        {comparisonVerdict(comparison)}
      </p>
      <p className="muted compare-periods">
        <span data-testid="compare-source">Source: {comparisonSource(comparison)}</span>
        <br />
        <span data-testid="compare-period-a">A: {period(comparison.a)}</span>
        <br />
        <span data-testid="compare-period-b">B: {period(comparison.b)}</span>
      </p>
      <div className="compare-stages">
        {comparedRows(comparison).map((change) => (
          // A scroll box only as a last resort (a card narrower than a table's unbreakable parts).
          <div key={change.stage} className="table-scroll">
            <StageTable change={change} estimated={estimated} />
          </div>
        ))}
      </div>
      {comparison.slices && <SliceTable slices={comparison.slices} estimated={estimated} />}
      <p className="muted compare-method">
        Intervals: each period {formatPercent(comparison.interval_confidence, 0)}; differences and significance family-wise at{' '}
        {formatPercent(comparison.family_error_rate, 0)} over {comparison.tests} tests.
        {comparison.source === 'prometheus' && " Read from the histograms' buckets: intervals are a bucket wide at least."}
        {estimated && ' Counts marked ≈ are estimates: increase() extrapolates the scrapes to the ends of each range.'}
      </p>
    </div>
  );
}

/** `prometheusUrl`: the service reads a Prometheus, so the comparison may come from it (any range it keeps, no slices). */
export function ComparePanel({ client, prometheusUrl }: { client: ConsoleClient; prometheusUrl?: string }) {
  const [marks, setMarks] = useState<Mark[]>([]);
  const [name, setName] = useState('');
  const [rangeA, setRangeA] = useState<RangeChoice>({ from: 'ago:15', to: 'ago:5' });
  const [rangeB, setRangeB] = useState<RangeChoice>({ from: 'ago:5', to: 'now' });
  const [attribute, setAttribute] = useState<SliceAttribute | ''>('caption_script');
  const [source, setSource] = useState<FigureSource>('in-app');
  const fromPrometheus = prometheusUrl !== undefined && source === 'prometheus';
  // Prometheus has only the caption script (the stage histogram's label); other slices are in-app only.
  const inPrometheus = (a: SliceAttribute) => (PROMETHEUS_SLICE_ATTRIBUTES as readonly SliceAttribute[]).includes(a);
  const sliceBy = fromPrometheus && attribute && !inPrometheus(attribute) ? '' : attribute;
  const [result, setResult] = useState<{ comparison: PeriodComparison; query: { a: TimeSpan; b: TimeSpan } } | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const nameId = useId();
  const attributeId = useId();
  const sourceId = useId();

  const loadMarks = useCallback(() => {
    client.marks().then(setMarks, (err: unknown) => setError(toApiError(err).message));
  }, [client]);
  useEffect(loadMarks, [loadMarks]);

  const addMark = (event: FormEvent) => {
    event.preventDefault();
    if (name.trim() === '') return;
    client.addMark(name).then(
      () => {
        setName('');
        setError(undefined);
        loadMarks();
      },
      (err: unknown) => setError(toApiError(err).message),
    );
  };

  // A failed or refused comparison clears the last one: its tables would read as the answer to the new choice.
  const fail = (message: string) => {
    setResult(undefined);
    setError(message);
  };

  const compare = (ranges: { a: RangeChoice; b: RangeChoice } = { a: rangeA, b: rangeB }) => {
    const now = Date.now();
    const problem = rangeProblem('A', ranges.a, now) ?? rangeProblem('B', ranges.b, now);
    if (problem) return fail(problem);
    const span = (r: RangeChoice): TimeSpan => ({ from_ms: resolveEnd(r.from, now)!, to_ms: resolveEnd(r.to, now)! });
    const a = span(ranges.a);
    const b = span(ranges.b);
    setBusy(true);
    client
      .compare(a, b, sliceBy || undefined, fromPrometheus ? 'prometheus' : undefined)
      .then(
        (comparison) => {
          setResult({ comparison, query: { a, b } });
          setError(undefined);
        },
        (err: unknown) => fail(toApiError(err).message),
      )
      .finally(() => setBusy(false));
  };

  return (
    <section className="dash-card compare-panel" data-testid="compare-panel" aria-labelledby="compare-title">
      <div className="card-head">
        <h3 id="compare-title">
          Compare two periods<span className="muted">which stage moved, for which inputs, and is it real</span>
        </h3>
      </div>
      <form className="mark-form" onSubmit={addMark}>
        <label htmlFor={nameId}>Mark now</label>
        <input
          id={nameId}
          value={name}
          maxLength={200}
          placeholder="before deploy"
          data-testid="mark-name"
          onChange={(e) => setName(e.target.value)}
        />
        <button type="submit" data-testid="mark-add" disabled={name.trim() === ''}>
          Add mark
        </button>
      </form>
      {marks.length === 0 ? (
        <p className="muted">No marks yet (a model load sets one).</p>
      ) : (
        <ul className="mark-list" data-testid="mark-list">
          {marks.map((mark, i) => (
            <li key={`${mark.at_ms}:${mark.name}`} data-testid="mark-item">
              <span className="mono">{markTime(mark)}</span> <span className="mark-name">{mark.name}</span>
              {mark.kind === 'model-change' && <span className="muted"> (model change)</span>}
              <button
                type="button"
                className="small"
                data-testid={`mark-around-${i}`}
                title="Compare up to this mark (range A) with from it to the next mark or now (range B)"
                disabled={busy}
                onClick={() => {
                  const around = aroundMark(marks, i);
                  setRangeA(around.a);
                  setRangeB(around.b);
                  compare(around);
                }}
              >
                Before / after
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className="compare-controls">
        <RangePicker name="A" range={rangeA} marks={marks} onChange={setRangeA} />
        <RangePicker name="B" range={rangeB} marks={marks} onChange={setRangeB} />
        {prometheusUrl !== undefined && (
          <span className="range-end">
            <label htmlFor={sourceId}>from</label>
            <select
              id={sourceId}
              value={source}
              className="compare-source-select"
              title={source === 'prometheus' ? `Prometheus at ${prometheusUrl}` : undefined}
              data-testid="compare-source-select"
              onChange={(e) => setSource(e.target.value as FigureSource)}
            >
              <option value="in-app">{IN_APP_SOURCE}</option>
              <option
                value="prometheus"
                title={`Prometheus at ${prometheusUrl}`}
              >{`Prometheus at ${prometheusHost(prometheusUrl)}`}</option>
            </select>
          </span>
        )}
        <span className="range-end">
          <label htmlFor={attributeId}>slices by</label>
          <select
            id={attributeId}
            value={sliceBy}
            title={fromPrometheus ? 'from Prometheus: caption script only (a stage histogram label); the rest is in-app only' : undefined}
            data-testid="compare-attribute"
            onChange={(e) => setAttribute(e.target.value as SliceAttribute | '')}
          >
            <option value="">none</option>
            {SLICE_ATTRIBUTES.map((a) => (
              <option key={a} value={a} disabled={fromPrometheus && !inPrometheus(a)}>
                {ATTRIBUTE_LABELS[a]}
              </option>
            ))}
          </select>
        </span>
        <button type="button" data-testid="compare-run" onClick={() => compare()} disabled={busy}>
          Compare
        </button>
      </div>
      {error && (
        <p className="compare-error" role="alert" data-testid="compare-error">
          {error}
        </p>
      )}
      {result && <ComparisonView comparison={result.comparison} query={result.query} />}
    </section>
  );
}
