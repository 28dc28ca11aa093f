/**
 * Bytes of check input held at once. The HTTP server reserves a check's Content-Length before its
 * body is read (the body limit when the length is not declared) and releases it when its answer is
 * sent; the IPC path (ServiceRuntime.checkStructured) reserves an image's bytes until its check
 * ends. The queue bounds requests, not bytes (256 queued 20 MiB images are 5 GiB); this bounds the
 * bytes, so many concurrent large uploads are refused with 503 OVERLOADED at once instead of
 * filling memory and keeping the event loop busy parsing them.
 */
export class UploadBudget {
  private reserved = 0;
  private peak = 0;
  private refusals = 0;

  constructor(readonly limitBytes: number) {}

  /** A release function, or undefined when `bytes` do not fit now. */
  reserve(bytes: number): (() => void) | undefined {
    // Always admit one request on an empty budget, whatever its size (within the body limit).
    if (this.reserved > 0 && this.reserved + bytes > this.limitBytes) {
      this.refusals += 1;
      return undefined;
    }
    this.reserved += bytes;
    this.peak = Math.max(this.peak, this.reserved);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.reserved -= bytes;
    };
  }

  get counts(): { reserved: number; peak: number; refusals: number } {
    return { reserved: this.reserved, peak: this.peak, refusals: this.refusals };
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
