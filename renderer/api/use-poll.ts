/**
 * A panel's polled data (PollLoop in React): the latest value, the last error (cleared by the next
 * success; the value is kept, so a panel can show its last figures under the error) and whether a
 * request is on its way. `load` gets the request's AbortSignal (pass it to the ConsoleClient call):
 * it aborts when a Refresh supersedes the request or the loop stops. A new `load` (make it with
 * useCallback over the query it asks) is a new query: it stops the old loop, whose request is aborted
 * and answers dropped, starts a new one, and clears value and error at once, so no panel shows the
 * old query's figures under the new query's controls while the new answer is on its way.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { ApiError } from '../../preload/wire-types.ts';
import { toApiError } from './console-client.ts';
import { PollLoop, pollDeadlineMs, withDeadline } from './poll-loop.ts';

export interface Polled<T> {
  value: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  /** Asks now, e.g. from a Refresh button. */
  refresh(): void;
}

type Load<T> = (signal: AbortSignal) => Promise<T>;

/** The state, tagged with the query (`load`) it belongs to: a state of another query reads as empty. */
interface PollState<T> extends Omit<Polled<T>, 'refresh'> {
  load: Load<T>;
}

export function usePoll<T>(load: Load<T>, intervalMs: number): Polled<T> {
  const [state, setState] = useState<PollState<T>>(() => ({ load, value: undefined, error: undefined, loading: false }));
  const loop = useRef<PollLoop<T> | undefined>(undefined);

  useEffect(() => {
    const empty: PollState<T> = { load, value: undefined, error: undefined, loading: false };
    const own = (s: PollState<T>) => (s.load === load ? s : empty);
    const current = new PollLoop<T>({
      load: withDeadline(load, pollDeadlineMs(intervalMs)),
      intervalMs,
      onRequest: () => setState((s) => (s.load === load && s.loading ? s : { ...own(s), loading: true })),
      onAnswer: (answer) =>
        setState((s) =>
          answer.ok
            ? { load, value: answer.value, error: undefined, loading: false }
            : { ...own(s), error: toApiError(answer.error), loading: false },
        ),
    });
    loop.current = current;
    current.start();
    return () => current.stop();
  }, [load, intervalMs]);

  const refresh = useCallback(() => loop.current?.poll(), []);
  // Read at render, not cleared in the effect: the first render with a new `load` already shows nothing.
  const { value, error, loading } = state.load === load ? state : { value: undefined, error: undefined, loading: false };
  return { value, error, loading, refresh };
}
