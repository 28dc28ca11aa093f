/**
 * The "Checker at scale" section of BENCHMARKS.md from bench/checker-scale-bench.ts's JSON
 * (bench/results/checker-scale.json); the bench prints the same lines.
 */

export interface LongTasks {
  count: number;
  total_ms: number;
  max_ms: number;
}

export interface CheckerScaleResult {
  tool: string;
  date: string;
  command: string;
  machine: { cpus: number; cpu_model: string; load_average_at_start: number[] };
  images: number;
  /** Checks the page keeps in flight, and the direct run too. */
  in_flight: number;
  rows_shown_s: number;
  add_long_tasks: LongTasks;
  batch_s: number;
  page_checks_per_s: number;
  direct_checks_per_s: number;
  /** The page's checks/s over the direct run's. */
  page_to_direct: number;
  /** The page's own batch line when it finished. */
  page_summary: string;
  counts: string;
  check_long_tasks: LongTasks;
  /** Seconds the page's main thread was busy during the batch (Chrome's TaskDuration). */
  page_main_thread_s: number;
  /** CPU seconds of ofa-ve serve and its inference worker during the batch. */
  service_cpu_s: number;
  after_batch: { elements: number; rows_in_page: number; js_heap_mib: number };
  sort_click_ms: number[];
}

const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '—');
const tasks = (t: LongTasks) =>
  `${t.count} long task${t.count === 1 ? '' : 's'}, ${f(t.total_ms / 1000, 2)} s in all, the longest ${t.max_ms} ms`;

export function renderCheckerScale(r: CheckerScaleResult): string[] {
  return [
    '## Checker at scale: thousands of images in the browser UI',
    '',
    '```',
    r.command,
    '```',
    '',
    `${r.date} · ${r.machine.cpus} × ${r.machine.cpu_model} · load average ${r.machine.load_average_at_start.map((l) => f(l, 2)).join(' ')} at the start · ` +
      `Debian's Chromium, headless, against \`ofa-ve serve\` (demo model, CPU) on this machine. ${r.images} photos (640x480 JPEG, all different) picked, captioned and checked.`,
    '',
    `| figure | value |`,
    `|---|---|`,
    `| rows shown after picking | ${f(r.rows_shown_s, 2)} s (${tasks(r.add_long_tasks)}) |`,
    `| batch | ${f(r.batch_s)} s, ${f(r.page_checks_per_s)} checks/s; the page's line: "${r.page_summary}" |`,
    `| the same photos straight to the service (${r.in_flight} in flight, as the page) | ${f(r.direct_checks_per_s)} checks/s: the page gets x${f(r.page_to_direct, 2)} of it |`,
    `| the page's main thread during the batch | busy ${f(r.page_main_thread_s)} s of ${f(r.batch_s)} s; ${tasks(r.check_long_tasks)} |`,
    `| the service's CPU during the batch (serve and its worker) | ${f(r.service_cpu_s)} s |`,
    `| after the batch | counts "${r.counts}"; ${r.after_batch.rows_in_page} rows and ${r.after_batch.elements} elements in the page; JS heap ${f(r.after_batch.js_heap_mib)} MiB |`,
    `| a sort click until painted (file A→Z, Z→A) | ${r.sort_click_ms.join(' ms, ')} ms |`,
    '',
    'Both sides share the 2 cores: the page, the browser and the service. Before the table kept only the rows in view in the page (2026-12-01, ' +
      "2,000 such photos, measured by a helper's audit script, not committed): 157 s at 12.8 checks/s, the page's main thread busy 157 s with 63.8 s of long tasks, " +
      '116,000 elements and 1.2 GiB of page memory, 0.7-0.9 s per sort click; 5,000 photos did not finish (4 checks/s).',
    '',
  ];
}
