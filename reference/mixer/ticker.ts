import { encodeIntoCompressedBase64, type Histogram, type JsHistogram } from "hdr-histogram-js";
import {
  type ClockHistograms,
  type ClockReport,
  microsHistogram,
  nodeScheduler,
  percentiles,
  type Scheduler,
} from "./clock.ts";
import { FRAME_MS } from "./frame.ts";

// One frame clock per thread. A FrameClock per device meant one timer, two HDR histograms and a timer object
// per tick for every publisher: about 40 real-time mixers per process before lateness passed 10 ms
// (bench/mixer/publish-path.ts, part c). The ticker keeps FrameClock's guarantees for every device it drives,
// with one timer for the thread:
// - a grid of absolute deadlines, start + k·10 ms (start = the first attach); the ticker never counts
//   intervals, so nothing drifts;
// - each tick is one pass over the attached devices in attach order, each running its next frame;
// - after a pass it waits with setTimeout for the next grid deadline, or continues with setImmediate when that
//   has already passed: frames missed in a stall run back-to-back, pass after pass (I/O still gets a turn
//   between passes), and no device ever skips a frame;
// - a timer that fires early re-arms instead of running a frame early;
// - a device attached mid-period gets its first frame at the next grid deadline (never one already passed),
//   so devices share the grid and its one timer; its frame n is due at its first deadline + n·10 ms.
// Lateness of a device-frame is when that device's frame started minus its deadline (devices later in a pass
// wait for the ones before them, and that wait is real lateness); cost is that device's frame work. Both go
// into the thread's histograms (µs), drained by whoever reports (the scenario worker, once per flush); a
// device keeps only counters unless it asks for its own histograms too (a single client reporting its mix).
// Per frame nothing is allocated: devices are FrameTask objects called through a method, their state lives in
// an attachment made once per attach, and the slot arrays only grow on attach.
//
// Lanes: with `lanes` K > 1 the grid has K deadlines per frame period (start + g·10/K ms), and each device
// belongs to one lane (the least filled when it attaches): its deadlines are every K-th grid point of its lane,
// still 10 ms apart. A pass runs one lane. Real devices' audio clocks have arbitrary phases; driving every
// device of a thread at the same instant made the last device of a pass late by the pass's whole length
// (1,000 devices x ~2.5 µs each) and sent every packet of the thread in one burst. K lanes divide both by K,
// for K-1 more timer wake-ups per period.

export interface FrameTask {
  /** Produces the task's frame `frame` (0 = its first), due at `deadlineMs` on the ticker's time base. */
  runFrame(frame: number, deadlineMs: number): void;
  /** `runFrame` threw: the task has already been detached; it reports why. */
  frameFailed(error: unknown): void;
}

export interface FrameTickerOptions {
  /** Milliseconds, monotonic; default performance.now(). */
  now?: () => number;
  scheduler?: Scheduler;
  frameMs?: number;
  /** Phases per frame period that devices are spread over (see the header); default 1: all in step. */
  lanes?: number;
}

/** One lane's devices in attach order; null slots are detached ones awaiting compaction. */
class Lane {
  slots: (TickerAttachment | null)[] = [];
  count = 0;
  holes = 0;
  live = 0;
}

/** What `drain` hands over: counts and encoded (hdr-histogram-js compressed base64) µs histograms. */
export interface TickerStats {
  /** Device-frames run since the last drain. */
  frames: number;
  /** Device-frames that started a whole frame period or more after their deadline. */
  lateFrames: number;
  /** Lateness of each device-frame, µs. */
  lateness: string;
  /** Cost (work) of each device-frame, µs. */
  cost: string;
}

/** Where `FrameTicker.drainTo` puts the thread's figures: counts, then value/count pairs in µs. */
export interface TickerSink {
  frames(frames: number, lateFrames: number): void;
  lateness(us: number, count: number): void;
  cost(us: number, count: number): void;
}

/** One device's place on a ticker, from attach to detach. Counters always; histograms when asked for. */
export class TickerAttachment {
  frames = 0;
  lateFrames = 0;
  /** Position in the ticker's slot array; -1 once detached. */
  index = -1;
  /** Grid index of this device's frame 0. */
  readonly firstGrid: number;
  /** The ticker lane it runs in (firstGrid mod lanes). */
  readonly lane: number;
  /** Deadline of frame 0 (the ticker's time base). */
  readonly startMs: number;
  private endMs = -1;
  readonly lateness: Histogram | null;
  readonly cost: Histogram | null;

