import { availableParallelism } from "node:os";
import { type IntervalHistogram, monitorEventLoopDelay } from "node:perf_hooks";
import { FRAME_MS } from "../../reference/mixer/frame.ts";
import { epochNow } from "./clock.ts";
import { ThreadCpu } from "./thread-cpu.ts";

// The load generator's own health, sampled in every thread of `ktv run` (saturation.ts judges it):
//
//   elu          performance.eventLoopUtilization over the sample: the share of wall time the thread's event
//                loop was busy. Near 1, every timer and every socket callback of the thread waits its turn.
//   loop delay   perf_hooks.monitorEventLoopDelay (a 10 ms libuv timer): p99 and max. On Node 20 it records the
//                interval between the timer's callbacks, so the resolution is subtracted to get the delay. It
//                includes the time the OS did not run the thread, so it also sees an overloaded machine. It
//                forgets the interval that straddles a reset (each sample), so a stall may escape it: stalls
//                are caught by the clock lag below.
//   clock lag    how late a periodic 10 ms timer fires against its drift-free schedule (LagSource, p50, p99
//                and max). The frame-period timer stands for the mixers' frame clock; a better source (the
//                worker's shared frame ticker, which knows each frame's real lateness) plugs in through
//                LagSource without touching the rest.
//   thread cpu   the thread's own user + system CPU over the sample (thread-cpu.ts; null without /proc): the
//                figure that says which thread's work got cheaper when ELU only says it waited less.
//   process cpu  (main thread only) process.cpuUsage over wall time, as a share of all cores: every thread of
//                the process, user + system.
//
// A sample costs a few µs once a second; the lag timer wakes the thread 100 times a second (~1 µs each).

/** One thread's figures over one sample (normally one second). */
export interface ThreadSample {
  /** The sample's end, epoch ms. */
  t: number;
  /** Wall time it covers, ms (longer than a second when the thread was blocked). */
  spanMs: number;
  elu: number;
  delayP99Ms: number;
  delayMaxMs: number;
  /** Null when the thread has no lag source or no tick fell in the sample. */
  lagP50Ms: number | null;
  lagP99Ms: number | null;
  lagMaxMs: number | null;
  /** The thread's CPU over the sample, ms (null: not readable here). */
  cpuMs: number | null;
  /**
   * A worker's boot: no VU of the thread had started by the sample's end (saturation.ts reports the sample's
   * figures but does not judge it). Absent: false.
   */
  boot?: boolean;
}

export interface LagFigures {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Scheduled ticks (frames) the figures are over. */
  ticks: number;
}

/** Lateness of a thread's periodic work since the last take(), or null when nothing ran. */
export interface LagSource {
  take(): LagFigures | null;
  close(): void;
}

/**
 * A timer every `periodMs` on a drift-free schedule (start + n × period); each tick's lateness is kept. After a
 * stall the missed ticks are not fired in a burst, but each is counted as a frame clock would produce it, late
 * by the stall less its place in it (L, L − period, ...): the percentiles are over every scheduled tick, so a
 * 300 ms stall in a second weighs as the 30 late frames it means, not as one outlier among 70 punctual ones.
 * Lateness goes into a fixed buffer (no allocation per tick; when full, the rest of the sample is dropped).
 */
export class TimerLag implements LagSource {
  private readonly late: Float64Array;
  private n = 0;
  private next: number;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly periodMs = FRAME_MS,
    capacity = 4096,
  ) {
    this.late = new Float64Array(capacity);
    this.next = epochNow() + periodMs;
    this.arm();
  }

  private arm(): void {
    this.timer = setTimeout(this.fire, Math.max(0, this.next - epochNow()));
    this.timer.unref();
  }

  private readonly fire = (): void => {
    const now = epochNow();
    do {
      if (this.n < this.late.length) this.late[this.n++] = Math.max(0, now - this.next);
      this.next += this.periodMs;
    } while (this.next <= now);
    this.arm();
  };

  take(): LagFigures | null {
    const n = this.n;
    this.n = 0;
    if (n === 0) return null;
    const v = this.late.subarray(0, n).sort();
    const at = (q: number) => v[Math.min(n - 1, Math.max(0, Math.ceil(n * q) - 1))]!;
    return { p50Ms: at(0.5), p99Ms: at(0.99), maxMs: v[n - 1]!, ticks: n };
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

/** ELU, event-loop delay and (optionally) clock lag of the calling thread, one sample per sample() call. */
export class ThreadSampler {
  private elu = performance.eventLoopUtilization();
  private last = epochNow();
  private readonly delay: IntervalHistogram;
  private readonly cpu = new ThreadCpu();

  constructor(private readonly lag: LagSource | null) {
    this.delay = monitorEventLoopDelay({ resolution: FRAME_MS });
    this.delay.enable();
  }

  sample(): ThreadSample {
    const now = epochNow();
    const elu = performance.eventLoopUtilization(this.elu);
    this.elu = performance.eventLoopUtilization();
    // A histogram with no samples reports its extremes as ±9e18 ns.
    const has = this.delay.count > 0;
    const delayP99Ms = has ? Math.max(0, this.delay.percentile(99) / 1e6 - FRAME_MS) : 0;
    const delayMaxMs = has ? Math.max(0, this.delay.max / 1e6 - FRAME_MS) : 0;
    this.delay.reset();
    const lag = this.lag?.take() ?? null;
    const s: ThreadSample = {
      t: now,
      spanMs: now - this.last,
      elu: Number.isFinite(elu.utilization) ? elu.utilization : 0,
      delayP99Ms,
      delayMaxMs,
      lagP50Ms: lag?.p50Ms ?? null,
      lagP99Ms: lag?.p99Ms ?? null,
      lagMaxMs: lag?.maxMs ?? null,
      cpuMs: this.cpu.take(),
    };
    this.last = now;
    return s;
  }

  close(): void {
    this.delay.disable();
    this.lag?.close();
  }
}

/** CPU of the whole process (every thread) over wall time, as a share of the machine's cores. */
export class ProcessCpu {
  private usage = process.cpuUsage();
  private last = epochNow();

  constructor(readonly cores = availableParallelism()) {}

  /** The share since the last call (0..1; may exceed 1 slightly through clock granularity). */
  sample(): { t: number; spanMs: number; share: number } {
    const now = epochNow();
    const d = process.cpuUsage(this.usage);
    this.usage = process.cpuUsage();
    const spanMs = now - this.last;
    this.last = now;
    const share = spanMs > 0 ? (d.user + d.system) / 1000 / (spanMs * this.cores) : 0;
    return { t: now, spanMs, share };
  }
}

/** Records a thread's sample into the run's metrics (catalog.ts generator_*); `main` picks the main's names. */
export function recordSample(
  rec: { record(metric: string, value: number): void },
  s: ThreadSample,
  main: boolean,
): void {
  rec.record(main ? "generator_main_elu" : "generator_elu", s.elu);
  if (!main && s.cpuMs !== null && s.spanMs > 0) rec.record("generator_thread_cpu", s.cpuMs / s.spanMs);
  rec.record(main ? "generator_main_loop_delay_ms" : "generator_loop_delay_ms", s.delayP99Ms);
  if (s.lagP99Ms !== null)
    rec.record(main ? "generator_main_clock_lag_ms" : "generator_clock_lag_ms", s.lagP99Ms);
}
