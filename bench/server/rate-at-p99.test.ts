import { describe, expect, it } from "vitest";
import { medianOfWindows, pacedConnections, passes, rateAtP99 } from "./rate-at-p99.ts";

// The equal-p99 search against model servers: it brackets the edge from a guess above or below it and bisects
// within its resolution, refuses a step the server did not keep up with even when its p99 looked fine, goes
// further down when nothing passes, stops at its cap, and reports 0 when nothing passes at all.

/** A server that answers up to `capacity` req/s; its p99 grows as it nears it (an M/M/1-like curve). */
function model(capacity: number, serviceUs: number) {
  return async (rate: number) => {
    const rps = Math.min(rate, capacity);
    const rho = Math.min(rps / capacity, 0.999);
    return { rps, p99_us: (serviceUs * 4.6) / (1 - rho) };
  };
}

// p99 = 4.6 * 100 / (1 - rho) <= 4600  <=>  rho <= 0.9: the edge of model(10_000, 100) is 9,000 req/s.
const EDGE = 9000;

describe("rateAtP99", () => {
  it("from a guess below the edge: moves up until a step fails, then bisects to within the last bracket", async () => {
    const r = await rateAtP99(model(10_000, 100), { guess: 6000, steps: 6, boundUs: 4600 });
    // 6,000 pass, 7,500 pass, 11,719 fail, then 3 geometric bisections of [7,500, 11,719]: within 1.057x.
    expect(r.steps.map((s) => Math.round(s.offered)).slice(0, 3)).toEqual([6000, 7500, 11719]);
    expect(r.steps).toHaveLength(6);
    expect(r.rate).toBeLessThanOrEqual(EDGE);
    expect(r.rate).toBeGreaterThan(EDGE / (11_719 / 7500) ** (1 / 8));
    expect(r.failedAt).toBeGreaterThan(EDGE);
  });

  it("from a guess above the edge: moves down until a step passes, then bisects", async () => {
    const r = await rateAtP99(model(10_000, 100), { guess: 14_000, steps: 5, boundUs: 4600 });
    expect(r.steps.map((s) => s.ok).slice(0, 3)).toEqual([false, false, true]);
    expect(r.rate).toBeLessThanOrEqual(EDGE);
    expect(r.rate).toBeGreaterThan(EDGE * 0.9);
  });

  it("a good guess brackets the edge in two probes: three leave it within 1.25^(1/2)", async () => {
    const r = await rateAtP99(model(10_000, 100), { guess: 8500, steps: 3, boundUs: 4600 });
    expect(r.steps.map((s) => Math.round(s.offered))).toEqual([8500, 10625, 9503]);
    expect(r.rate).toBe(8500);
    expect(r.failedAt).toBeCloseTo(9503, 0);
  });

  it("the same bound ranks two servers by their edges", async () => {
    const fast = await rateAtP99(model(10_000, 100), { guess: 5000, steps: 8, boundUs: 4600 });
    const slow = await rateAtP99(model(5000, 200), { guess: 5000, steps: 8, boundUs: 4600 });
    // slow: p99 = 920 / (1 - rho) <= 4600 <=> rho <= 0.8: 4,000 req/s.
    expect(slow.rate).toBeLessThanOrEqual(4000);
    expect(slow.rate).toBeGreaterThan(4000 * 0.97);
    expect(slow.rate / fast.rate).toBeCloseTo(4000 / 9000, 1);
  });

  it("stops at max when every step up passes: the edge is beyond it (failedAt null)", async () => {
    const r = await rateAtP99(model(10_000, 100), { guess: 1000, steps: 8, boundUs: 4600, max: 2000 });
    expect(r.steps.map((s) => Math.round(s.offered))).toEqual([1000, 1250, 1953, 2000]);
    expect(r).toMatchObject({ rate: 2000, failedAt: null });
  });

  it("a step the server did not keep up with fails even with a low p99", () => {
    expect(passes(1000, { rps: 900, p99_us: 10 }, { boundUs: 5000 })).toBe(false);
    expect(passes(1000, { rps: 960, p99_us: 10 }, { boundUs: 5000 })).toBe(true);
    expect(passes(1000, { rps: 1000, p99_us: 5001 }, { boundUs: 5000 })).toBe(false);
  });

  it("goes extraDown probes further when nothing passes; 0 when even those miss; bad searches refused", async () => {
    // The edge (90 req/s) is far below the guess: 3 steps fail, the extra probes go on down and find it.
    const far = await rateAtP99(model(100, 10_000), { guess: 1000, steps: 3, boundUs: 460_000 });
    expect(far.rate).toBeGreaterThan(0);
    expect(far.rate).toBeLessThanOrEqual(90);
    expect(far.steps.length).toBeGreaterThan(3);
    const never = await rateAtP99(async (rate) => ({ rps: rate, p99_us: 1e6 }), {
      guess: 100,
      steps: 3,
      boundUs: 10,
      extraDown: 2,
    });
    expect(never).toMatchObject({ rate: 0, failedAt: expect.any(Number) });
    expect(never.steps).toHaveLength(5);
    for (const bad of [
      { guess: 0, steps: 3, boundUs: 1 },
      { guess: 10, steps: 0, boundUs: 1 },
      { guess: 10, steps: 3, boundUs: 0 },
      { guess: 10, steps: 3, boundUs: 1, factor: 1 },
      { guess: Number.NaN, steps: 3, boundUs: 1 },
    ]) {
      await expect(rateAtP99(model(1, 1), bad)).rejects.toThrow(RangeError);
    }
  });

  it("paced connections grow with the rate, within 8..128", () => {
    expect(pacedConnections(100)).toBe(8);
    expect(pacedConnections(5000)).toBe(50);
    expect(pacedConnections(1e6)).toBe(128);
  });

  it("a step of windows is judged by its median window: one hiccup passes, a slow server fails", async () => {
    const windows = (p99s: number[]) => {
      let i = 0;
      return () => Promise.resolve({ rps: 1000 - i * 10, p99_us: p99s[i++]! });
    };
    const hiccup = await medianOfWindows(windows([2000, 400_000, 2500]), 3);
    expect(hiccup.p99_us).toBe(2500);
    expect(hiccup.rps).toBe(990); // the mean of 1000, 990, 980
    expect(hiccup.windows).toHaveLength(3);
    expect(passes(1000, hiccup, { boundUs: 10_000 })).toBe(true);
    const slow = await medianOfWindows(windows([12_000, 400_000, 2500]), 3);
    expect(slow.p99_us).toBe(12_000);
    expect(passes(1000, slow, { boundUs: 10_000 })).toBe(false);
    expect((await medianOfWindows(windows([7000]), 1)).p99_us).toBe(7000);
    // A server that keeps up in no window fails on the achieved rate whatever its p99.
    const short = await medianOfWindows(() => Promise.resolve({ rps: 800, p99_us: 1000 }), 3);
    expect(passes(1000, short, { boundUs: 10_000 })).toBe(false);
    for (const bad of [0, 2, 1.5])
      await expect(medianOfWindows(windows([1]), bad)).rejects.toThrow(RangeError);
  });
});
