/**
 * Bytes of check input held at once. The HTTP server reserves a check's Content-Length before its
 * body is read, or, for a body of undeclared length (chunked), its bytes as they arrive; it releases
 * them when its answer is sent. The IPC path (ServiceRuntime.checkStructured) reserves an image's
 * bytes until its check ends. The queue bounds requests, not bytes (256 queued 20 MiB images are
 * 5 GiB); this bounds the bytes, so many concurrent large uploads are refused with 503 OVERLOADED at
 * once instead of filling memory and keeping the event loop busy parsing them.
 */
export class UploadBudget {
  private reserved = 0;
  private peak = 0;
  private refusals = 0;

  constructor(readonly limitBytes: number) {}

  /** A reservation of `bytes`, or undefined when they do not fit now. */
  reserve(bytes: number): Reservation | undefined {
    if (!this.fits(0, bytes)) return undefined;
    const reservation = new Reservation(this);
    reservation.growTo(bytes);
    return reservation;
  }

  /** For Reservation: moves one from `held` to `total` bytes; a growth that does not fit is refused (and counted). */
  take(held: number, total: number): boolean {
    if (total > held && !this.fits(held, total)) return false;
    this.reserved += total - held;
    this.peak = Math.max(this.peak, this.reserved);
    return true;
  }

  private fits(held: number, total: number): boolean {
    // Always admit one request on an otherwise empty budget, whatever its size (within the body limit).
    if (this.reserved - held > 0 && this.reserved - held + total > this.limitBytes) {
      this.refusals += 1;
      return false;
    }
    return true;
  }

  get counts(): { reserved: number; peak: number; refusals: number } {
    return { reserved: this.reserved, peak: this.peak, refusals: this.refusals };
  }
}

/** Bytes one upload holds in an UploadBudget: it may grow as its body arrives, and is released once. */
export class Reservation {
  private held = 0;
  private released = false;

  constructor(private readonly budget: UploadBudget) {}

  get bytes(): number {
    return this.held;
  }

  /** Holds `total` bytes if that is more than now; false (holding what it held) when they do not fit. */
  growTo(total: number): boolean {
    if (this.released || total <= this.held) return true;
    if (!this.budget.take(this.held, total)) return false;
    this.held = total;
    return true;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.budget.take(this.held, 0);
    this.held = 0;
  }
}

/**
 * 128 MiB, or two bodies of the maximum size if that is more: six 20 MiB images read, parsed and
 * queued at once (each costs about 2.5 times its size in the process while it is parsed and sent to
 * the worker), or some hundred ordinary photos. Measured with 128 concurrent 20 MiB uploads
 * (test/integration/hostile-http.test.ts): peak RSS ~385 MiB and /healthz p99 ~0.3 s with 128 MiB,
 * ~690 MiB and ~0.5 s with 256 MiB.
 */
export function defaultUploadBudgetBytes(maxBodyBytes: number): number {
  return Math.max(128 * 1024 * 1024, 2 * maxBodyBytes);
}