  constructor(
    readonly task: FrameTask,
    private readonly ticker: FrameTicker,
    firstGrid: number,
    histograms: boolean,
  ) {
    this.firstGrid = firstGrid;
    this.lane = firstGrid % ticker.lanes;
    this.startMs = ticker.gridDeadline(firstGrid);
    this.lateness = histograms ? microsHistogram() : null;
    this.cost = histograms ? microsHistogram() : null;
  }

  get attached(): boolean {
    return this.index >= 0;
  }

  /** Deadline of this device's frame n. */
  deadline(n: number): number {
    return this.ticker.gridDeadline(this.firstGrid + n * this.ticker.lanes);
  }

  /** Called by the ticker on detach. */
  ended(atMs: number): void {
    this.endMs = atMs;
  }

  /**
   * FrameClock's report for this device; null without its own histograms (percentiles of nothing recorded
   * would read as zero lateness).
   */
  report(): ClockReport | null {
    if (!this.lateness || !this.cost) return null;
    const end = this.endMs >= 0 ? this.endMs : this.ticker.now();
    return {
      frames: this.frames,
      late_frames: this.lateFrames,
      elapsed_ms: Math.max(0, end - this.startMs),
      lateness_ms: percentiles(this.lateness, 1000),
      mix_cost_us: percentiles(this.cost, 1),
    };
  }

  /** This device's histograms, encoded (null without them). */
  histograms(): ClockHistograms | null {
    if (!this.lateness || !this.cost) return null;
    return {
      unit: "us",
      lateness: encodeIntoCompressedBase64(this.lateness),
      cost: encodeIntoCompressedBase64(this.cost),
    };
  }
}

/** Values below this (µs) are counted in a flat array first: 16 ms covers nearly every lateness and cost. */
const STAGED_US = 16_384;

/**
 * An HDR µs histogram whose small values are first counted in a flat array and folded in when read: one
 * array increment per value instead of hdr-histogram-js's recordValue (~115 ns measured here; two per
 * device-frame were a fifth of a SIMD device-frame's cost). Folding records each value with its count, so the
 * histogram read is the one direct recording would have built. 64 KB per instance: for the thread, not per
 * device.
 */
export class StagedMicros {
  private readonly hdr: Histogram = microsHistogram();
  private readonly flat = new Uint32Array(STAGED_US);

  record(us: number): void {
    if (us >= 0 && us < STAGED_US) this.flat[us]!++;
    else this.hdr.recordValue(us);
  }

  /** The histogram with everything recorded so far. */
  read(): Histogram {
    this.takeFlat((v, c) => this.hdr.recordValueWithCount(v, c));
    return this.hdr;
  }

  /**
   * Hands every recorded value with its count to `visit` (small ones exactly, larger ones at their bucket's
   * lowest equivalent value, as an HDR add would), then resets. No encoding: a load worker drains once a second
   * and an encode/decode round trip cost it 5-50 ms of one event loop per drain (measured).
   */
  drainTo(visit: (us: number, count: number) => void): void {
    this.takeFlat(visit);
    const h = this.hdr as JsHistogram;
    if (h.totalCount > 0) {
      // A walk over the counts array, not recordedValuesIterator: the iterator allocates and recomputes
      // equivalence ranges per step, 20 ms per drain in a loaded 20-VU worker (CPU profile); the walk reads each
      // count once. valueFromIndex is the bucket's lowest equivalent value, what the iterator reported.
      const n = h.countsArrayLength;
      for (let i = 0; i < n; i++) {
        const c = h.getCountAtIndex(i);
        if (c > 0) visit(h.valueFromIndex(i), c);
      }
      h.reset();
    }
  }

  reset(): void {
    this.flat.fill(0);
    this.hdr.reset();
  }

  /** Hands each staged value with its count to `visit` and clears it. */
  private takeFlat(visit: (us: number, count: number) => void): void {
    const flat = this.flat;
    for (let v = 0; v < STAGED_US; v++) {
      const c = flat[v]!;
      if (c !== 0) {
        visit(v, c);
        flat[v] = 0;
      }
    }
  }
}

