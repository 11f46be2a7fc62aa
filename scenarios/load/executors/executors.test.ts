import { describe, expect, it } from "vitest";
import { planLoad, validateLoad, vusAt } from "../plan.ts";
import { EXECUTORS } from "./index.ts";
import { arrivalSchedule } from "./ramping-arrival-rate.ts";
import { rampSteps } from "./ramping-vus.ts";

const planOne = (c: Record<string, unknown>) => planLoad({ scenarios: { s: c } } as never).scenarios[0]!;

describe("closed-model plans", () => {
  it("shared-iterations: a total shared by the VUs, 10m maxDuration and 30s gracefulStop by default", () => {
    const p = planOne({ executor: "shared-iterations", vus: 3, iterations: 10 });
    expect(p.model).toBe("closed");
    expect(p.iterations).toEqual({ total: 10 });
    expect(p.maxVUs).toBe(3);
    expect(p.durationMs).toBe(600_000);
    expect(p.gracefulStopMs).toBe(30_000);
  });

  it("per-vu-iterations: each VU's own count; k6's defaults of one VU and one iteration", () => {
    expect(
      planOne({ executor: "per-vu-iterations", vus: 4, iterations: 2, maxDuration: "1m" }),
    ).toMatchObject({
      iterations: { perVu: 2 },
      maxVUs: 4,
      durationMs: 60_000,
    });
    expect(planOne({ executor: "per-vu-iterations" })).toMatchObject({ iterations: { perVu: 1 }, maxVUs: 1 });
  });

  it("constant-vus: the VU count for the duration, none after", () => {
    const p = planOne({
      executor: "constant-vus",
      vus: 5,
      duration: "30s",
      startTime: "10s",
      gracefulStop: "5s",
    });
    expect(p).toMatchObject({ startMs: 10_000, durationMs: 30_000, gracefulStopMs: 5_000, maxVUs: 5 });
    expect(vusAt(p, 0)).toBe(5);
    expect(vusAt(p, 29_999)).toBe(5);
    expect(vusAt(p, 30_000)).toBe(0);
  });

  it("ramping-vus: one step per whole VU along the line, up and down", () => {
    const p = planOne({
      executor: "ramping-vus",
      startVUs: 0,
      stages: [
        { duration: "10s", target: 5 },
        { duration: "5s", target: 5 },
        { duration: "5s", target: 0 },
      ],
    });
    expect(p.maxVUs).toBe(5);
    expect(p.durationMs).toBe(20_000);
    expect(p.vuSteps).toEqual([
      { atMs: 0, vus: 0 },
      { atMs: 2_000, vus: 1 },
      { atMs: 4_000, vus: 2 },
      { atMs: 6_000, vus: 3 },
      { atMs: 8_000, vus: 4 },
      { atMs: 10_000, vus: 5 },
      { atMs: 16_000, vus: 4 },
      { atMs: 17_000, vus: 3 },
      { atMs: 18_000, vus: 2 },
      { atMs: 19_000, vus: 1 },
      { atMs: 20_000, vus: 0 },
    ]);
    expect(vusAt(p, 9_999)).toBe(4);
    expect(vusAt(p, 12_000)).toBe(5);
  });

  it("ramping-vus: a zero-length stage jumps at once", () => {
    expect(
      rampSteps(1, [
        { durationMs: 0, target: 10 },
        { durationMs: 1000, target: 10 },
      ]),
    ).toEqual([{ atMs: 0, vus: 10 }]);
  });
});

