/**
 * A gauge sampled once a second and kept for the stats retention, so the dashboard can chart it
 * beside the per-second request series (queue depth).
 */
export class GaugeHistory {
  private readonly values: Float64Array;
  private readonly seconds: Float64Array;

  constructor(readonly retentionSeconds: number) {
    this.values = new Float64Array(retentionSeconds);
    this.seconds = new Float64Array(retentionSeconds).fill(-1);
  }

  /** Records the value for the second `epochSecond` (a later sample in the same second wins, as the max). */
  sample(epochSecond: number, value: number): void {
    const i = epochSecond % this.retentionSeconds;
    if (this.seconds[i] === epochSecond) this.values[i] = Math.max(this.values[i]!, value);
    else {
      this.seconds[i] = epochSecond;
      this.values[i] = value;
    }
  }

  /** Values for each second from..to inclusive; 0 where nothing was sampled. */
  series(from: number, to: number): number[] {
    const out: number[] = [];
    for (let t = from; t <= to; t++) {
      const i = ((t % this.retentionSeconds) + this.retentionSeconds) % this.retentionSeconds;
      out.push(this.seconds[i] === t ? this.values[i]! : 0);
    }
    return out;
  }
}
