/**
 * A latency divided into its stages and the untimed rest (stats-format's latencyDivision), drawn as
 * one stacked bar in the charts' stage colours. The slices panel and the slowest requests share it.
 */
import { chartPalette } from './chart-palette.ts';
import { UNTIMED, type LatencyPart, type LatencySegment } from './stats-format.ts';

/** A part's colour: its stage's, or the untimed one. */
export function latencyPartColour(part: LatencyPart): string {
  const palette = chartPalette();
  return part === UNTIMED ? palette.untimed : palette.stage[part];
}

/**
 * With `label` the bar is an image of that name (its segments' figures in `title`); without, it is
 * decoration beside figures that say the same, and hidden from assistive technology.
 */
export function StageBar(props: { segments: LatencySegment[]; className?: string; label?: string; title?: string }) {
  const { segments, className, label, title } = props;
  const described = label === undefined ? { 'aria-hidden': true } : { role: 'img', 'aria-label': label, title };
  return (
    <div className={className ? `stage-bar ${className}` : 'stage-bar'} {...described}>
      {segments.map((s) => (
        <span
          key={s.part}
          className="stage-bar-segment"
          style={{ width: `${(s.fraction * 100).toFixed(2)}%`, background: latencyPartColour(s.part) }}
        />
      ))}
    </div>
  );
}
