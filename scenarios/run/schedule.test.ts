import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ScenarioDefinition } from "../format.ts";
import { quantiles } from "../metrics/hdr.ts";
import { MetricSet } from "../metrics/set.ts";
import { planOf, resolveScenario } from "../resolve.ts";
import type { IterationSpec, Vu, VuFactory } from "../vu/types.ts";
import { epochNow } from "./clock.ts";
import type { WorkerInit } from "./messages.ts";
import { seatOfUser } from "./population.ts";
import { WorkerSchedule, workerOfArrival, workerOfVu } from "./schedule.ts";

// The executors at run time, in-process with stand-in VUs that take a known time: what each executor starts,
// how its work is split over workers, the open model's waiting and dropping, and graceful stops.

interface Harness {
  metrics: MetricSet[];
  specs: IterationSpec[];
  /** Active VUs sampled every 20 ms: [ms since t0, count]. */
  samples: [number, number][];
  elapsedMs: number;
}

function fakeVus(specs: IterationSpec[], iterationMs: number | ((spec: IterationSpec) => number)): VuFactory {
  return (): Vu => ({
    async iteration(spec, signal) {
      specs.push(spec);
      const ms = typeof iterationMs === "number" ? iterationMs : iterationMs(spec);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, ms);
        signal.addEventListener("abort", () => {
          clearTimeout(t);
          resolve();
        });
      });
      return { ok: true, code: 0, ttfaMs: 1, aborted: signal.aborted };
    },
    close: async () => {},
  });
}

async function run(
  options: ScenarioDefinition["options"],
  o: {
    workers?: number;
    cacheRoot?: string;
    iterationMs?: number | ((s: IterationSpec) => number);
    ktv?: ScenarioDefinition["ktv"];
    stopAfterMs?: number;
  } = {},
): Promise<Harness> {
  const scenario = resolveScenario({
    name: "t",
    description: "",
    options,
    ktv: { population: { usersPerRoom: 2 }, ...o.ktv },
  });
  const workers = o.workers ?? 1;
  const sharedCounters: Record<string, SharedArrayBuffer> = {};
  for (const p of planOf(scenario).scenarios)
    if (p.iterations && "total" in p.iterations) sharedCounters[p.name] = new SharedArrayBuffer(4);
  const specs: IterationSpec[] = [];
  const stop = new AbortController();
  const metrics: MetricSet[] = [];
  const schedules = Array.from({ length: workers }, (_, index) => {
    const init: WorkerInit = {
      index,
      workers,
      scenario,
      target: "http://127.0.0.1:9",
      mediaSocket: null,
      appID: 1,
      appSign: "0".repeat(64),
      seed: 1,
      prefix: "t",
      pool: [{ song_id: "1", song_name: "One" }],
      sharedCounters,
      cacheRoot: o.cacheRoot ?? "/nonexistent",
      clientModule: null,
    };
    const m = new MetricSet();
    metrics.push(m);
    return new WorkerSchedule(
      init,
      m,
      fakeVus(specs, o.iterationMs ?? 20),
      stop.signal,
      async () => {
        throw new Error("no client in these tests");
      },
      {
        log: (t) => {
          throw new Error(t);
        },
        note: () => {},
      },
    );
  });
  const t0 = epochNow() + 20;
  const samples: [number, number][] = [];
  const sampler = setInterval(
    () => samples.push([epochNow() - t0, schedules.reduce((a, s) => a + s.activeVus, 0)]),
    20,
  );
  if (o.stopAfterMs !== undefined) setTimeout(() => stop.abort(), o.stopAfterMs + 20);
  await Promise.all(schedules.map((s) => s.run(t0)));
  clearInterval(sampler);
  return { metrics, specs, samples, elapsedMs: epochNow() - t0 };
}

const total = (h: Harness) => {
  const all = new MetricSet();
  for (const m of h.metrics) all.mergeSet(m);
  return all;
};

describe("which worker runs a closed-model VU", () => {
  it("whole rooms per worker, so singers spread evenly (j mod W put every singer of 4-seat rooms on worker 0)", () => {
    const pop = { rooms: 250, usersPerRoom: 4, singersPerRoom: 1 };
    const singers = [0, 0];
    for (let v = 0; v < 1000; v++) {
      const w = workerOfVu(v, pop, 2);
      expect(w).toBe(workerOfVu(v - (v % 4), pop, 2));
      if (seatOfUser(v, pop).role === "singer") singers[w]!++;
    }
    expect(singers).toEqual([125, 125]);
  });

  it("open-model arrivals follow their seat's room too, so singer arrivals spread evenly", () => {
    const pop = { rooms: 10, usersPerRoom: 4, singersPerRoom: 1 };
    const singers = [0, 0];
    for (let i = 0; i < 400; i++) {
      const w = workerOfArrival(i, pop, 2);
      if (seatOfUser(i % 40, pop).role === "singer") singers[w]!++;
    }
    expect(singers).toEqual([50, 50]);
    expect(workerOfArrival(3, { rooms: 1, usersPerRoom: 4, singersPerRoom: 1 }, 2)).toBe(1);
  });

  it("falls back to vu mod W when there are fewer rooms than workers", () => {
    const pop = { rooms: 1, usersPerRoom: 8, singersPerRoom: 1 };
    expect([0, 1, 2, 3].map((v) => workerOfVu(v, pop, 2))).toEqual([0, 1, 0, 1]);
  });
});

