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
  /** Per window, per id, the checks' cancels (a page that reuses an id cancels all of them at once). */
  private readonly inFlight = new Map<object, Map<string | undefined, Set<AbortController>>>();

  constructor(private readonly run: RunCheck) {}

  /** Runs `request` (a check:run request, its `checkId` optional) for the window `owner`. */
  async check(owner: object, request: unknown): Promise<CheckResult> {
    const id = cancellableCheckId(request);
    let mine = this.inFlight.get(owner);
    if (!mine) {
      mine = new Map();
      this.inFlight.set(owner, mine);
    }
    let same = mine.get(id);
    if (!same) {
      same = new Set();
      mine.set(id, same);
    }
    const controller = new AbortController();
    same.add(controller);
    try {
      return await this.run(request, controller.signal);
    } finally {
      same.delete(controller);
      if (same.size === 0 && mine.get(id) === same) mine.delete(id);
      if (mine.size === 0 && this.inFlight.get(owner) === mine) this.inFlight.delete(owner);
    }
  }

  /** Cancels the window's checks sent with `checkId`; false when none is in flight (answered already, or never sent). */
  cancel(owner: object, checkId: string): boolean {
    const same = this.inFlight.get(owner)?.get(checkId);
    if (!same) return false;
    for (const controller of same) controller.abort();
    return true;
  }

  /** Cancels every check of a window that went. */
  cancelAll(owner: object): void {
    const mine = this.inFlight.get(owner);
    if (!mine) return;
    for (const same of mine.values()) for (const controller of same) controller.abort();
  }

  /** Checks in flight, all windows together. */
  get size(): number {
    let n = 0;
    for (const mine of this.inFlight.values()) for (const same of mine.values()) n += same.size;
    return n;
  }
}