describe("open-model plans", () => {
  it("constant-arrival-rate: evenly spread starts, the first at 0", () => {
    const p = planOne({
      executor: "constant-arrival-rate",
      rate: 10,
      timeUnit: "1s",
      duration: "3s",
      preAllocatedVUs: 2,
      maxVUs: 8,
    });
    expect(p.model).toBe("open");
    expect(p.preAllocatedVUs).toBe(2);
    expect(p.maxVUs).toBe(8);
    expect(p.arrivals!.count).toBe(30);
    expect([0, 1, 2, 29].map((i) => p.arrivals!.at(i))).toEqual([0, 100, 200, 2900]);
  });

  it("constant-arrival-rate: timeUnit scales the rate; maxVUs defaults to preAllocatedVUs", () => {
    const p = planOne({
      executor: "constant-arrival-rate",
      rate: 3,
      timeUnit: "1m",
      duration: "2m",
      preAllocatedVUs: 4,
    });
    expect(p.arrivals!.count).toBe(6);
    expect(p.arrivals!.at(1)).toBe(20_000);
    expect(p.maxVUs).toBe(4);
  });

  it("ramping-arrival-rate: arrivals follow the integral of the rate", () => {
    // 0 -> 10/s over 10 s (50 arrivals), then 10/s for 5 s (50 more).
    const s = arrivalSchedule(0, 1000, [
      { durationMs: 10_000, target: 10 },
      { durationMs: 5_000, target: 10 },
    ]);
    expect(s.count).toBe(100);
    const perSecond = new Array(16).fill(0);
    for (let i = 0; i < s.count; i++) perSecond[Math.floor(s.at(i) / 1000)]++;
    // The rate at second k of the ramp is ~k+0.5 per second; the count per second follows it. The first arrival
    // is due once a whole one is (sqrt(2) s), as in k6; the 50th at 10 s and the 100th exactly at the end.
    expect(s.at(0)).toBeCloseTo(Math.SQRT2 * 1000, 6);
    expect(perSecond.slice(0, 10)).toEqual([0, 1, 3, 3, 5, 5, 7, 7, 9, 9]);
    expect(perSecond.slice(10)).toEqual([10, 10, 10, 10, 10, 1]);
    expect(s.at(99)).toBe(15_000);
    for (let i = 1; i < s.count; i++) expect(s.at(i)).toBeGreaterThanOrEqual(s.at(i - 1));
  });

  it("ramping-arrival-rate at a constant rate is constant-arrival-rate's schedule one gap later, as in k6", () => {
    const ramp = planOne({
      executor: "ramping-arrival-rate",
      startRate: 4,
      stages: [{ duration: "5s", target: 4 }],
      preAllocatedVUs: 1,
    });
    const flat = planOne({ executor: "constant-arrival-rate", rate: 4, duration: "5s", preAllocatedVUs: 1 });
    expect(ramp.arrivals!.count).toBe(flat.arrivals!.count);
    for (let i = 0; i < flat.arrivals!.count; i++)
      expect(ramp.arrivals!.at(i)).toBeCloseTo(flat.arrivals!.at(i) + 250, 6);
  });
});

describe("validate(): every problem at once", () => {
  it("names each wrong field of one scenario", () => {
    const errors = validateLoad({
      scenarios: {
        bad: {
          executor: "constant-arrival-rate",
          rate: 0,
          duration: "soon",
          preAllocatedVUs: 4,
          maxVUs: 2,
          exec: "fn",
          colour: "red",
        } as never,
      },
    });
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^options\.scenarios\.bad\.rate: must be an integer in 1\.\./),
        expect.stringMatching(/^options\.scenarios\.bad\.duration: "soon" is not a duration/),
        expect.stringMatching(/^options\.scenarios\.bad\.maxVUs: 2 is less than preAllocatedVUs \(4\)/),
        expect.stringMatching(/^options\.scenarios\.bad\.exec: not supported/),
        expect.stringMatching(/^options\.scenarios\.bad\.colour: unknown field/),
      ]),
    );
    expect(errors).toHaveLength(5);
  });

  it("checks every scenario and every executor's own rules", () => {
    const errors = validateLoad({
      scenarios: {
        a: { executor: "shared-iterations", vus: 5, iterations: 2 },
        b: { executor: "ramping-vus", stages: [] },
        c: { executor: "constant-vus" },
        d: { executor: "soak" },
        e: { executor: "ramping-arrival-rate", stages: [{ duration: "10s", target: 0 }], preAllocatedVUs: 1 },
        f: { executor: "per-vu-iterations", vus: 0 },
        g: { executor: "ramping-vus", startVUs: 0, stages: [{ duration: "5s", target: 0 }] },
      } as never,
    });
    expect(errors).toEqual([
      expect.stringMatching(/^options\.scenarios\.a\.iterations: 2 is less than vus \(5\)/),
      expect.stringMatching(/^options\.scenarios\.b\.stages: must be a non-empty list/),
      expect.stringMatching(/^options\.scenarios\.c\.duration: is required/),
      expect.stringMatching(/^options\.scenarios\.d\.executor: must be one of shared-iterations, /),
      expect.stringMatching(/^options\.scenarios\.e\.stages: no iteration would ever start/),
      expect.stringMatching(/^options\.scenarios\.f\.vus: must be an integer in 1\.\./),
      expect.stringMatching(/^options\.scenarios\.g\.stages: no stage has a VU/),
    ]);
  });

  it("every registered executor accepts its minimal config", () => {
    const minimal: Record<string, Record<string, unknown>> = {
      "shared-iterations": {},
      "per-vu-iterations": {},
      "constant-vus": { duration: "1s" },
      "ramping-vus": { stages: [{ duration: "1s", target: 1 }] },
      "constant-arrival-rate": { rate: 1, duration: "1s", preAllocatedVUs: 1 },
      "ramping-arrival-rate": { stages: [{ duration: "1s", target: 2 }], preAllocatedVUs: 1 },
    };
    for (const [name, type] of EXECUTORS) {
      expect(type.validate({ executor: name, ...minimal[name] }, "x")).toEqual([]);
    }
    expect(EXECUTORS.size).toBe(6);
  });
});