describe("closed-model executors at run time", () => {
  it("per-vu-iterations: each VU its own count, VUs split over workers", async () => {
    const h = await run(
      { scenarios: { s: { executor: "per-vu-iterations", vus: 3, iterations: 2 } } },
      { workers: 2 },
    );
    expect(total(h).counter("iterations")).toBe(6);
    expect(h.metrics.map((m) => m.counter("iterations"))).toEqual([4, 2]);
    const perVu = new Map<number, number[]>();
    for (const s of h.specs) perVu.set(s.vu, [...(perVu.get(s.vu) ?? []), s.iteration]);
    expect([...perVu.entries()].sort()).toEqual([
      [0, [0, 1]],
      [1, [0, 1]],
      [2, [0, 1]],
    ]);
  });

  it("shared-iterations: exactly the total, however the workers race for it", async () => {
    const h = await run(
      { scenarios: { s: { executor: "shared-iterations", vus: 4, iterations: 17 } } },
      {
        workers: 3,
        iterationMs: (s) => 5 + (s.vu % 3) * 10,
      },
    );
    expect(total(h).counter("iterations")).toBe(17);
    // Each iteration carries its own number from the shared counter.
    expect(h.specs.map((s) => s.iteration).sort((a, b) => a - b)).toEqual([...Array(17).keys()]);
  });

  it("constant-vus: VUs loop until the duration, then stop", async () => {
    const h = await run(
      { scenarios: { s: { executor: "constant-vus", vus: 2, duration: "300ms" } } },
      { iterationMs: 50 },
    );
    const n = total(h).counter("iterations");
    expect(n).toBeGreaterThanOrEqual(10);
    expect(n).toBeLessThanOrEqual(14);
    expect(h.elapsedMs).toBeLessThan(600);
  });

  it("ramping-vus: the active VUs follow the plan's steps", async () => {
    const h = await run(
      {
        scenarios: {
          s: {
            executor: "ramping-vus",
            startVUs: 1,
            stages: [
              { duration: "0s", target: 1 },
              { duration: "400ms", target: 1 },
              { duration: "0s", target: 4 },
              { duration: "400ms", target: 4 },
            ],
            gracefulRampDown: "0s",
          },
        },
      },
      { iterationMs: 10 },
    );
    const at = (lo: number, hi: number) => h.samples.filter(([t]) => t > lo && t < hi).map(([, v]) => v);
    expect(new Set(at(100, 300))).toEqual(new Set([1]));
    expect(new Set(at(500, 700))).toEqual(new Set([4]));
  });

  it("an iteration still running at the end gets gracefulStop, then is interrupted", async () => {
    const h = await run(
      { scenarios: { s: { executor: "constant-vus", vus: 1, duration: "100ms", gracefulStop: "100ms" } } },
      { iterationMs: 10_000 },
    );
    expect(total(h).counter("interrupted_iterations")).toBe(1);
    expect(total(h).counter("iterations")).toBe(0);
    expect(h.elapsedMs).toBeGreaterThan(180);
    expect(h.elapsedMs).toBeLessThan(800);
  });

  it("a stop ends everything at once", async () => {
    const h = await run(
      { scenarios: { s: { executor: "constant-vus", vus: 3, duration: "1m" } } },
      { iterationMs: 10_000, stopAfterMs: 100 },
    );
    expect(total(h).counter("interrupted_iterations")).toBe(3);
    expect(h.elapsedMs).toBeLessThan(1000);
  });

  it("users: one per VU, seats filling rooms, listeners pointed at their room's first singer", async () => {
    const h = await run({ scenarios: { s: { executor: "per-vu-iterations", vus: 4, iterations: 1 } } });
    const byVu = [...h.specs].sort((a, b) => a.vu - b.vu);
    expect(
      byVu.map((s) => [s.userID, s.roomID, s.seat.role, s.listenTo, s.preferShared, s.masterID]),
    ).toEqual([
      ["t-v0", "t-room0", "singer", null, false, "t-v0"],
      ["t-v1", "t-room0", "listener", "t-v0_main", true, "t-v0"],
      ["t-v2", "t-room1", "singer", null, false, "t-v2"],
      ["t-v3", "t-room1", "listener", "t-v2_main", true, "t-v2"],
    ]);
  });
});

