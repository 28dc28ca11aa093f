/**
 * Runs items with at most `concurrency` in flight, starting the next as soon as one finishes, so
 * the service's dynamic batcher always has a batch's worth queued while another runs.
 */
export class BatchPool<T, R> {
  private next = 0;
  private running = 0;
  private stopped = false;
  private settle: (() => void) | undefined;

  constructor(
    private readonly items: readonly T[],
    private readonly concurrency: number,
    /** Must not reject: an item's failure is part of its result. */
    private readonly work: (item: T) => Promise<R>,
    private readonly onDone: (item: T, result: R) => void,
  ) {}

  get inFlight(): number {
    return this.running;
  }

  /** Items never started (after stop(), or not reached yet). */
  get notStarted(): number {
    return this.items.length - this.next;
  }

  /** Resolves when every item is done, or once those in flight are after stop(), or at abandon(). */
  run(): Promise<void> {
    return new Promise((resolve) => {
      this.settle = resolve;
      this.fill();
    });
  }

  /** Takes no new items; those in flight finish (and are reported). Returns how many are in flight. */
  stop(): number {
    this.stopped = true;
    this.finishIfIdle();
    return this.running;
  }

  /** Stops waiting for the items in flight: run() resolves now and their results are dropped. */
  abandon(): void {
    this.stopped = true;
    this.settle?.();
    this.settle = undefined;
  }

  private fill(): void {
    while (!this.stopped && this.running < this.concurrency && this.next < this.items.length) {
      const item = this.items[this.next++] as T;
      this.running += 1;
      void this.work(item).then((result) => {
        this.running -= 1;
        if (!this.settle) return; // abandoned
        this.onDone(item, result);
        this.fill();
      });
    }
    this.finishIfIdle();
  }

  private finishIfIdle(): void {
    if (this.running === 0 && (this.stopped || this.next >= this.items.length)) {
      this.settle?.();
      this.settle = undefined;
    }
  }
}
