// The host's clock. Envoy reads wall-clock time for proxy_get_current_time_nanoseconds and WASI
// clock_time_get(realtime), and a monotonic clock for clock_time_get(monotonic); its timers
// (tick, callout timeouts) run on the dispatcher's monotonic time. Here both are controllable:
// real time by default, or a fixed start (`PluginOptions.now`), moved on by advanceTime().
// Timers only ever fire from advanceTime(), never on their own.

/** A point in time: a number is milliseconds since the epoch, a bigint nanoseconds. */
export type TimeInput = number | bigint | Date;

export function toNanos(t: TimeInput): bigint {
  if (typeof t === "bigint") return t;
  if (t instanceof Date) return BigInt(t.getTime()) * 1_000_000n;
  return BigInt(Math.round(t * 1_000_000));
}

export class HostClock {
  /** null = wall clock; otherwise the wall-clock time in ns at advance 0. */
  private fixedNs: bigint | null;
  private advancedNs = 0n;
  private readonly monoStart = process.hrtime.bigint();
  /** The last wall-clock millisecond read, in ns: every stream reads the time, BigInt math is slow. */
  private wallMs = -1;
  private wallNs = 0n;

  constructor(now?: TimeInput) {
    this.fixedNs = now === undefined ? null : toNanos(now);
  }

  /** Virtual milliseconds since the plugin was created: the timeline timers are scheduled on. */
  get elapsedMs(): number {
    return Number(this.advancedNs / 1_000_000n);
  }

  get manual(): boolean {
    return this.fixedNs !== null;
  }

  realtimeNs(): bigint {
    return (this.fixedNs ?? this.wallClockNs()) + this.advancedNs;
  }

  private wallClockNs(): bigint {
    const ms = Date.now();
    if (ms !== this.wallMs) {
      this.wallMs = ms;
      this.wallNs = BigInt(ms) * 1_000_000n;
    }
    return this.wallNs;
  }

  monotonicNs(): bigint {
    return (this.fixedNs === null ? process.hrtime.bigint() - this.monoStart : 0n) + this.advancedNs;
  }

  advance(ms: number): void {
    this.advancedNs += BigInt(Math.round(ms * 1_000_000));
  }

  /** Moves the wall clock to `t` (and fixes it there); timers are not affected. */
  set(t: TimeInput): void {
    this.fixedNs = toNanos(t) - this.advancedNs;
  }
}
