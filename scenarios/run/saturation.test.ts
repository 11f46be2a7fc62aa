import { describe, expect, it } from "vitest";
import type { TimeseriesPoint } from "../../reports/format.ts";
import type { ThreadSample } from "./generator.ts";
import { describeReason, GeneratorWatch, RULES } from "./saturation.ts";
import { kneeVerdict } from "./summary.ts";

// The saturation rules on made-up samples (a virtual clock: t0 = 0, one sample per second unless said).

const T0 = 1_000_000;

function sample(atS: number, over: Partial<ThreadSample> = {}, spanS = 1): ThreadSample {
  return {
    t: T0 + atS * 1000,
    spanMs: spanS * 1000,
    elu: 0.2,
    delayP99Ms: 1,
    delayMaxMs: 2,
    lagP50Ms: 0.5,
    lagP99Ms: 2,
    lagMaxMs: 3,
    cpuMs: 500,
    ...over,
  };
}

describe("generator saturation rules", () => {
  it("a busy worker trips once its utilisation has held for 3 s of wall time, not before", () => {
    const w = new GeneratorWatch(T0, 2);
    expect(w.addThread("worker 1", sample(1))).toEqual([]);
    expect(w.addThread("worker 1", sample(2, { elu: 0.95 }))).toEqual([]);
    expect(w.addThread("worker 1", sample(3, { elu: 0.97 }))).toEqual([]);
    expect(w.saturated).toBe(false);
    const tripped = w.addThread("worker 1", sample(4, { elu: 0.93 }));
    expect(tripped).toEqual([
      { thread: "worker 1", figure: "elu", observed: 0.97, limit: 0.9, sustained_s: 3, from_s: 1, to_s: 4 },
    ]);
    // The streak goes on: the same reason follows it, no second warning.
    expect(w.addThread("worker 1", sample(5, { elu: 0.99 }))).toEqual([]);
    w.addThread("worker 1", sample(6));
    const r = w.report();
    expect(r.reasons).toEqual([{ ...tripped[0]!, observed: 0.99, to_s: 5 }]);
    expect(r.saturated_from_s).toBe(1);
    expect(r.workers).toMatchObject([{ worker: 1, samples: 6, elu_max: 0.99 }]);
    expect(describeReason(r.reasons[0]!)).toBe(
      "worker 1: event-loop utilisation 0.99 >= 0.9 for 4 s (from 1 s to 5 s)",
    );
  });

  it("a broken streak starts over; one long sample counts for the time it covers", () => {
    const w = new GeneratorWatch(T0, 2);
    w.addThread("worker 0", sample(1, { elu: 0.95 }));
    w.addThread("worker 0", sample(2, { elu: 0.95 }));
    w.addThread("worker 0", sample(3, { elu: 0.5 }));
    w.addThread("worker 0", sample(4, { elu: 0.95 }));
    w.addThread("worker 0", sample(5, { elu: 0.95 }));
    expect(w.saturated).toBe(false);
    // A thread blocked 3.5 s reports one sample covering it.
    const out = w.addThread("worker 2", sample(9, { elu: 1 }, 3.5));
    expect(out.map((r) => [r.thread, r.figure, r.from_s, r.to_s])).toEqual([["worker 2", "elu", 5.5, 9]]);
  });

  it("a one-second stall trips at once, on any thread; the main thread answers to nothing else", () => {
    const w = new GeneratorWatch(T0, 2);
    for (let s = 1; s <= 5; s++) {
      expect(
        w.addThread("main", sample(s, { elu: 1, delayP99Ms: 200, lagP50Ms: 150, lagP99Ms: 300 })),
      ).toEqual([]);
    }
    const out = w.addThread("main", sample(6, { lagMaxMs: 1200 }));
    expect(out).toMatchObject([
      { thread: "main", figure: "clock_lag_max_ms", observed: 1200, sustained_s: 0 },
    ]);
    expect(w.report().main.elu_max).toBe(1);
  });

  it("worker clock lag trips on its median a frame late or its p99 five frames late, held 3 s", () => {
    const median = new GeneratorWatch(T0, 2);
    const p99 = new GeneratorWatch(T0, 2);
    const fine = new GeneratorWatch(T0, 2);
    for (let s = 1; s <= 3; s++) {
      median.addThread("worker 0", sample(s, { lagP50Ms: RULES.lagP50LimitMs, lagP99Ms: 12 }));
      p99.addThread("worker 0", sample(s, { lagP99Ms: 50 }));
      fine.addThread("worker 0", sample(s, { lagP50Ms: 9, lagP99Ms: 49, delayP99Ms: 49 }));
    }
    expect(median.report().reasons.map((r) => r.figure)).toEqual(["clock_lag_p50_ms"]);
    expect(p99.report().reasons.map((r) => r.figure)).toEqual(["clock_lag_p99_ms"]);
    expect(fine.saturated).toBe(false);
  });

  it("a worker's boot (no VU started yet) is reported but not judged; the same lag once VUs run trips", () => {
    const stalled = {
      elu: 1,
      delayP99Ms: 900,
      delayMaxMs: 1500,
      lagP50Ms: 400,
      lagP99Ms: 1400,
      lagMaxMs: 1500,
    };
    const boot = new GeneratorWatch(T0, 2);
    for (let s = 1; s <= 4; s++)
      expect(boot.addThread("worker 0", sample(s, { ...stalled, boot: true }))).toEqual([]);
    expect(boot.saturated).toBe(false);
    expect(boot.report().workers).toMatchObject([
      { worker: 0, samples: 4, elu_max: 1, clock_lag_max_ms: 1500 },
    ]);
    // From the first VU on, the very same figures are the generator's.
    const running = new GeneratorWatch(T0, 2);
    for (let s = 1; s <= 4; s++) running.addThread("worker 0", sample(s, { ...stalled, boot: false }));
    expect(running.report().reasons.map((r) => r.figure)).toEqual([
      "loop_delay_max_ms",
      "clock_lag_max_ms",
      "elu",
      "loop_delay_p99_ms",
      "clock_lag_p50_ms",
      "clock_lag_p99_ms",
    ]);
  });

  it("sums each thread's CPU over its samples", () => {
    const w = new GeneratorWatch(T0, 2);
    w.addThread("worker 0", sample(1, { cpuMs: 700 }));
    w.addThread("worker 0", sample(2, { cpuMs: 650 }));
    w.addThread("main", sample(2, { cpuMs: null }));
    expect(w.report().workers[0]!.cpu_s).toBe(1.35);
    expect(w.report().main.cpu_s).toBeNull();
  });

  it("the process's CPU trips at 95% of the cores held 3 s; its mean is weighted by time", () => {
    const w = new GeneratorWatch(T0, 2);
    w.addProcess(T0 + 1000, 1000, 0.5);
    w.addProcess(T0 + 4000, 3000, 0.97);
    expect(w.report().reasons).toMatchObject([
      { thread: "process", figure: "process_cpu", from_s: 1, to_s: 4 },
    ]);
    expect(w.report().process_cpu).toEqual({ mean: 0.853, max: 0.97 });
  });
});

describe("the capacity knee and the generator", () => {
  const points = [1, 2, 3, 4, 5, 6].map((s) => ({ elapsed_s: s, vus: s * 10 }) as unknown as TimeseriesPoint);
  const knee = { vus: 40, rooms: 10, metric: "mix_lateness_ms", expression: "p(99)<10", at_s: 4 };

  it("stands when the generator never saturated", () => {
    expect(kneeVerdict(knee, null, points, 4)).toEqual({ knee, knee_limited_by: null });
  });

  it("stands when the threshold broke before the generator saturated", () => {
    expect(kneeVerdict(knee, 4.5, points, 4)).toEqual({ knee, knee_limited_by: null });
  });

  it("is withheld when the generator was saturated first, with the harness's own limit", () => {
    expect(kneeVerdict(knee, 2.5, points, 4)).toEqual({
      knee: null,
      knee_limited_by: "generator",
      withheld_knee: knee,
      generator_limit: { vus: 30, rooms: 8, at_s: 2.5 },
    });
  });

  it("says the generator limited the run even when no threshold broke", () => {
    expect(kneeVerdict(null, 5, points, 4)).toMatchObject({ knee: null, knee_limited_by: "generator" });
  });
});
