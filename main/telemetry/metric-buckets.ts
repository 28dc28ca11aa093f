/**
 * Histogram boundaries, in seconds. Request latency keeps the seed's 0.1..10 buckets (its PromQL and
 * dashboards read them), adds resolution below 100 ms, and has a boundary at every alert threshold:
 * 2 s (the seed's P95 alert) and 1 s (the latency SLO in deploy/rules).
 */
export const REQUEST_LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10];
/**
 * Stage latency: every request boundary (so `histogram_quantile` of a stage resolves 5–500 ms as
 * finely as the end-to-end latency), plus three below 5 ms for the fast stages (tokenize, postprocess).
 */
export const STAGE_LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, ...REQUEST_LATENCY_BUCKETS];
export const BATCH_SIZE_BUCKETS = [1, 2, 4, 8, 16, 32];
