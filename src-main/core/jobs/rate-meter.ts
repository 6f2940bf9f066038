/**
 * Speed over a sliding window (2 s, like balenaEtcher) and the ETA that follows from it.
 * Time is passed in, so the meter is deterministic in tests.
 */
export class RateMeter {
  private samples: Array<{ t: number; bytes: number }> = [];

  constructor(private readonly windowMs = 2000) {}

  /** Records `bytes` done (cumulative) at time `t` (ms); returns bytes per second. */
  sample(t: number, bytes: number): number {
    this.samples.push({ t, bytes });
    while (this.samples.length > 2 && t - this.samples[1]!.t >= this.windowMs) this.samples.shift();
    return this.rate();
  }

  rate(): number {
    if (this.samples.length < 2) return 0;
    const first = this.samples[0]!;
    const last = this.samples[this.samples.length - 1]!;
    const dt = (last.t - first.t) / 1000;
    return dt > 0 ? Math.max(0, (last.bytes - first.bytes) / dt) : 0;
  }

  /** Seconds left, or undefined while the speed is unknown. */
  eta(done: number, total: number): number | undefined {
    const r = this.rate();
    if (r <= 0 || total <= 0) return undefined;
    return Math.max(0, (total - done) / r);
  }

  reset(): void {
    this.samples = [];
  }
}
