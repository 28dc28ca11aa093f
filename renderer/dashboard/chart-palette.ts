/**
 * Literal colours for recharts, which cannot use CSS variables in SVG attributes. Read once from
 * app.css's custom properties so the charts follow the shared palette; the fallbacks mirror app.css
 * for when the stylesheet is not there (e.g. before it loads).
 */
import type { ResultType, StageName } from '../../preload/wire-types.ts';

export interface ChartPalette {
  result: Record<ResultType, string>;
  stage: Record<StageName, string>;
  /** The part of a latency no stage timed. */
  untimed: string;
  grid: string;
  axis: string;
  text: string;
  panel: string;
  accent: string;
  danger: string;
  warn: string;
}

const FALLBACK: ChartPalette = {
  result: { YES: '#2ea043', NO: '#e5534b', MAYBE: '#d29922', ERROR: '#a371f7' },
  stage: {
    queue: '#8b98a5',
    decode_image: '#4aa3ff',
    tokenize: '#a371f7',
    inference: '#2ea043',
    postprocess: '#d29922',
  },
  untimed: '#56616d',
  grid: '#2b3642',
  axis: '#8b98a5',
  text: '#e6edf3',
  panel: '#171e26',
  accent: '#4aa3ff',
  danger: '#f85149',
  warn: '#f2cc60',
};

let cached: ChartPalette | undefined;

export function chartPalette(): ChartPalette {
  if (cached) return cached;
  if (typeof document === 'undefined') return FALLBACK;
  const style = getComputedStyle(document.documentElement);
  const read = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  const stage = { ...FALLBACK.stage };
  for (const name of Object.keys(stage) as StageName[]) stage[name] = read(`--stage-${name}`, stage[name]);
  const palette: ChartPalette = {
    result: {
      YES: read('--yes', FALLBACK.result.YES),
      NO: read('--no', FALLBACK.result.NO),
      MAYBE: read('--maybe', FALLBACK.result.MAYBE),
      ERROR: read('--error', FALLBACK.result.ERROR),
    },
    stage,
    untimed: read('--stage-untimed', FALLBACK.untimed),
    grid: read('--border', FALLBACK.grid),
    axis: read('--muted', FALLBACK.axis),
    text: read('--text', FALLBACK.text),
    panel: read('--panel', FALLBACK.panel),
    accent: read('--accent', FALLBACK.accent),
    danger: read('--danger', FALLBACK.danger),
    warn: read('--warn-text', FALLBACK.warn),
  };
  // Only cache what came from the stylesheet; a read before app.css applies is retried next time.
  if (style.getPropertyValue('--yes').trim()) cached = palette;
  return palette;
}

/**
 * Colours for several lines of one kind on one chart (the Fleet QPS chart's replicas): each once, and
 * none of them the axis grey, the grid or the accent (the fleet's own line), so every line stands out.
 */
export function seriesColors(palette: ChartPalette): string[] {
  const taken = new Set([palette.accent, palette.axis, palette.grid, palette.text].map((c) => c.toLowerCase()));
  const colors: string[] = [];
  for (const color of [palette.warn, palette.result.YES, palette.result.ERROR, palette.danger, palette.result.MAYBE]) {
    const c = color.toLowerCase();
    if (taken.has(c)) continue;
    taken.add(c);
    colors.push(color);
  }
  return colors;
}
