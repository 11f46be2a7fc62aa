import { describe, expect, it } from "vitest";
import { arrivalSchedule } from "../load/executors/ramping-arrival-rate.ts";
import type { ExecutorPlan } from "../load/executors/types.ts";
import { planLoad, vusAt } from "../load/plan.ts";
import { segmentNotice } from "./plan.ts";
import { parseSequence, segmentString } from "./segment.ts";
import { ExecutionTuple, executionTuple } from "./tuple.ts";

// Every executor cut by a segment (segments/plan.ts), against k6's own executor test tables where it has them,
// and against the unsegmented plan for the property that matters to a distributed run: the instances of a
// sequence together do exactly the whole test's work.

const planOne = (c: Record<string, unknown>, t: ExecutionTuple = ExecutionTuple.FULL): ExecutorPlan =>
  planLoad({ scenarios: { s: c } } as never, t).scenarios[0]!;
const allOf = (sequence: string) =>
  parseSequence(sequence)!.map((s) => executionTuple(segmentString(s), sequence));
const arrivalsOf = (p: ExecutorPlan) =>
  Array.from({ length: p.arrivals!.count }, (_, k) => ({ at: p.arrivals!.at(k), g: p.globalIteration!(k) }));

const SEQUENCES = ["0,1/2,1", "0,1/3,2/3,1", "0,1/4,3/4,1", "0,0.3,0.5,0.6,0.7,0.8,0.9,1", "0,7/20,7/10,1"];

const CONFIGS: Record<string, Record<string, unknown>> = {
  "constant-vus": { executor: "constant-vus", vus: 7, duration: "10s" },
  "per-vu-iterations": { executor: "per-vu-iterations", vus: 5, iterations: 3 },
  "shared-iterations": { executor: "shared-iterations", vus: 5, iterations: 53 },
  "ramping-vus": {
    executor: "ramping-vus",
    startVUs: 3,
    stages: [
      { duration: "10s", target: 11 },
      { duration: "5s", target: 11 },
      { duration: "7s", target: 2 },
      { duration: "0s", target: 9 },
      { duration: "4s", target: 0 },
    ],
  },
  "constant-arrival-rate": {
    executor: "constant-arrival-rate",
    rate: 37,
    timeUnit: "1s",
    duration: "3s",
    preAllocatedVUs: 4,
    maxVUs: 9,
  },
  "ramping-arrival-rate": {
    executor: "ramping-arrival-rate",
    startRate: 2,
    timeUnit: "1s",
    preAllocatedVUs: 3,
    maxVUs: 7,
    stages: [
      { duration: "5s", target: 20 },
      { duration: "3s", target: 20 },
      { duration: "4s", target: 1 },
    ],
  },
};

