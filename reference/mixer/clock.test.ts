import { decodeFromCompressedBase64, type JsHistogram } from "hdr-histogram-js";
import { describe, expect, it } from "vitest";
import { FrameClock } from "./clock.ts";
import { VirtualTime } from "./virtual-time.ts";

interface Tick {
  frame: number;
  deadline: number;
  startedAt: number;
}

/** A clock on simulated time whose frames each cost `cost(n)` ms of (simulated) CPU. */
function simulated(opts: { cost: (n: number) => number; maxFrames?: number; abortAtMs?: number }) {
  const vt = new VirtualTime();
  const ticks: Tick[] = [];
  const ac = new AbortController();
  if (opts.abortAtMs !== undefined) vt.scheduler.setTimeout(() => ac.abort(), opts.abortAtMs);
  const clock = new FrameClock({
    now: vt.now,
    scheduler: vt.scheduler,
    signal: ac.signal,
    maxFrames: opts.maxFrames,
    onFrame: (frame, deadline) => {
      ticks.push({ frame, deadline, startedAt: vt.now() });
      vt.spend(opts.cost(frame));
    },
  });
  const done = clock.run();
  vt.run(100_000);
  return { vt, ticks, clock, done };
}

describe("FrameClock on simulated time", () => {
  it("runs frame n at start + n·10 ms exactly when ticks are cheap", async () => {
    const { ticks, done } = simulated({ cost: () => 1, maxFrames: 50 });
    const report = await done;
    expect(report.frames).toBe(50);
    expect(ticks.map((t) => t.frame)).toEqual([...Array(50).keys()]);
    expect(ticks.map((t) => t.deadline)).toEqual(ticks.map((t) => t.frame * 10));
    expect(ticks.every((t) => t.startedAt === t.deadline)).toBe(true);
    expect(report.lateness_ms.max).toBe(0);
    expect(report.late_frames).toBe(0);
    expect(report.mix_cost_us.p50).toBeCloseTo(1000, -1);
  });

  it("after a stall runs the missed frames back-to-back, skipping none, then is on time again", async () => {
    // Frame 3 takes 55 ms: it ends at 85 ms, when frames 4..8 are already due.
    const { ticks, done, clock } = simulated({ cost: (n) => (n === 3 ? 55 : 1), maxFrames: 14 });
    const report = await done;
    expect(ticks.map((t) => t.frame)).toEqual([...Array(14).keys()]);
    expect(ticks.map((t) => t.startedAt - t.deadline)).toEqual([
      0, 0, 0, 0, 45, 36, 27, 18, 9, 0, 0, 0, 0, 0,
    ]);
    // Back-to-back: each catch-up frame starts the moment the previous one ends.
    expect(ticks.slice(4, 10).map((t) => t.startedAt)).toEqual([85, 86, 87, 88, 89, 90]);
    expect(report.late_frames).toBe(4);
    expect(report.lateness_ms.max).toBe(45);
    expect(clock.lateness.totalCount).toBe(14);
    expect(clock.cost.maxValue).toBeGreaterThanOrEqual(55_000);
  });

  it("hands out its histograms encoded, one µs value per frame, the same ones the report summarises", async () => {
    const { done, clock } = simulated({ cost: (n) => (n === 3 ? 55 : 1), maxFrames: 14 });
    const report = await done;
    const h = clock.histograms();
    expect(h.unit).toBe("us");
    const lateness = decodeFromCompressedBase64(h.lateness) as JsHistogram;
    const cost = decodeFromCompressedBase64(h.cost);
    expect([lateness.totalCount, cost.totalCount]).toEqual([14, 14]);
    // Lateness of frames 4..8 as in the stall test above (45, 36, 27, 18, 9 ms), the other 9 on time; each in
    // its HDR bucket (3 significant digits).
    const bucket = (us: number) => lateness.lowestEquivalentValue(us);
    const recorded: [number, number][] = [];
    const it = lateness.recordedValuesIterator;
    it.reset();
    while (it.hasNext()) {
      const v = it.next();
      recorded.push([bucket(v.valueIteratedTo), v.countAtValueIteratedTo]);
    }
    expect(recorded).toEqual([
      [0, 9],
      [bucket(9000), 1],
      [bucket(18_000), 1],
      [bucket(27_000), 1],
      [bucket(36_000), 1],
      [bucket(45_000), 1],
    ]);
    expect(bucket(lateness.maxValue)).toBe(bucket(report.lateness_ms.max * 1000));
    expect(cost.getValueAtPercentile(50)).toBe(report.mix_cost_us.p50);
  });

  it("has run exactly ⌊elapsed / 10 ms⌋ + 1 frames when stopped, stalls included", async () => {
    const stalls = new Map([
      [3, 55],
      [20, 120],
      [31, 9.5],
    ]);
    const { ticks, done, vt } = simulated({ cost: (n) => stalls.get(n) ?? 0.25, abortAtMs: 405 });
    const report = await done;
    expect(report.frames).toBe(Math.floor(405 / 10) + 1);
    expect(report.elapsed_ms).toBe(405);
    expect(ticks.map((t) => t.frame)).toEqual([...Array(41).keys()]);
    expect(vt.pending).toBe(0);
  });

  it("stops at once on an aborted signal, after maxFrames, and when a tick throws", async () => {
    const ac = new AbortController();
    ac.abort();
    const vt = new VirtualTime();
    let ran = 0;
    const aborted = new FrameClock({
      signal: ac.signal,
      now: vt.now,
      scheduler: vt.scheduler,
      onFrame: () => ran++,
    });
    expect((await aborted.run()).frames).toBe(0);
    expect(ran).toBe(0);
    await expect(aborted.run()).rejects.toThrow(/once/);

    const zero = new FrameClock({ maxFrames: 0, now: vt.now, scheduler: vt.scheduler, onFrame: () => ran++ });
    expect((await zero.run()).frames).toBe(0);

    const failing = new FrameClock({
      now: vt.now,
      scheduler: vt.scheduler,
      onFrame: (n) => {
        if (n === 2) throw new Error("mix failed");
      },
    });
    const result = failing.run();
    vt.run(1000);
    await expect(result).rejects.toThrow("mix failed");
    expect(failing.frames).toBe(2);
    expect(vt.pending).toBe(0);
  });

  it("waits again when a timer fires before the deadline instead of running early", async () => {
    const vt = new VirtualTime();
    const early = {
      ...vt.scheduler,
      setTimeout: (fn: () => void, ms: number) => vt.scheduler.setTimeout(fn, ms - 0.5),
    };
    const starts: number[] = [];
    const clock = new FrameClock({
      now: vt.now,
      scheduler: early,
      maxFrames: 5,
      onFrame: (_, deadline) => starts.push(vt.now() - deadline),
    });
    const done = clock.run();
    vt.run(1000);
    await done;
    // Each timer fires 0.5 ms early; the clock re-arms for the rest (Node's 1 ms minimum), so frames run
    // 0.5 ms late rather than 0.5 ms early. Frame 0 starts from an immediate.
    expect(starts).toEqual([0, 0.5, 0.5, 0.5, 0.5]);
  });
});

