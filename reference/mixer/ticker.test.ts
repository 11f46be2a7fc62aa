import { Session } from "node:inspector/promises";
import fc from "fast-check";
import { decodeFromCompressedBase64, encodeIntoCompressedBase64 } from "hdr-histogram-js";
import { describe, expect, it } from "vitest";
import { microsHistogram, type Scheduler } from "./clock.ts";
import { type FrameTask, FrameTicker, StagedMicros, threadTicker } from "./ticker.ts";
import { SlotTime, VirtualTime } from "./virtual-time.ts";

interface Run {
  frame: number;
  deadline: number;
  startedAt: number;
}

/** A device on simulated time: records every frame it runs; frame n costs cost(n) ms of (simulated) CPU. */
class Task implements FrameTask {
  readonly runs: Run[] = [];
  failed: unknown = null;
  onFrame: ((frame: number) => void) | null = null;
  constructor(
    private readonly vt: VirtualTime,
    private readonly cost: (n: number) => number = () => 0,
  ) {}
  runFrame(frame: number, deadline: number): void {
    this.runs.push({ frame, deadline, startedAt: this.vt.now() });
    this.vt.spend(this.cost(frame));
    this.onFrame?.(frame);
  }
  frameFailed(error: unknown): void {
    this.failed = error;
  }
}

/** A scheduler that counts how many timers/immediates are pending at once. */
function counting(vt: VirtualTime) {
  let pending = 0;
  let maxPending = 0;
  let armed = 0;
  const wrap =
    (f: (fn: () => void, ms: number) => unknown) =>
    (fn: () => void, ms = 0): unknown => {
      pending++;
      armed++;
      maxPending = Math.max(maxPending, pending);
      return f(() => {
        pending--;
        fn();
      }, ms);
    };
  const scheduler: Scheduler = {
    setTimeout: wrap((fn, ms) => vt.scheduler.setTimeout(fn, ms)),
    setImmediate: wrap((fn) => vt.scheduler.setImmediate(fn)),
    clearTimeout: (h) => {
      pending--;
      vt.scheduler.clearTimeout(h);
    },
    clearImmediate: (h) => {
      pending--;
      vt.scheduler.clearImmediate(h);
    },
  };
  return { scheduler, stats: () => ({ maxPending, armed }) };
}

const frames = (t: Task) => t.runs.map((r) => r.frame);
const range = (n: number) => [...Array(n).keys()];

describe("StagedMicros", () => {
  it("reads as the histogram that recording every value directly builds", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: 0, max: 20_000 }), fc.integer({ min: 0, max: 90_000_000 })), {
          maxLength: 300,
        }),
        (values) => {
          const direct = microsHistogram();
          const staged = new StagedMicros();
          for (const v of values) {
            direct.recordValue(v);
            staged.record(v);
          }
          // Read twice with more in between: folding must not double-count.
          const first = staged.read().totalCount;
          staged.record(5);
          direct.recordValue(5);
          expect(first).toBe(values.length);
          expect(encodeIntoCompressedBase64(staged.read())).toBe(encodeIntoCompressedBase64(direct));
          staged.reset();
          expect(staged.read().totalCount).toBe(0);
        },
      ),
      { numRuns: 100, seed: 14 },
    );
  });
});

describe("StagedMicros.drainTo", () => {
  it("hands over what read() would hold, value by value, and leaves nothing behind", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: 0, max: 20_000 }), fc.integer({ min: 0, max: 90_000_000 })), {
          maxLength: 300,
        }),
        (values) => {
          const a = new StagedMicros();
          const b = new StagedMicros();
          for (const v of values) {
            a.record(v);
            b.record(v);
          }
          const rebuilt = microsHistogram();
          let pairs = 0;
          a.drainTo((us, count) => {
            rebuilt.recordValueWithCount(us, count);
            pairs += count;
          });
          expect(pairs).toBe(values.length);
          expect(encodeIntoCompressedBase64(rebuilt)).toBe(encodeIntoCompressedBase64(b.read()));
          let after = 0;
          a.drainTo((_us, count) => {
            after += count;
          });
          expect(after).toBe(0);
        },
      ),
      { numRuns: 100, seed: 15 },
    );
  });
});

