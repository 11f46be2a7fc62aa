import { build, encodeIntoCompressedBase64, type Histogram } from "hdr-histogram-js";
import { FRAME_MS } from "./frame.ts";

// The mixer's frame clock. setTimeout/setInterval at 10 ms drift (~2.5% measured here) and drop frames, so
// every frame has an absolute deadline, start + n·10 ms, and the clock never counts intervals:
// - after a tick it waits with setTimeout for the time left to the next deadline;
// - when that deadline has already passed (a slow tick, a blocked event loop) it continues with setImmediate,
//   so missed frames run back-to-back (I/O still gets a turn between them) until it is on time again;
// - no frame is ever skipped: after a stall of S ms the next ⌈S/10⌉ frames run late, each recorded.
// Every frame's lateness (start of its tick minus its deadline) and cost (the tick's duration) go into HDR
// histograms, in microseconds.

export interface Scheduler {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  setImmediate(fn: () => void): unknown;
  clearImmediate(handle: unknown): void;
}

export const nodeScheduler: Scheduler = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  setImmediate: (fn) => setImmediate(fn),
  clearImmediate: (h) => clearImmediate(h as NodeJS.Immediate),
};

export interface FrameClockOptions {
  /** Produces frame n, due at `deadlineMs` (on the `now` time base); its duration is the frame's mix cost. */
  onFrame: (frame: number, deadlineMs: number) => void;
  signal?: AbortSignal;
  /** Stop after this many frames (tests, fixed-length runs). */
  maxFrames?: number;
  frameMs?: number;
  /** Milliseconds, monotonic; default performance.now(). */
  now?: () => number;
  scheduler?: Scheduler;
}

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export interface ClockReport {
  frames: number;
  /** Frames that started a whole frame period or more after their deadline (run while catching up). */
  late_frames: number;
  elapsed_ms: number;
  lateness_ms: Percentiles;
  mix_cost_us: Percentiles;
}

/**
 * The histograms behind a ClockReport, so runs can be merged exactly (percentiles cannot be): each is
 * hdr-histogram-js `encodeIntoCompressedBase64`, one value per frame, in `unit`.
 */
export interface ClockHistograms {
  unit: "us";
  lateness: string;
  cost: string;
}

/** Microsecond histogram, 3 significant digits, resizing past a minute instead of dropping a value. */
export function microsHistogram(): Histogram {
  return build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
}

export function percentiles(h: Histogram, scale: number): Percentiles {
  if (h.totalCount === 0) return { p50: 0, p90: 0, p99: 0, max: 0, mean: 0 };
  return {
    p50: h.getValueAtPercentile(50) / scale,
    p90: h.getValueAtPercentile(90) / scale,
    p99: h.getValueAtPercentile(99) / scale,
    max: h.maxValue / scale,
    mean: h.mean / scale,
  };
}

export class FrameClock {
  /** Lateness of each frame, µs. */
  readonly lateness: Histogram = microsHistogram();
  /** Cost of each frame's tick, µs. */
  readonly cost: Histogram = microsHistogram();
  frames = 0;
  lateFrames = 0;
  private readonly frameMs: number;
  private readonly maxFrames: number;
  private readonly now: () => number;
  private readonly sched: Scheduler;
  private startMs = 0;
  private endMs = 0;
  private timer: unknown = null;
  private immediate: unknown = null;
  private state: "idle" | "running" | "done" = "idle";
  private settle: ((failure?: { error: unknown }) => void) | null = null;

  constructor(private readonly opts: FrameClockOptions) {
    this.frameMs = opts.frameMs ?? FRAME_MS;
    if (!(this.frameMs > 0)) throw new RangeError("clock: frameMs must be > 0");
    this.maxFrames = opts.maxFrames ?? Number.POSITIVE_INFINITY;
    if (!(this.maxFrames >= 0)) throw new RangeError("clock: maxFrames must be ≥ 0");
    this.now = opts.now ?? (() => performance.now());
    this.sched = opts.scheduler ?? nodeScheduler;
  }

  /** Deadline of frame n: start + n·frameMs; integral multiples, so no error accumulates. */
  deadline(n: number): number {
    return this.startMs + n * this.frameMs;
  }

  /** Runs until the signal aborts or maxFrames have run; rejects with the error if a tick throws. */
  run(): Promise<ClockReport> {
    if (this.state !== "idle") return Promise.reject(new Error("clock: run() may be called once"));
    this.state = "running";
    this.startMs = this.now();
    return new Promise<ClockReport>((resolve, reject) => {
      const signal = this.opts.signal;
      const onAbort = (): void => this.finish();
      this.settle = (failure) => {
        signal?.removeEventListener("abort", onAbort);
        if (failure) reject(failure.error);
        else resolve(this.report());
      };
      if (signal?.aborted || this.maxFrames === 0) {
        this.finish();
        return;
      }
      signal?.addEventListener("abort", onAbort, { once: true });
      this.schedule(0);
    });
  }

  report(): ClockReport {
    const end = this.state === "done" ? this.endMs : this.now();
    return {
      frames: this.frames,
      late_frames: this.lateFrames,
      elapsed_ms: this.state === "idle" ? 0 : end - this.startMs,
      lateness_ms: percentiles(this.lateness, 1000),
      mix_cost_us: percentiles(this.cost, 1),
    };
  }

  /** The lateness and cost histograms, encoded (a copy: the clock may keep running). */
  histograms(): ClockHistograms {
    return {
      unit: "us",
      lateness: encodeIntoCompressedBase64(this.lateness),
      cost: encodeIntoCompressedBase64(this.cost),
    };
  }

  private readonly tick = (): void => {
    this.timer = null;
    this.immediate = null;
    if (this.state !== "running") return;
    const start = this.now();
    const deadline = this.deadline(this.frames);
    // Timers can fire a little early against a sub-millisecond clock: wait again rather than run early.
    if (start < deadline) {
      this.schedule(deadline - start);
      return;
    }
    const late = start - deadline;
    this.lateness.recordValue(Math.floor(late * 1000));
    if (late >= this.frameMs) this.lateFrames++;
    try {
      this.opts.onFrame(this.frames, deadline);
    } catch (error) {
      this.finish({ error });
      return;
    }
    const end = this.now();
    this.cost.recordValue(Math.floor((end - start) * 1000));
    this.frames++;
    if (this.frames >= this.maxFrames) this.finish();
    else this.schedule(this.deadline(this.frames) - end);
  };

  private schedule(waitMs: number): void {
    if (waitMs <= 0) this.immediate = this.sched.setImmediate(this.tick);
    else this.timer = this.sched.setTimeout(this.tick, waitMs);
  }

  private finish(failure?: { error: unknown }): void {
    if (this.state === "done") return;
    this.state = "done";
    this.endMs = this.now();
    if (this.timer !== null) this.sched.clearTimeout(this.timer);
    if (this.immediate !== null) this.sched.clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
    this.settle?.(failure);
  }
}
