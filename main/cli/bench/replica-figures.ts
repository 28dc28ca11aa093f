/**
 * Per-replica figures of a bench step against several running instances (`--url` given more than
 * once, loaded round-robin): what each was sent and how it answered, so that a slow or failing
 * replica shows instead of disappearing into the fleet's figures.
 */
import { quantile } from './bench-stats.ts';
import type { CheckSample } from './load-generator.ts';
import { NO_ANSWER_CODE } from './load-generator.ts';
import { replicaLabel } from './remote-replicas.ts';
import { formatMs } from './step-report.ts';

export interface ReplicaFigures {
  /** The --url as given, without a trailing slash. */
  url: string;
  /** Requests sent to it in the step, answered or not (its ofa_ve_request_total counts the answered ones). */
  requests: number;
  /** Its successful answers (2xx) per second of the step (the replicas are loaded at the same time): "ok/s" in the table. */
  qps: number;
  /**
   * Its answers per second, 4xx and 5xx (503 shed) included: what its ofa_ve_request_total and so
   * the Fleet panel's and Prometheus' QPS count. Sent but never answered (refused, cut off) is neither.
   */
  answers_qps: number;
  p50_ms: number | null;
  p95_ms: number | null;
  errors: number;
}

/** One entry per URL, in the order given, from the step's samples (each names its replica). */
export function replicaFigures(urls: readonly string[], samples: readonly CheckSample[], elapsedS: number): ReplicaFigures[] {
  return urls.map((url) => {
    const sent = samples.filter((s) => s.replica === url);
    const answered = sent.filter((s) => s.code !== NO_ANSWER_CODE).length;
    const latencies = sent
      .filter((s) => s.ok)
      .map((s) => s.latencyMs)
      .sort((a, b) => a - b);
    return {
      url,
      requests: sent.length,
      qps: elapsedS > 0 ? latencies.length / elapsedS : 0,
      answers_qps: elapsedS > 0 ? answered / elapsedS : 0,
      p50_ms: quantile(latencies, 0.5),
      p95_ms: quantile(latencies, 0.95),
      errors: sent.length - latencies.length,
    };
  });
}

/**
 * A markdown table with a line per replica per step (host:port), for the steps that have them.
 * "ok/s" is successful answers (the capacity C of README's sizing), "answers/s" every answer (the
 * Fleet panel's and Prometheus' QPS); they differ by the 4xx and 503 answers.
 */
export function replicaTable(steps: ReadonlyArray<{ concurrency: number; replicas?: readonly ReplicaFigures[] }>): string {
  const head = ['conc', 'replica', 'requests', 'ok/s', 'answers/s', 'P50 ms', 'P95 ms', 'errors'];
  const rows = steps.flatMap((step) =>
    (step.replicas ?? []).map((r) => {
      const rates = [r.qps.toFixed(2), r.answers_qps.toFixed(2)];
      const figures = [String(r.requests), ...rates, formatMs(r.p50_ms), formatMs(r.p95_ms), String(r.errors)];
      return [String(step.concurrency), replicaLabel(r.url), ...figures];
    }),
  );
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}