describe("the instances of a sequence together are the whole test", () => {
  for (const [name, config] of Object.entries(CONFIGS)) {
    it.each(SEQUENCES)(`${name}, sequence %s`, (sequence) => {
      const whole = planOne(config);
      const parts = allOf(sequence).map((t) => planOne(config, t));
      const sum = (f: (p: ExecutorPlan) => number) => parts.reduce((a, p) => a + f(p), 0);
      expect(sum((p) => p.maxVUs)).toBe(whole.maxVUs);
      expect(sum((p) => p.preAllocatedVUs)).toBe(whole.preAllocatedVUs);
      for (const p of parts) {
        expect([p.startMs, p.durationMs, p.gracefulStopMs]).toEqual([
          whole.startMs,
          whole.durationMs,
          whole.gracefulStopMs,
        ]);
      }
      if (whole.iterations && "total" in whole.iterations)
        expect(sum((p) => (p.iterations as { total: number }).total)).toBe(whole.iterations.total);
      if (whole.iterations && "perVu" in whole.iterations)
        for (const p of parts) expect(p.iterations).toEqual(whole.iterations);
      // The VUs wanted at every moment (each step edge and between) add up to the whole test's.
      const times = new Set<number>();
      for (const s of whole.vuSteps) for (const d of [-1, 0, 1]) times.add(Math.max(0, s.atMs + d));
      for (const t of times)
        expect(
          sum((p) => vusAt(p, t)),
          `at ${t} ms`,
        ).toBe(vusAt(whole, t));
      if (whole.arrivals) {
        // Every scheduled start exactly once, at the whole schedule's time for its global index.
        const starts = parts.flatMap(arrivalsOf).sort((a, b) => a.g - b.g);
        expect(starts.map((s) => s.g)).toEqual([...Array(whole.arrivals.count).keys()]);
        for (const s of starts) expect(s.at).toBe(whole.arrivals.at(s.g));
        for (const p of parts)
          for (let k = 1; k < p.arrivals!.count; k++)
            expect(p.arrivals!.at(k)).toBeGreaterThanOrEqual(p.arrivals!.at(k - 1));
      }
    });
  }

  it("shared-iterations: each global iteration number belongs to exactly one instance", () => {
    const config = CONFIGS["shared-iterations"]!;
    const numbers = allOf("0,1/3,2/3,1").flatMap((t) => {
      const p = planOne(config, t);
      return Array.from({ length: (p.iterations as { total: number }).total }, (_, k) =>
        p.globalIteration!(k),
      );
    });
    expect(numbers.sort((a, b) => a - b)).toEqual([...Array(53).keys()]);
  });
});

