import type { CheckResult } from '../../preload/wire-types.ts';
import { cancellableCheckId } from '../service/structured-check-request.ts';

/** What runs one check: ServiceRuntime.checkStructured, aborted as a hung-up HTTP client's is. */
export type RunCheck = (request: unknown, signal: AbortSignal) => Promise<CheckResult>;

/**
 * The checks each window has in flight over IPC, so that a page can cancel one (a row removed, the
 * batch cancelled) as a browser's aborted fetch does over HTTP: a check still queued is dropped and
 * counted 499 CLIENT_CLOSED_REQUEST; one already in a running batch finishes and is counted as what
 * it answered (check-service.ts). A window that goes (reload, close, crash) cancels all of its own.
 * A page names a check by the `checkId` it sends it with; ids are kept per window, so one window
 * cannot cancel another's. A malformed id is refused (and counted) by the check itself.
 */
export class IpcChecks {
  /** Per window, its checks in flight: a few (the page keeps 4 in flight), so a cancel looks through them. */
  private readonly inFlight = new Map<object, Set<{ readonly id: string | undefined; readonly controller: AbortController }>>();

  constructor(private readonly run: RunCheck) {}

  /** Runs `request` (a check:run request, its `checkId` optional) for the window `owner`. */
  async check(owner: object, request: unknown): Promise<CheckResult> {
    let mine = this.inFlight.get(owner);
    if (!mine) {
      mine = new Set();
      this.inFlight.set(owner, mine);
    }
    const entry = { id: cancellableCheckId(request), controller: new AbortController() };
    mine.add(entry);
    try {
      return await this.run(request, entry.controller.signal);
    } finally {
      mine.delete(entry);
      if (mine.size === 0 && this.inFlight.get(owner) === mine) this.inFlight.delete(owner);
    }
  }

  /** Cancels the window's checks sent with `checkId` (a page that reuses an id cancels all of them); false when none is in flight. */
  cancel(owner: object, checkId: string): boolean {
    let found = false;
    for (const { id, controller } of this.inFlight.get(owner) ?? []) {
      if (id !== checkId) continue;
      controller.abort();
      found = true;
    }
    return found;
  }

  /** Cancels every check of a window that went. */
  cancelAll(owner: object): void {
    for (const { controller } of this.inFlight.get(owner) ?? []) controller.abort();
  }

  /** Checks in flight, all windows together. */
  get size(): number {
    let n = 0;
    for (const mine of this.inFlight.values()) n += mine.size;
    return n;
  }
}
