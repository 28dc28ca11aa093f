/**
 * Reads onnxruntime's profile (the JSON array of Chrome-trace events that `endProfiling()` writes
 * for a session created with `enableProfiling`) into the operator events of one model run, timed
 * from that run's start: what a request's trace nests under its inference span (preload/trace-spans.ts).
 *
 * The file holds the session's own events ("Session": model_loading_uri, session_initialization,
 * then per run SequentialExecutor::Execute and model_run) and one "Node" event per operator run,
 * named `<node name>_kernel_time` (older versions add `_fence_before` / `_fence_after`, which are
 * synchronisation, not the operator), its args naming op_name and provider. Times are microseconds
 * from the profiler's start, so an operator's place in the run is its ts less the model_run's ts.
 */
import type { OperatorEvent, OperatorProfile } from '../../preload/trace-spans.ts';

/** Operator events kept per batch: a large graph runs thousands of nodes, and traces are held in a ring. */
export const MAX_OPERATOR_EVENTS = 2000;

interface ProfileEvent {
  cat: string;
  name: string;
  ts: number;
  dur: number;
  args: Record<string, unknown>;
}

const KERNEL_SUFFIX = '_kernel_time';
const FENCE = /_fence_(before|after)$/;

function asEvent(value: unknown): ProfileEvent | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const e = value as Record<string, unknown>;
  if (typeof e.name !== 'string' || typeof e.cat !== 'string') return undefined;
  if (typeof e.ts !== 'number' || typeof e.dur !== 'number' || !(e.ts >= 0) || !(e.dur >= 0)) return undefined;
  const args = typeof e.args === 'object' && e.args !== null ? (e.args as Record<string, unknown>) : {};
  return { cat: e.cat, name: e.name, ts: e.ts, dur: e.dur, args };
}

const text = (value: unknown): string => (typeof value === 'string' ? value : '');

/**
 * The operator events of the profile's last model run (the sampled batch's; earlier ones, such
 * as a warm-up run, are not it), in start order. Above `cap`, the longest are kept (they are what
 * explains the run) and the rest counted in `omitted`. Undefined when the profile has no run.
 */
export function operatorProfileOf(profile: unknown, cap: number = MAX_OPERATOR_EVENTS): OperatorProfile | undefined {
  if (!Array.isArray(profile)) return undefined;
  const events = profile.map(asEvent).filter((e): e is ProfileEvent => e !== undefined);
  let run: ProfileEvent | undefined;
  for (const e of events) {
    if (e.cat === 'Session' && e.name === 'model_run' && (!run || e.ts > run.ts)) run = e;
  }
  if (!run) return undefined;
  const runEnd = run.ts + run.dur;
  let operators: OperatorEvent[] = [];
  for (const e of events) {
    if (e.cat !== 'Node' || FENCE.test(e.name) || e.ts < run.ts || e.ts > runEnd) continue;
    const name = e.name.endsWith(KERNEL_SUFFIX) ? e.name.slice(0, -KERNEL_SUFFIX.length) : e.name;
    operators.push({ name, opType: text(e.args.op_name), provider: text(e.args.provider), startUs: e.ts - run.ts, durUs: e.dur });
  }
  const found = operators.length;
  if (found > cap) operators = operators.sort((a, b) => b.durUs - a.durUs).slice(0, Math.max(0, cap));
  operators.sort((a, b) => a.startUs - b.startUs);
  return { runUs: run.dur, events: operators, omitted: found - operators.length };
}