describe("k6's executor tables", () => {
  it.each([
    // TestSharedIterationsGlobalIters: 5 VUs, 50 iterations
    ["0:1/4", [1, 6, 11, 16, 21, 26, 31, 36, 41, 46]],
    [
      "1/4:3/4",
      [
        0, 2, 4, 5, 7, 9, 10, 12, 14, 15, 17, 19, 20, 22, 24, 25, 27, 29, 30, 32, 34, 35, 37, 39, 40, 42, 44,
        45, 47, 49,
      ],
    ],
    ["3/4:1", [3, 8, 13, 18, 23, 28, 33, 38, 43, 48]],
  ])("shared-iterations global iterations of %s in 0,1/4,3/4,1", (segment, iters) => {
    const p = planOne(
      { executor: "shared-iterations", vus: 5, iterations: 50, maxDuration: "1s" },
      executionTuple(segment, "0,1/4,3/4,1"),
    );
    const total = (p.iterations as { total: number }).total;
    expect(Array.from({ length: total }, (_, k) => p.globalIteration!(k))).toEqual(iters);
  });

  it.each([
    // TestConstantArrivalRateGlobalIters: rate 20 per 950ms for 1s, 5 VUs
    ["0:1/4", [1, 6, 11, 16, 21]],
    ["1/4:3/4", [0, 2, 4, 5, 7, 9, 10, 12, 14, 15, 17, 19, 20]],
    ["3/4:1", [3, 8, 13, 18]],
  ])("constant-arrival-rate global iterations of %s in 0,1/4,3/4,1", (segment, iters) => {
    const p = planOne(
      {
        executor: "constant-arrival-rate",
        rate: 20,
        timeUnit: "950ms",
        duration: "1s",
        preAllocatedVUs: 5,
        maxVUs: 5,
      },
      executionTuple(segment, "0,1/4,3/4,1"),
    );
    expect(arrivalsOf(p).map((a) => a.g)).toEqual(iters);
    expect(arrivalsOf(p).map((a) => a.at)).toEqual(iters.map((g) => (g * 950) / 20));
  });

  it.each([
    // TestConstantArrivalRateRunCorrectTiming: 50/s, 10-20 VUs; the first start and the gaps between starts
    ["0:1/3", undefined, 20, [40, 60, 60, 60, 60, 60, 60]],
    ["1/3:2/3", undefined, 20, [60, 60, 60, 60, 60, 60, 40]],
    ["2/3:1", undefined, 20, [40, 60, 60, 60, 60, 60, 60]],
    ["1/6:3/6", undefined, 20, [40, 80, 40, 80, 40, 80, 40]],
    ["1/6:3/6", "1/6,3/6", 20, [40, 80, 40, 80, 40, 80, 40]],
    ["0:1/3", "0,1/3,2/3,1", 0, [60, 60, 60, 60, 60, 60, 40]],
    ["1/3:2/3", "0,1/3,2/3,1", 20, [60, 60, 60, 60, 60, 60, 40]],
    ["2/3:1", "0,1/3,2/3,1", 40, [60, 60, 60, 60, 60, 100]],
  ])(
    "constant-arrival-rate timing of %s in %s: first at %i ms, then gaps %j",
    (segment, sequence, first, gaps) => {
      const p = planOne(
        {
          executor: "constant-arrival-rate",
          rate: 50,
          timeUnit: "1s",
          duration: "2s",
          preAllocatedVUs: 10,
          maxVUs: 20,
        },
        executionTuple(segment, sequence),
      );
      const at = arrivalsOf(p).map((a) => a.at);
      expect(at[0]).toBe(first);
      for (let k = 1; k < at.length; k++)
        expect(at[k]! - at[k - 1]!, `gap ${k}`).toBeCloseTo(gaps[(k - 1) % gaps.length]!, 6);
    },
  );

  // TestRampingVUsExecutionTupleTests (raw steps, times in seconds)
  const RAMP = {
    executor: "ramping-vus",
    startVUs: 4,
    stages: [
      [2, 6],
      [5, 1],
      [4, 5],
      [4, 1],
      [3, 4],
      [2, 4],
      [0, 1],
      [3, 1],
      [0, 5],
      [3, 5],
      [0, 0],
      [2, 2],
      [2, 0],
      [4, 4],
    ].map(([s, target]) => ({ duration: `${s}s`, target })),
  };
  const thirdA = [
    [0, 1],
    [1, 2],
    [4, 1],
    [7, 0],
    [8, 1],
    [11, 2],
    [12, 1],
    [15, 0],
    [16, 1],
    [20, 0],
    [23, 2],
    [26, 0],
    [28, 1],
    [29, 0],
    [32, 1],
  ];
  it.each([
    [
      undefined,
      undefined,
      [
        [0, 4],
        [1, 5],
        [2, 6],
        [3, 5],
        [4, 4],
        [5, 3],
        [6, 2],
        [7, 1],
        [8, 2],
        [9, 3],
        [10, 4],
        [11, 5],
        [12, 4],
        [13, 3],
        [14, 2],
        [15, 1],
        [16, 2],
        [17, 3],
        [18, 4],
        [20, 1],
        [23, 5],
        [26, 0],
        [27, 1],
        [28, 2],
        [29, 1],
        [30, 0],
        [31, 1],
        [32, 2],
        [33, 3],
        [34, 4],
      ],
    ],
    ["0:1/3", undefined, thirdA],
    ["0:1/3", "0,1/3,1", thirdA],
    ["1/3:2/3", undefined, thirdA],
    ["2/3:1", undefined, thirdA],
    [
      "0:1/3",
      "0,1/3,2/3,1",
      [
        [0, 2],
        [5, 1],
        [10, 2],
        [13, 1],
        [18, 2],
        [20, 1],
        [23, 2],
        [26, 0],
        [27, 1],
        [30, 0],
        [31, 1],
        [34, 2],
      ],
    ],
    ["1/3:2/3", "0,1/3,2/3,1", thirdA],
    [
      "2/3:1",
      "0,1/3,2/3,1",
      [
        [0, 1],
        [2, 2],
        [3, 1],
        [6, 0],
        [9, 1],
        [14, 0],
        [17, 1],
        [20, 0],
        [23, 1],
        [26, 0],
        [33, 1],
      ],
    ],
  ])("ramping-vus steps of %s in %s", (segment, sequence, steps) => {
    const p = planOne(RAMP, executionTuple(segment, sequence));
    expect(p.vuSteps.map((s) => [s.atMs / 1000, s.vus])).toEqual(steps);
  });
});

