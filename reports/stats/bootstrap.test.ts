import { describe, expect, it } from "vitest";
import { bootstrapMedianRatio } from "./bootstrap.ts";
import { median, percentileSorted, sorted } from "./describe.ts";
import { seededRng } from "./rng.ts";

const sample = (seed: number, n: number, med: number) => {
  const rng = seededRng(seed);
  return Array.from({ length: n }, () => rng.lognormal(med, 0.2));
};

describe("bootstrap CI of the median ratio", () => {
  it("covers the true ratio and excludes 1 for a 30% shift", () => {
    const ci = bootstrapMedianRatio(sample(1, 80, 400), sample(2, 80, 520), { level: 0.99 })!;
    expect(ci.lo).toBeLessThan(1.3);
    expect(ci.hi).toBeGreaterThan(1.3);
    expect(ci.lo).toBeGreaterThan(1.1);
    expect(ci.ratio).toBeGreaterThan(ci.lo);
    expect(ci.ratio).toBeLessThan(ci.hi);
  });

  it("covers 1 for two samples of the same distribution", () => {
    const ci = bootstrapMedianRatio(sample(3, 80, 400), sample(4, 80, 400), { level: 0.99 })!;
    expect(ci.lo).toBeLessThan(1);
    expect(ci.hi).toBeGreaterThan(1);
  });

  it("is reproducible for a seed and narrows with more samples", () => {
    const a = bootstrapMedianRatio(sample(5, 30, 100), sample(6, 30, 100), { seed: 9 })!;
    const b = bootstrapMedianRatio(sample(5, 30, 100), sample(6, 30, 100), { seed: 9 })!;
    expect(a).toEqual(b);
    const wide = bootstrapMedianRatio(sample(7, 10, 100), sample(8, 10, 100))!;
    const narrow = bootstrapMedianRatio(sample(7, 400, 100), sample(8, 400, 100))!;
    expect(narrow.hi - narrow.lo).toBeLessThan(wide.hi - wide.lo);
  });

  it("has no ratio over a zero baseline median, and rejects bad input", () => {
    expect(bootstrapMedianRatio([0, 0, 0], [1, 2, 3])).toBeNull();
    expect(() => bootstrapMedianRatio([], [1])).toThrow(RangeError);
    expect(() => bootstrapMedianRatio([1], [1], { level: 1 })).toThrow(RangeError);
  });
});

describe("order statistics", () => {
  it("nearest-rank percentiles and the median", () => {
    const asc = sorted([5, 1, 4, 2, 3, 10, 9, 8, 7, 6]);
    expect(asc).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(percentileSorted(asc, 50)).toBe(5);
    expect(percentileSorted(asc, 95)).toBe(10);
    expect(percentileSorted(asc, 0)).toBe(1);
    expect(percentileSorted([], 50)).toBeNaN();
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
  });
});