describe("FrameClock on the real event loop", () => {
  it("catches up after a blocked event loop and records every frame", async () => {
    const starts: number[] = [];
    const deadlines: number[] = [];
    const clock = new FrameClock({
      maxFrames: 20,
      onFrame: (n, deadline) => {
        starts.push(performance.now());
        deadlines.push(deadline);
        if (n === 4) {
          const until = performance.now() + 45;
          while (performance.now() < until) {
            // Block the event loop, as a GC pause or a slow neighbour would.
          }
        }
      },
    });
    const report = await clock.run();
    expect(report.frames).toBe(20);
    expect(clock.lateness.totalCount).toBe(20);
    expect(clock.cost.totalCount).toBe(20);
    // Deadlines are exact multiples of 10 ms from the start: no drift, whatever the timers did.
    deadlines.forEach((d, n) => {
      expect(d - deadlines[0]!).toBeCloseTo(n * 10, 9);
    });
    // Frame 5 was due at +50 ms but the loop was blocked until ≥ +85 ms (frame 4 started at ≥ +40).
    expect(starts[5]! - deadlines[5]!).toBeGreaterThanOrEqual(34);
    expect(report.late_frames).toBeGreaterThanOrEqual(3);
    // Never early: every frame started at or after its deadline.
    starts.forEach((s, n) => {
      expect(s).toBeGreaterThanOrEqual(deadlines[n]!);
    });
  });
});
