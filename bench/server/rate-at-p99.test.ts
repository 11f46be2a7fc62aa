import { describe, expect, it } from "vitest";
import { pacedConnections, passes, rateAtP99 } from "./rate-at-p99.ts";

// The equal-p99 search against model servers: it finds the edge within its resolution, refuses a step the
// server did not keep up with even when its p99 looked fine, and reports 0 when nothing passes.

/** A server that answers up to `capacity` req/s; its p99 grows as it nears it (an M/M/1-like curve). */
function model(capacity: number, serviceUs: number) {
  return async (rate: number) => {
    const rps = Math.min(rate, capacity);
    const rho = Math.min(rps / capacity, 0.999);
    return { rps, p99_us: (serviceUs * 4.6) / (1 - rho) };
  };
}

describe("rateAtP99", () => {
  it("finds the rate where p99 reaches the bound, within hi / 2^steps", async () => {
    // p99 = 4.6 * 100 / (1 - rho) <= 4600  <=>  rho <= 0.9: the edge is 0.9 * 10,000 = 9,000 req/s.
    const r = await rateAtP99(model(10_000, 100), { hi: 12_000, steps: 8, boundUs: 4600 });
    expect(r.rate).toBeLessThanOrEqual(9000);
    expect(r.rate).toBeGreaterThan(9000 - 12_000 / 2 ** 8);
    expect(r.steps).toHaveLength(8);
  });

  it("the same bound ranks two servers by their edges", async () => {
    const s = { hi: 12_000, steps: 8, boundUs: 4600 };
    const fast = await rateAtP99(model(10_000, 100), s);
    const slow = await rateAtP99(model(5000, 200), s);
    // slow: p99 = 920 / (1 - rho) <= 4600 <=> rho <= 0.8: 4,000 req/s.
    expect(slow.rate).toBeLessThanOrEqual(4000);
    expect(slow.rate).toBeGreaterThan(4000 - 12_000 / 2 ** 8);
    expect(slow.rate / fast.rate).toBeCloseTo(4000 / 9000, 1);
  });

  it("a step the server did not keep up with fails even with a low p99", () => {
    expect(passes(1000, { rps: 900, p99_us: 10 }, { boundUs: 5000 })).toBe(false);
    expect(passes(1000, { rps: 960, p99_us: 10 }, { boundUs: 5000 })).toBe(true);
    expect(passes(1000, { rps: 1000, p99_us: 5001 }, { boundUs: 5000 })).toBe(false);
  });

  it("0 when even the lowest step misses the bound; bad searches refused", async () => {
    const r = await rateAtP99(async (rate) => ({ rps: rate, p99_us: 1e6 }), {
      hi: 100,
      steps: 3,
      boundUs: 10,
    });
    expect(r.rate).toBe(0);
    await expect(rateAtP99(model(1, 1), { hi: 0, steps: 3, boundUs: 1 })).rejects.toThrow(RangeError);
    await expect(rateAtP99(model(1, 1), { hi: 10, steps: 0, boundUs: 1 })).rejects.toThrow(RangeError);
  });

  it("paced connections grow with the rate, within 8..128", () => {
    expect(pacedConnections(100)).toBe(8);
    expect(pacedConnections(5000)).toBe(50);
    expect(pacedConnections(1e6)).toBe(128);
  });
});
