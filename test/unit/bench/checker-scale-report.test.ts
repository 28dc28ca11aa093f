import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { renderCheckerScale, type CheckerScaleResult } from '../../../bench/checker-scale-report.ts';

const result: CheckerScaleResult = {
  tool: 'bench/checker-scale-bench.ts',
  date: '2026-12-01T03:50:00.000Z',
  command: 'node --import tsx bench/checker-scale-bench.ts --images 2000',
  machine: { cpus: 2, cpu_model: 'AMD EPYC', load_average_at_start: [0.5, 0.8, 1] },
  images: 2000,
  in_flight: 4,
  rows_shown_s: 1.9,
  add_long_tasks: { count: 2, total_ms: 428, max_ms: 232 },
  batch_s: 42.1,
  page_checks_per_s: 2000 / 42.1,
  direct_checks_per_s: 66,
  page_to_direct: 2000 / 42.1 / 66,
  page_summary: 'Finished 2000 in 42 s · 48.1 checks/s',
  counts: '2000 rows · 32 YES · 0 NO · 1968 MAYBE · 0 errors · 0 not checked',
  check_long_tasks: { count: 1, total_ms: 57, max_ms: 57 },
  page_main_thread_s: 16.9,
  service_cpu_s: 54.9,
  after_batch: { elements: 4053, rows_in_page: 74, js_heap_mib: 13.8 },
  sort_click_ms: [184, 158],
};

describe('renderCheckerScale', () => {
  test('says the command, the page against the service straight, and what the page held', () => {
    const text = renderCheckerScale(result).join('\n');
    assert.match(text, /^## Checker at scale/);
    assert.match(text, /```\nnode --import tsx bench\/checker-scale-bench\.ts --images 2000\n```/);
    assert.match(text, /\| batch \| 42\.1 s, 47\.5 checks\/s; the page's line: "Finished 2000 in 42 s · 48\.1 checks\/s" \|/);
    assert.match(text, /4 in flight, as the page\) \| 66\.0 checks\/s: the page gets x0\.72 of it \|/);
    assert.match(text, /74 rows and 4053 elements in the page/);
    assert.match(text, /\| 184 ms, 158 ms \|/);
  });
});