describe("FrameTicker on simulated time", () => {
  it("drives many devices with one timer, each frame at its grid deadline", () => {
    const vt = new VirtualTime();
    const c = counting(vt);
    const ticker = new FrameTicker({ now: vt.now, scheduler: c.scheduler });
    const tasks = Array.from({ length: 50 }, () => new Task(vt, () => 0.01));
    const atts = tasks.map((t) => ticker.attach(t));
    // The last device of the pass stops them all, so every device runs frames 0..29.
    tasks[49]!.onFrame = (n) => {
      if (n === 29) for (const a of atts) ticker.detach(a);
    };
    vt.run(10_000);
    expect(c.stats().maxPending).toBe(1);
    expect(ticker.passes).toBe(30);
    for (const t of tasks) {
      expect(frames(t)).toEqual(range(30));
      // Same grid for every device: frame n due at the first deadline + n·10 ms.
      expect(t.runs.map((r) => r.deadline - t.runs[0]!.deadline)).toEqual(range(30).map((n) => n * 10));
    }
    const s = ticker.drain();
    expect([s.frames, s.lateFrames]).toEqual([1500, 0]);
    expect(decodeFromCompressedBase64(s.lateness).totalCount).toBe(1500);
    expect(decodeFromCompressedBase64(s.cost).totalCount).toBe(1500);
    // Devices later in a pass wait for the earlier ones: 49 · 0.01 ms for the last device.
    expect(decodeFromCompressedBase64(s.lateness).maxValue).toBeGreaterThanOrEqual(480);
    // Drained means reset.
    expect(ticker.drain().frames).toBe(0);
  });

  it("with lanes, devices spread over the period: each pass runs one lane, every device keeps a 10 ms grid", () => {
    const vt = new VirtualTime();
    const c = counting(vt);
    const ticker = new FrameTicker({ now: vt.now, scheduler: c.scheduler, lanes: 5 });
    const tasks = Array.from({ length: 50 }, () => new Task(vt, () => 0.01));
    const atts = tasks.map((t) => ticker.attach(t));
    // Least filled lane first: 10 devices per lane, in attach order round the lanes.
    expect(atts.map((a) => a.lane)).toEqual(range(50).map((i) => i % 5));
    // Stop everything after device 49's frame 29 (its lane is the last of the period).
    tasks[49]!.onFrame = (n) => {
      if (n === 29) for (const a of atts) ticker.detach(a);
    };
    vt.run(10_000);
    expect(c.stats().maxPending).toBe(1);
    expect(ticker.passes).toBe(150);
    for (const [i, t] of tasks.entries()) {
      expect(frames(t)).toEqual(range(30));
      // Lane i mod 5 is 2·(i mod 5) ms into the period; frames 10 ms apart, on time (this clock spends only
      // the devices' own 0.01 ms each).
      expect(t.runs[0]!.deadline).toBe(2 * (i % 5));
      expect(t.runs.map((r) => r.deadline - t.runs[0]!.deadline)).toEqual(range(30).map((n) => n * 10));
      expect(t.runs.every((r) => r.startedAt - r.deadline < 0.1 + 1e-9)).toBe(true);
      expect(atts[i]!.deadline(7)).toBe(t.runs[7]!.deadline);
    }
    const s = ticker.drain();
    expect([s.frames, s.lateFrames]).toEqual([1500, 0]);
    // A pass holds 10 devices, not 50: the last waits 9 · 0.01 ms, not 49 · 0.01 ms.
    const worst = decodeFromCompressedBase64(s.lateness).maxValue;
    expect(worst).toBeGreaterThanOrEqual(80);
    expect(worst).toBeLessThan(120);
  });

  it("with lanes, a device attached later joins the least filled lane at its next grid point", () => {
    const vt = new VirtualTime();
    const ticker = new FrameTicker({ now: vt.now, scheduler: vt.scheduler, lanes: 4 });
    const a = [new Task(vt), new Task(vt), new Task(vt)];
    const atts = a.map((t) => ticker.attach(t));
    expect(atts.map((x) => x.lane)).toEqual([0, 1, 2]);
    const late = new Task(vt);
    // At 11 ms lanes 0-2 hold one device each, lane 3 none: the newcomer takes lane 3, whose next point is
    // 17.5 ms (lanes 2.5 ms apart); no pass was armed for lane 3 before it came.
    let lateAtt: ReturnType<FrameTicker["attach"]> | null = null;
    vt.scheduler.setTimeout(() => {
      lateAtt = ticker.attach(late);
    }, 11);
    a[0]!.onFrame = (n) => {
      if (n === 5) for (const x of [...atts, lateAtt!]) ticker.detach(x);
    };
    vt.run(200);
    expect(lateAtt!.lane).toBe(3);
    expect(late.runs.map((r) => r.deadline)).toEqual([17.5, 27.5, 37.5, 47.5]);
    expect(late.runs.every((r) => r.startedAt === r.deadline)).toBe(true);
    expect(a[1]!.runs.map((r) => r.deadline)).toEqual([2.5, 12.5, 22.5, 32.5, 42.5]);
  });

  it("refuses a lane count it cannot use", () => {
    expect(() => new FrameTicker({ lanes: 0 })).toThrow(/lanes/);
    expect(() => new FrameTicker({ lanes: 2.5 })).toThrow(/lanes/);
  });

  it("after a stall every device catches up back-to-back, skipping no frame, then runs on time", () => {
    const vt = new VirtualTime();
    const ticker = new FrameTicker({ now: vt.now, scheduler: vt.scheduler });
    // Device 1's frame 3 takes 55 ms: the pass ends at 85 ms, when deadlines 40..80 have passed.
    const tasks = [new Task(vt), new Task(vt, (n) => (n === 3 ? 55 : 0)), new Task(vt)];
    const atts = tasks.map((t) => ticker.attach(t));
    tasks[2]!.onFrame = (n) => {
      if (n === 13) for (const a of atts) ticker.detach(a);
    };
    vt.run(10_000);
    for (const t of tasks) expect(frames(t)).toEqual(range(14));
    const lateness = (t: Task) => t.runs.map((r) => r.startedAt - r.deadline);
    expect(lateness(tasks[0]!)).toEqual([0, 0, 0, 0, 45, 35, 25, 15, 5, 0, 0, 0, 0, 0]);
    // Device 2 ran after device 1's 55 ms frame in pass 3.
    expect(lateness(tasks[2]!)).toEqual([0, 0, 0, 55, 45, 35, 25, 15, 5, 0, 0, 0, 0, 0]);
    // Back-to-back: catch-up passes start the moment the previous one ends (this clock spends no time otherwise).
    expect(tasks[0]!.runs.slice(4, 9).map((r) => r.startedAt)).toEqual([85, 85, 85, 85, 85]);
    expect(atts.map((a) => a.lateFrames)).toEqual([4, 4, 5]);
    expect(ticker.lateFrames).toBe(13);
  });

  it("a device attached mid-period starts at the next grid deadline; one attached mid-pass waits for the next pass", () => {
    const vt = new VirtualTime();
    const ticker = new FrameTicker({ now: vt.now, scheduler: vt.scheduler });
    const first = new Task(vt);
    const late = new Task(vt);
    const inPass = new Task(vt);
    const a = ticker.attach(first);
    vt.scheduler.setTimeout(() => ticker.attach(late), 13);
    first.onFrame = (n) => {
      if (n === 4) ticker.attach(inPass);
      if (n === 9) ticker.detach(a);
    };
    vt.run(200);
    expect(first.runs.map((r) => r.deadline)).toEqual(range(10).map((n) => n * 10));
    expect(late.runs[0]).toEqual({ frame: 0, deadline: 20, startedAt: 20 });
    expect(inPass.runs[0]).toEqual({ frame: 0, deadline: 50, startedAt: 50 });
    expect(late.runs.every((r, n) => r.deadline === 20 + n * 10 && r.startedAt >= r.deadline)).toBe(true);
  });

  it("a device may stop itself or another inside a pass; the rest of the pass runs", () => {
    const vt = new VirtualTime();
    const ticker = new FrameTicker({ now: vt.now, scheduler: vt.scheduler });
    const tasks = Array.from({ length: 5 }, () => new Task(vt));
    const atts = tasks.map((t) => ticker.attach(t));
    tasks[1]!.onFrame = (n) => {
      if (n === 5) ticker.detach(atts[1]!); // itself
    };
    tasks[2]!.onFrame = (n) => {
      if (n === 7) ticker.detach(atts[3]!); // a device later in the same pass: it does not run frame 7
    };
    tasks[4]!.onFrame = (n) => {
      if (n === 11) for (const a of atts) ticker.detach(a);
    };
    vt.run(1000);
    expect(tasks.map((t) => t.runs.length)).toEqual([12, 6, 12, 7, 12]);
    expect(frames(tasks[4]!)).toEqual(range(12));
    expect(atts[1]!.frames).toBe(6);
    expect(atts[1]!.attached).toBe(false);
    expect(ticker.size).toBe(0);
    expect(vt.pending).toBe(0);
  });

  it("a failure handler that throws does not stop the other devices", () => {
    const vt = new VirtualTime();
    const ticker = new FrameTicker({ now: vt.now, scheduler: vt.scheduler });
    const ok = new Task(vt);
    const bad: FrameTask = {
      runFrame: () => {
        throw new Error("frame");
      },
      frameFailed: () => {
        throw new Error("handler");
      },
    };
    ticker.attach(bad);
    const a = ticker.attach(ok);
    ok.onFrame = (n) => {
      if (n === 4) ticker.detach(a);
    };
    vt.run(100);
    expect(frames(ok)).toEqual(range(5));
  });

  it("a frame that throws drops only that device and tells it why", () => {
    const vt = new VirtualTime();
    const ticker = new FrameTicker({ now: vt.now, scheduler: vt.scheduler });
    const ok = new Task(vt);
    const bad = new Task(vt);
    const atts = [ticker.attach(bad), ticker.attach(ok)];
    bad.onFrame = (n) => {
      if (n === 2) throw new Error("mix failed");
    };
    ok.onFrame = (n) => {
      if (n === 9) ticker.detach(atts[1]!);
    };
    vt.run(1000);
    expect((bad.failed as Error).message).toBe("mix failed");
    expect(atts[0]!.frames).toBe(2);
    expect(frames(ok)).toEqual(range(10));
    expect(ticker.drain().frames).toBe(12);
  });

  it("waits again when a timer fires early instead of running a frame early", () => {
    const vt = new VirtualTime();
    const early: Scheduler = {
      ...vt.scheduler,
      setTimeout: (fn: () => void, ms: number) => vt.scheduler.setTimeout(fn, ms - 0.5),
    };
    const ticker = new FrameTicker({ now: vt.now, scheduler: early });
    const t = new Task(vt);
    const a = ticker.attach(t);
    t.onFrame = (n) => {
      if (n === 4) ticker.detach(a);
    };
    vt.run(1000);
    expect(t.runs.map((r) => r.startedAt - r.deadline)).toEqual([0, 0.5, 0.5, 0.5, 0.5]);
  });

  it("keeps per-device histograms only for devices that ask", () => {
    const vt = new VirtualTime();
    const ticker = new FrameTicker({ now: vt.now, scheduler: vt.scheduler });
    const t1 = new Task(vt, () => 1);
    const t2 = new Task(vt, () => 1);
    const withH = ticker.attach(t1, { histograms: true });
    const without = ticker.attach(t2);
    t2.onFrame = (n) => {
      if (n === 9) {
        ticker.detach(withH);
        ticker.detach(without);
      }
    };
    vt.run(1000);
    expect(without.report()).toBeNull();
    expect(without.histograms()).toBeNull();
    expect([without.frames, without.lateFrames]).toEqual([10, 0]);
    const r = withH.report()!;
    expect(r.frames).toBe(10);
    expect(r.mix_cost_us.p50).toBeCloseTo(1000, -1);
    expect(decodeFromCompressedBase64(withH.histograms()!.lateness).totalCount).toBe(10);
  });

  it("is one per thread", () => {
    expect(threadTicker()).toBe(threadTicker());
  });

  it("allocates nothing per frame: 20 devices, 3000 passes", async () => {
    const slot = new SlotTime();
    const ticker = new FrameTicker({ now: slot.now, scheduler: slot.scheduler });
    let work = 0;
    const task: FrameTask = {
      runFrame: (frame) => {
        work += frame & 1;
      },
      frameFailed: () => {},
    };
    // Some with their own histograms, as a single client has.
    for (let i = 0; i < 20; i++) ticker.attach(task, { histograms: i % 5 === 0 });
    const passes = (n: number) => slot.run(n);
    passes(6000); // warm up: optimised code keeps numbers unboxed
    interface Node {
      callFrame: { functionName: string };
      selfSize: number;
      children: Node[];
    }
    // Optimised code arrives from a background compiler thread; on a loaded machine that can take a while, and
    // until then V8's lower tiers box doubles. So measure window after window (yielding between them) until one
    // is clean. Code that really allocates, even one 16-byte object per device-frame, does so in every window.
    const PASSES = 3000;
    const perFrame: number[] = [];
    const session = new Session();
    session.connect();
    try {
      for (let w = 0; w < 10; w++) {
        await new Promise((r) => setTimeout(r, 20));
        await session.post("HeapProfiler.startSampling", {
          samplingInterval: 16,
          includeObjectsCollectedByMajorGC: true,
          includeObjectsCollectedByMinorGC: true,
        });
        passes(PASSES);
        const { profile } = await session.post("HeapProfiler.stopSampling");
        let bytes = 0;
        const walk = (n: Node, inside: boolean): void => {
          const here = inside || n.callFrame.functionName === "passes";
          if (here) bytes += n.selfSize;
          for (const c of n.children) walk(c, here);
        };
        walk(profile.head as Node, false);
        perFrame.push(bytes / (PASSES * 20));
        if (perFrame.at(-1)! < 1) break;
      }
    } finally {
      session.disconnect();
    }
    expect(ticker.frames).toBe(20 * (6000 + PASSES * perFrame.length));
    expect(work).toBeGreaterThan(0);
    // One 16-byte object per device-frame would be 16 bytes per frame in every window.
    expect(Math.min(...perFrame), JSON.stringify(perFrame)).toBeLessThan(1);
  });
});