describe("cache behaviour", () => {
  it('"vu": each VU keeps one cache directory across its iterations; "cold": none (a fresh one each time)', async () => {
    const root = mkdtempSync(join(tmpdir(), "ktv-cache-test-"));
    try {
      const load = { scenarios: { s: { executor: "per-vu-iterations" as const, vus: 2, iterations: 2 } } };
      const warm = await run(load, { cacheRoot: root, ktv: { cache: "vu" } });
      const dirs = new Map(warm.specs.map((s) => [`${s.vu}/${s.iteration}`, s.cacheDir]));
      expect(dirs.get("0/0")).toBe(join(root, "vu0"));
      expect(dirs.get("0/1")).toBe(join(root, "vu0"));
      expect(dirs.get("1/1")).toBe(join(root, "vu1"));
      expect(existsSync(join(root, "vu1"))).toBe(true);
      const cold = await run(load, { cacheRoot: root, ktv: { cache: "cold" } });
      expect(cold.specs.every((s) => s.cacheDir === undefined)).toBe(true);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("open-model executors at run time", () => {
  it("constant-arrival-rate starts on schedule whatever the iterations take (up to maxVUs)", async () => {
    const h = await run(
      {
        scenarios: {
          s: {
            executor: "constant-arrival-rate",
            rate: 20,
            duration: "500ms",
            preAllocatedVUs: 2,
            maxVUs: 10,
          },
        },
      },
      { workers: 2, iterationMs: 60 },
    );
    const t = total(h);
    expect(t.counter("iterations")).toBe(10);
    expect(t.counter("dropped_iterations")).toBe(0);
    expect(h.specs.map((s) => s.iteration).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // On time: corrected = raw + a timer's lateness.
    const raw = quantiles(t.trends.get("iteration_duration_ms"));
    const corrected = quantiles(t.trends.get("iteration_duration_ms{corrected:true}"));
    expect(corrected.p50 - raw.p50).toBeLessThan(40);
  });

  it("too few VUs: arrivals wait (latency from the intended start) and those that wait too long are dropped", async () => {
    const h = await run(
      {
        scenarios: {
          s: {
            executor: "constant-arrival-rate",
            rate: 20,
            duration: "500ms",
            preAllocatedVUs: 1,
            maxVUs: 1,
            gracefulStop: "2s",
          },
        },
      },
      { iterationMs: 100, ktv: { maxStartDelay: "250ms" } },
    );
    const t = total(h);
    // One VU, 100 ms each: 10 arrivals in 500 ms, ~5 can start; the waiting ones build up delay.
    expect(t.counter("iterations") + t.counter("dropped_iterations")).toBe(10);
    expect(t.counter("dropped_iterations")).toBeGreaterThan(0);
    const raw = quantiles(t.trends.get("iteration_duration_ms"));
    const corrected = quantiles(t.trends.get("iteration_duration_ms{corrected:true}"));
    expect(raw.max).toBeLessThan(200);
    expect(corrected.max).toBeGreaterThan(raw.max + 100);
    expect(quantiles(t.trends.get("ttfa_ms{corrected:true}")).max).toBeGreaterThan(100);
  });

  it("maxStartDelay 0 is k6's behaviour: no free VU, dropped at once", async () => {
    const h = await run(
      {
        scenarios: {
          s: {
            executor: "constant-arrival-rate",
            rate: 20,
            duration: "500ms",
            preAllocatedVUs: 1,
            maxVUs: 1,
          },
        },
      },
      { iterationMs: 120, ktv: { maxStartDelay: "0s" } },
    );
    const t = total(h);
    expect(t.counter("iterations")).toBeGreaterThanOrEqual(4);
    expect(t.counter("iterations")).toBeLessThanOrEqual(5);
    expect(t.counter("dropped_iterations")).toBe(10 - t.counter("iterations"));
  });

  it("each arrival is a new user on the next seat; listeners follow the cycle's singer", async () => {
    const h = await run(
      {
        scenarios: {
          s: { executor: "constant-arrival-rate", rate: 40, duration: "100ms", preAllocatedVUs: 4 },
        },
      },
      { ktv: { population: { rooms: 1, usersPerRoom: 2 } } },
    );
    const byIt = [...h.specs].sort((a, b) => a.iteration - b.iteration);
    expect(byIt.map((s) => [s.userID, s.seat.role, s.listenTo, s.masterID])).toEqual([
      ["t-s-a0", "singer", null, "t-s-a0"],
      ["t-s-a1", "listener", "t-s-a0_main", "t-s-a0"],
      ["t-s-a2", "singer", null, "t-s-a2"],
      ["t-s-a3", "listener", "t-s-a2_main", "t-s-a2"],
    ]);
  });
});
