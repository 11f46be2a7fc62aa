import { durationMs, formatDuration } from "../duration.ts";
import { baseChecks, baseTimes, checkStages, stagesMs } from "./base.ts";
import { checkVuPool, vuPool } from "./constant-arrival-rate.ts";
import type { ExecutorType } from "./types.ts";

// ramping-arrival-rate (open model): the arrival rate moves linearly through `stages` from `startRate`
// (iterations per timeUnit). With N(t) the number of arrivals due by t (the integral of the rate), arrival k
// (k = 1, 2, ...) starts at the t where N(t) = k, for every k <= N(end): floor(N(end)) arrivals in all. This is
// k6's own rule (`cal` in lib/executor/ramping_arrival_rate.go, checked against its TestRampingArrivalRateCal
// table in executors.test.ts): a ramp from 0 starts its first iteration once a whole one is due (after
// sqrt(2 / slope)), not at t = 0, and the last one can fall exactly on the end, where it still starts. Unlike
// constant-arrival-rate (first arrival at 0), a constant stage therefore starts one gap late, as in k6. Within
// a stage N is quadratic, so each time is solved in closed form.

export const rampingArrivalRate: ExecutorType = {
  name: "ramping-arrival-rate",
  model: "open",
  fields: ["startRate", "timeUnit", "stages", "preAllocatedVUs", "maxVUs"],
  validate(c, path) {
    const ch = baseChecks(c, path, this.fields);
    ch.int(c, "startRate", 0);
    ch.duration(c, "timeUnit", { positive: true });
    const stages = checkStages(ch, c);
    checkVuPool(ch, c);
    if (stages && ch.errors.length === 0) {
      const unitMs = durationMs((c.timeUnit as string | undefined) ?? "1s");
      if (arrivalSchedule((c.startRate as number | undefined) ?? 0, unitMs, stages).count === 0) {
        ch.fail("stages", "no iteration would ever start: the rate is 0 throughout");
      }
    }
    return ch.errors;
  },
  plan(name, c) {
    const unitMs = durationMs((c.timeUnit as string | undefined) ?? "1s");
    const stages = stagesMs(c);
    const startRate = (c.startRate as number | undefined) ?? 0;
    const arrivals = arrivalSchedule(startRate, unitMs, stages);
    const total = stages.reduce((a, s) => a + s.durationMs, 0);
    const pool = vuPool(c);
    const peak = Math.max(startRate, ...stages.map((s) => s.target));
    return {
      name,
      executor: "ramping-arrival-rate",
      model: "open",
      ...baseTimes(c),
      durationMs: total,
      gracefulRampDownMs: 0,
      ...pool,
      vuSteps: [{ atMs: 0, vus: pool.preAllocatedVUs }],
      iterations: null,
      arrivals,
      description: `up to ${peak} iterations per ${formatDuration(unitMs)} over ${stages.length} stages for ${formatDuration(total)} (${arrivals.count} arrivals, ${pool.preAllocatedVUs}-${pool.maxVUs} VUs)`,
    };
  },
};

interface Segment {
  t0: number;
  d: number;
  /** Arrivals per ms at the segment's start and end. */
  a: number;
  b: number;
  /** Arrivals due before the segment. */
  n0: number;
}

export function arrivalSchedule(
  startRate: number,
  unitMs: number,
  stages: { durationMs: number; target: number }[],
): { count: number; at: (i: number) => number } {
  const segs: Segment[] = [];
  let t = 0;
  let n = 0;
  let from = startRate / unitMs;
  for (const s of stages) {
    const to = s.target / unitMs;
    if (s.durationMs > 0) {
      segs.push({ t0: t, d: s.durationMs, a: from, b: to, n0: n });
      n += ((from + to) / 2) * s.durationMs;
      t += s.durationMs;
    }
    from = to;
  }
  const count = Math.max(0, Math.floor(n + 1e-9));
  const at = (i: number): number => {
    // Arrival i (0-based) is k6's k = i + 1: due once N(t) reaches it.
    const due = i + 1;
    let lo = 0;
    let hi = segs.length - 1;
    // The last segment whose start is at or before that arrival.
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (segs[mid]!.n0 <= due + 1e-9) lo = mid;
      else hi = mid - 1;
    }
    const s = segs[lo]!;
    const need = due - s.n0;
    if (need <= 0) return s.t0;
    const k = (s.b - s.a) / (2 * s.d);
    const dt =
      Math.abs(k) < 1e-15 ? need / s.a : (-s.a + Math.sqrt(Math.max(0, s.a * s.a + 4 * k * need))) / (2 * k);
    return s.t0 + Math.min(Math.max(dt, 0), s.d);
  };
  return { count, at };
}