describe("FrameTicker on the real event loop", () => {
  it("catches every device up after a blocked event loop, never early, on one grid", async () => {
    const ticker = new FrameTicker();
    const starts: number[][] = [[], [], []];
    const deadlines: number[][] = [[], [], []];
    await new Promise<void>((resolve) => {
      const atts = [0, 1, 2].map((k) =>
        ticker.attach({
          runFrame: (n, deadline) => {
            starts[k]!.push(performance.now());
            deadlines[k]!.push(deadline);
            if (k === 0 && n === 4) {
              const until = performance.now() + 45;
              while (performance.now() < until) {
                // Block the event loop, as a GC pause or a slow neighbour would.
              }
            }
            if (n === 19) {
              ticker.detach(atts[k]!);
              if (ticker.size === 0) resolve();
            }
          },
          frameFailed: () => {},
        }),
      );
    });
    // Devices attached a moment after the first one are on the same grid, from its next deadline on.
    for (let k = 0; k < 3; k++) {
      expect(starts[k]!.length).toBe(20);
      deadlines[k]!.forEach((d, n) => {
        expect(d - deadlines[k]![0]!).toBeCloseTo(n * 10, 9);
        expect(starts[k]![n]!).toBeGreaterThanOrEqual(d);
      });
      const offset = (deadlines[k]![0]! - deadlines[0]![0]!) / 10;
      expect(offset).toBeCloseTo(Math.round(offset), 9);
    }
    // Device 0's frame 4 blocked the loop 45 ms: the next frame of every device ran ≥ 34 ms late.
    expect(starts[0]![5]! - deadlines[0]![5]!).toBeGreaterThanOrEqual(34);
    expect(ticker.size).toBe(0);
  });
});