describe("work left to one instance only", () => {
  it("1 VU split in two: one instance runs it, the other has nothing to do", () => {
    const parts = allOf("0,1/2,1").map((t) =>
      planOne({ executor: "constant-vus", vus: 1, duration: "5s" }, t),
    );
    expect(parts.map((p) => p.maxVUs)).toEqual([1, 0]);
    expect(parts[1]!.description).toMatch(/segment 1\/2:1 of 0,1\/2,1: 0 VUs/);
  });

  it("arrival rate with 1 maxVU: every arrival on the instance that owns the VU", () => {
    const c = { executor: "constant-arrival-rate", rate: 10, duration: "1s", preAllocatedVUs: 1 };
    const parts = allOf("0,1/2,1").map((t) => planOne(c, t));
    expect(parts.map((p) => [p.maxVUs, p.arrivals!.count])).toEqual([
      [1, 10],
      [0, 0],
    ]);
  });

  it("says on stderr which share runs, and when it is empty", () => {
    const t = allOf("0,1/2,1");
    const one = { vus: 1, duration: "1s" };
    expect(segmentNotice(planLoad(one, t[0]!))).toMatch(
      /^execution segment 0:1\/2 of 0,1\/2,1: .* 1 VUs at most$/,
    );
    expect(segmentNotice(planLoad(one, t[1]!))).toMatch(/no executor has work in this segment/);
    expect(segmentNotice(planLoad(one))).toBeNull();
  });

  it("the plan names the segment it was cut for", () => {
    const plan = planLoad({ vus: 2, duration: "1s" }, executionTuple("1/2:1", "0,1/2,1"));
    expect(plan.segment).toEqual({ segment: "1/2:1", sequence: "0,1/2,1" });
    expect(planLoad({ vus: 2, duration: "1s" }).segment).toEqual({ segment: "0:1", sequence: "0,1" });
  });
});

describe("ramping-arrival-rate's arrival times are k6's", () => {
  // k6's TestRampingArrivalRateCal (lib/executor/ramping_arrival_rate_test.go): 0 -> 1/s over 5 s, 1/s for 1 s,
  // 1 -> 0/s over 5 s; `cal` strides the raw tuple (k6 applies GetNewExecutionTupleFromValue(maxVUs) before it
  // in Init, as segments/plan.ts does); k6 asserts each time within 0.1%.
  const stages = [
    { durationMs: 5_000, target: 1 },
    { durationMs: 1_000, target: 1 },
    { durationMs: 5_000, target: 0 },
  ];
  const cases: [string | undefined, string | undefined, number, number[]][] = [
    [undefined, undefined, 1000, [3162, 4472, 5500, 6527, 7837, 11000]],
    ["0:1/3", undefined, 1000, [4472, 7837]],
    ["0:1/3", "0,1/3,1", 1000, [4472, 7837]],
    ["1/3:2/3", undefined, 1000, [4472, 7837]],
    ["2/3:1", undefined, 1000, [4472, 7837]],
    ["0:1/3", "0,1/3,2/3,1", 1000, [3162, 6527]],
    ["1/3:2/3", "0,1/3,2/3,1", 1000, [4472, 7837]],
    ["2/3:1", "0,1/3,2/3,1", 1000, [5500, 11000]],
    [
      undefined,
      undefined,
      1000 / 3,
      [
        1825, 2581, 3162, 3651, 4082, 4472, 4830, 5166, 5499, 5833, 6169, 6527, 6917, 7348, 7837, 8418, 9174,
        10999,
      ],
    ],
  ];
  it.each(cases)("segment %s of sequence %s, time unit %s ms", (segment, sequence, unitMs, expected) => {
    const all = arrivalSchedule(0, unitMs, stages);
    const t = executionTuple(segment, sequence);
    const got = Array.from({ length: t.scale(all.count) }, (_, k) => all.at(t.globalIndex(k)));
    expect(got).toHaveLength(expected.length);
    for (const [i, ms] of got.entries()) {
      expect(Math.abs(ms - expected[i]!) / expected[i]!, `arrival ${i}: ${ms}`).toBeLessThan(0.001);
    }
  });
});