export class FrameTicker {
  /** Lateness of every device-frame since the last drain, µs. */
  readonly lateness = new StagedMicros();
  /** Cost of every device-frame since the last drain, µs. */
  readonly cost = new StagedMicros();
  frames = 0;
  lateFrames = 0;
  /** Passes run (one per grid deadline while anything is attached); for tests and meters. */
  passes = 0;
  readonly now: () => number;
  readonly lanes: number;
  private readonly frameMs: number;
  /** Grid spacing: frameMs / lanes. */
  private readonly stepMs: number;
  private readonly sched: Scheduler;
  private readonly laneSlots: Lane[];
  private live = 0;
  private originMs = Number.NaN;
  /** Grid index of the next pass (of the pass running, while `passing`). */
  private grid = 0;
  /** Grid index of the last pass run (-1: none yet). */
  private lastRun = -1;
  /** Rotates ties between equally filled lanes. */
  private nextLane = 0;
  private passing = false;
  private timer: unknown = null;
  private immediate: unknown = null;

  constructor(opts: FrameTickerOptions = {}) {
    this.frameMs = opts.frameMs ?? FRAME_MS;
    if (!(this.frameMs > 0)) throw new RangeError("ticker: frameMs must be > 0");
    this.lanes = opts.lanes ?? 1;
    if (!Number.isInteger(this.lanes) || this.lanes < 1 || this.lanes > 100) {
      throw new RangeError(`ticker: lanes must be an integer in 1..100, got ${opts.lanes}`);
    }
    this.stepMs = this.frameMs / this.lanes;
    this.laneSlots = Array.from({ length: this.lanes }, () => new Lane());
    this.now = opts.now ?? (() => performance.now());
    this.sched = opts.scheduler ?? nodeScheduler;
  }

  /** Devices attached now. */
  get size(): number {
    return this.live;
  }

  gridDeadline(k: number): number {
    return this.originMs + k * this.stepMs;
  }

  /**
   * Starts driving `task`: its frame 0 runs at the next grid deadline (at once on an idle ticker's first
   * attach, which starts the grid). One attachment object per call; nothing per frame.
   */
  attach(task: FrameTask, opts: { histograms?: boolean } = {}): TickerAttachment {
    const t = this.now();
    if (Number.isNaN(this.originMs)) {
      this.originMs = t;
      this.grid = 0;
    }
    const laneIndex = this.pickLane();
    // The next deadline not yet passed, and never a pass already run or running now (it has read its
    // deadline); then the first such grid point of the device's lane.
    let first = Math.max(0, Math.ceil((t - this.originMs) / this.stepMs));
    if (this.gridDeadline(first) < t) first++; // float rounding at an exact multiple
    first = Math.max(first, this.lastRun + 1);
    if (this.passing) first = Math.max(first, this.grid + 1);
    first += (((laneIndex - first) % this.lanes) + this.lanes) % this.lanes;
    const idle = this.live === 0;
    const a = new TickerAttachment(task, this, first, opts.histograms ?? false);
    const lane = this.laneSlots[laneIndex]!;
    a.index = lane.count;
    lane.slots[lane.count++] = a;
    lane.live++;
    this.live++;
    if (this.passing) return a;
    // The armed pass may be later than this device's first frame (its lane was empty), or stale (idle ticker:
    // move up so no empty passes run to catch up to now).
    if (idle || first < this.grid || (this.timer === null && this.immediate === null)) {
      this.cancel();
      this.grid = idle ? first : Math.min(this.grid, first);
      this.schedule(this.gridDeadline(this.grid) - t);
    }
    return a;
  }

  /** Stops driving the attachment's task; safe inside a pass, from its own frame or another's. Idempotent. */
  detach(a: TickerAttachment): void {
    const lane = this.laneSlots[a.lane]!;
    if (a.index < 0 || lane.slots[a.index] !== a) return;
    lane.slots[a.index] = null;
    a.index = -1;
    a.ended(this.now());
    lane.live--;
    this.live--;
    if (this.passing) {
      lane.holes++;
      return;
    }
    compact(lane);
    if (this.live === 0) this.cancel();
  }

  /**
   * The thread-wide figures since the last drain, straight into a sink (value/count pairs, µs), then reset: the
   * cheap form of `drain` for a worker that records them into its own metrics every second.
   */
  drainTo(sink: TickerSink): void {
    sink.frames(this.frames, this.lateFrames);
    this.frames = 0;
    this.lateFrames = 0;
    this.lateness.drainTo(sink.lateness);
    this.cost.drainTo(sink.cost);
  }

