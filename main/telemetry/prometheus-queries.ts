/**
 * Every PromQL text the service sends to Prometheus (`--prometheus-url`), in one place. The
 * per-replica and fleet figures are deploy/rules/ofa-ve-fleet.rules.yml's expressions with the
 * window as a parameter (a test checks that at 1m they are the rules' own text), aggregated over
 * every replica Prometheus scrapes: one Prometheus, one fleet. Metric names are DESIGN.md's
 * (main/telemetry/service-metrics.ts registers them).
 */

export const REQUESTS = 'ofa_ve_request_total';
export const LATENCY = 'ofa_ve_request_latency_seconds';
export const STAGE_LATENCY = 'ofa_ve_stage_latency_seconds';
/** Present on every replica of this service: keeps `up` to the jobs that scrape one. */
const BUILD_INFO = 'ofa_ve_build_info';

/** A Prometheus duration in whole seconds ("90s"): what every range below takes. */
export const seconds = (s: number): string => `${Math.max(1, Math.round(s))}s`;

/**
 * Per replica QPS over the window: every answer (4xx and 5xx included), a replica that is down now
 * included: the requests it answered before it went down are in the window as they are in the
 * quantiles and error rates below, so every fleet figure is of the same requests (rule
 * instance:ofa_ve_requests:rate1m). Whether it is up now is replicaUp's, shown beside it.
 */
export const replicaQps = (w: string): string => `sum by (job, instance) (rate(${REQUESTS}[${w}]))`;

/** Fleet QPS: the sum of the replicas' (rule job:ofa_ve_requests:rate1m over the replica rule). */
export const fleetQps = (w: string): string => `sum(${replicaQps(w)})`;

/** The jobs that export the service's counters (their scrape interval is the figures' resolution). */
export const scrapingJobs = `count by (job) (${REQUESTS})`;

/** Latency bucket rates summed over the replicas: the fleet's quantiles are of all checks, not averages of replicas'. */
export const fleetLatencyBucketRates = (w: string): string => `sum by (le) (rate(${LATENCY}_bucket[${w}]))`;
export const fleetLatencyQuantile = (q: number, w: string): string => `histogram_quantile(${q}, ${fleetLatencyBucketRates(w)})`;

/** Latency bucket rates per replica: summed over the replicas they are fleetLatencyBucketRates. */
export const replicaLatencyBucketRates = (w: string): string => `sum by (job, instance, le) (rate(${LATENCY}_bucket[${w}]))`;
/** A replica's P90 (rule instance:ofa_ve_request_latency_seconds:p90_rate1m). */
export const replicaP90 = (w: string): string => `histogram_quantile(0.9, ${replicaLatencyBucketRates(w)})`;

/** 5xx over the checks run (all but 4xx), as the availability SLO counts; no sample without such checks. */
export const fleetErrorRate = (w: string): string =>
  `sum(rate(${REQUESTS}{status_code=~"5.."}[${w}])) / (sum(rate(${REQUESTS}{status_code!~"4.."}[${w}])) > 0)`;

/**
 * The status classes of the PromQL above (`status_code=~"5.."`, `status_code!~"4.."`) for samples read
 * back: PromQL's regexes are anchored, and a missing label is the empty string.
 */
export const isServerError = (statusCode: string | undefined): boolean => /^5..$/.test(statusCode ?? '');
export const isClientError = (statusCode: string | undefined): boolean => /^4..$/.test(statusCode ?? '');

/** The same per replica (rule instance:ofa_ve_server_errors:ratio_rate1m). */
export const replicaErrorRate = (w: string): string =>
  `sum by (job, instance) (rate(${REQUESTS}{status_code=~"5.."}[${w}])) / (sum by (job, instance) (rate(${REQUESTS}{status_code!~"4.."}[${w}])) > 0)`;

/**
 * Answer rates per replica and status code: summed over the right status codes they give both error
 * rates above (5xx over all but 4xx, fleet and per replica), so one query serves both.
 */
export const replicaRequestRatesByStatus = (w: string): string => `sum by (job, instance, status_code) (rate(${REQUESTS}[${w}]))`;

/** Whether each replica's last scrape succeeded, for the jobs of this service. */
export const replicaUp = `up and on (job) ${BUILD_INFO}`;

/** Stage latency buckets over a whole range (evaluated at its end): the comparison's per stage quantiles. */
export const stageBucketsIncrease = (range: string): string => `sum by (le, stage) (increase(${STAGE_LATENCY}_bucket[${range}]))`;
/** Seconds spent per stage over the range (with the +Inf bucket's count: the stage means). */
export const stageSumIncrease = (range: string): string => `sum by (stage) (increase(${STAGE_LATENCY}_sum[${range}]))`;
/** End-to-end latency buckets over a whole range. */
export const latencyBucketsIncrease = (range: string): string => `sum by (le) (increase(${LATENCY}_bucket[${range}]))`;
export const latencySumIncrease = (range: string): string => `sum(increase(${LATENCY}_sum[${range}]))`;
/** Answers by status code over the range: requests, 4xx and 5xx. */
export const requestsByStatusIncrease = (range: string): string => `sum by (status_code) (increase(${REQUESTS}[${range}]))`;
/**
 * The stage buckets and sums per caption script: the stage histogram's `script` label (english,
 * cjk, other) is the one input slice Prometheus has (`compare?source=prometheus&attribute=caption_script`).
 */
export const stageBucketsIncreaseByScript = (range: string): string =>
  `sum by (le, stage, script) (increase(${STAGE_LATENCY}_bucket[${range}]))`;
export const stageSumIncreaseByScript = (range: string): string => `sum by (stage, script) (increase(${STAGE_LATENCY}_sum[${range}]))`;
