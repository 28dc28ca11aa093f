/**
 * A panel's polled data (PollLoop in React): the latest value, the last error (cleared by the next
 * success; the value is kept, so a panel can show its last figures under the error) and whether a
 * request is on its way. `load` gets the request's AbortSignal (pass it to the ConsoleClient call):
 * it aborts when a Refresh supersedes the request or the loop stops. A new `load` (make it with
 * useCallback over the query it asks) stops the old loop, whose request is aborted and answers
 * dropped, and starts a new one; the value shown until the new answer comes is the old query's,
 * so a panel that must not mix them checks the value it gets.
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

export function usePoll<T>(load: (signal: AbortSignal) => Promise<T>, intervalMs: number): Polled<T> {
  const [state, setState] = useState<Omit<Polled<T>, 'refresh'>>({ value: undefined, error: undefined, loading: false });
  const loop = useRef<PollLoop<T> | undefined>(undefined);

  useEffect(() => {
    const current = new PollLoop<T>({
      load: withDeadline(load, pollDeadlineMs(intervalMs)),
      intervalMs,
      onRequest: () => setState((s) => (s.loading ? s : { ...s, loading: true })),
      onAnswer: (answer) =>
        setState((s) =>
          answer.ok ? { value: answer.value, error: undefined, loading: false } : { ...s, error: toApiError(answer.error), loading: false },
        ),
    });
    loop.current = current;
    current.start();
    return () => current.stop();
  }, [load, intervalMs]);

  const refresh = useCallback(() => loop.current?.poll(), []);
  return { ...state, refresh };
}