  /** The thread-wide counts and histograms since the last drain, then reset. */
  drain(): TickerStats {
    const s: TickerStats = {
      frames: this.frames,
      lateFrames: this.lateFrames,
      lateness: encodeIntoCompressedBase64(this.lateness.read()),
      cost: encodeIntoCompressedBase64(this.cost.read()),
    };
    this.lateness.reset();
    this.cost.reset();
    this.frames = 0;
    this.lateFrames = 0;
    return s;
  }

  private readonly tick = (): void => {
    this.timer = null;
    this.immediate = null;
    if (this.live === 0) return;
    const grid = this.grid;
    const deadline = this.gridDeadline(grid);
    let t = this.now();
    // Timers can fire a little early against a sub-millisecond clock: wait again rather than run early.
    if (t < deadline) {
      this.schedule(deadline - t);
      return;
    }
    const frameMs = this.frameMs;
    const lane = this.laneSlots[grid % this.lanes]!;
    const slots = lane.slots;
    this.passing = true;
    // Attachments made during the pass land past `end` (and start at a later grid anyway).
    const end = lane.count;
    for (let i = 0; i < end; i++) {
      const a = slots[i];
      if (a === null || a === undefined || a.firstGrid > grid) continue;
      const late = t - deadline;
      try {
        a.task.runFrame(a.frames, deadline);
      } catch (error) {
        // Like FrameClock: the failed frame is not counted; the task is off the ticker before it hears why.
        this.detach(a);
        try {
          a.task.frameFailed(error);
        } catch {
          // A failing failure handler must not take the pass (and every other device) down with it.
        }
        t = this.now();
        continue;
      }
      const done = this.now();
      const lateUs = Math.floor(late * 1000);
      const costUs = Math.floor((done - t) * 1000);
      this.lateness.record(lateUs);
      this.cost.record(costUs);
      this.frames++;
      a.frames++;
      if (a.lateness !== null) {
        a.lateness.recordValue(lateUs);
        a.cost!.recordValue(costUs);
      }
      if (late >= frameMs) {
        this.lateFrames++;
        a.lateFrames++;
      }
      t = done;
    }
    this.passing = false;
    this.passes++;
    this.lastRun = grid;
    for (const l of this.laneSlots) if (l.holes > 0) compact(l);
    if (this.live === 0) return;
    // The next grid point whose lane has devices (within one period: some lane has).
    let next = grid + 1;
    while (this.laneSlots[next % this.lanes]!.live === 0) next++;
    this.grid = next;
    this.schedule(this.gridDeadline(next) - t);
  };

  /** The least filled lane; ties rotate, so devices attached together spread over the lanes. */
  private pickLane(): number {
    const n = this.lanes;
    let best = this.nextLane;
    for (let k = 1; k < n; k++) {
      const i = (this.nextLane + k) % n;
      if (this.laneSlots[i]!.live < this.laneSlots[best]!.live) best = i;
    }
    this.nextLane = (best + 1) % n;
    return best;
  }

  private schedule(waitMs: number): void {
    if (waitMs <= 0) this.immediate = this.sched.setImmediate(this.tick);
    else this.timer = this.sched.setTimeout(this.tick, waitMs);
  }

  private cancel(): void {
    if (this.timer !== null) this.sched.clearTimeout(this.timer);
    if (this.immediate !== null) this.sched.clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
  }
}

/** Drops a lane's null slots, keeping attach order; allocation-free (the array is reused). */
function compact(lane: Lane): void {
  const slots = lane.slots;
  let w = 0;
  for (let r = 0; r < lane.count; r++) {
    const a = slots[r];
    if (a === null || a === undefined) continue;
    a.index = w;
    slots[w++] = a;
  }
  for (let r = w; r < lane.count; r++) slots[r] = null;
  lane.count = w;
  lane.holes = 0;
}

let shared: FrameTicker | null = null;

/**
 * Lanes of the thread's ticker: 5, 2 ms apart. Node's timers resolve milliseconds, so closer lanes would
 * share wake-ups; 500 wake-ups/s cost a thread ~0.5% of a core.
 */
export const THREAD_TICKER_LANES = 5;

/** This thread's ticker (performance.now, Node's timers): every CaptureDevice uses it unless given its own. */
export function threadTicker(): FrameTicker {
  shared ??= new FrameTicker({ lanes: THREAD_TICKER_LANES });
  return shared;
}
