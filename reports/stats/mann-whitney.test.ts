import { describe, expect, it } from "vitest";
import { mannWhitneyU } from "./mann-whitney.ts";
import { erfc, normalUpperTail } from "./normal.ts";
import { seededRng } from "./rng.ts";

describe("normal tail", () => {
  it("matches tabulated values", () => {
    expect(normalUpperTail(0)).toBeCloseTo(0.5, 7);
    expect(normalUpperTail(1.959964)).toBeCloseTo(0.025, 6);
    expect(normalUpperTail(-1.644854)).toBeCloseTo(0.95, 6);
    // Far tail: relative accuracy, not absolute (1 - erf would give 0 here).
    expect(normalUpperTail(8) / 6.22096057427178e-16).toBeCloseTo(1, 5);
    expect(erfc(0.5)).toBeCloseTo(0.4795001221869535, 7);
  });
});

describe("mann-whitney U", () => {
  // SciPy's documented example (mannwhitneyu docs): U = 17, exact p = 0.1111..., asymptotic p = 0.11134688...
  const males = [19, 22, 16, 29, 24];
  const females = [20, 11, 17, 12];

  it("exact distribution on the SciPy example", () => {
    const r = mannWhitneyU(males, females);
    expect(r.method).toBe("exact");
    expect(r.u1).toBe(17);
    expect(r.u2).toBe(3);
    expect(r.p).toBeCloseTo(0.1111111111111111, 12);
    // 7 of the 126 rank sets give U >= 17.
    expect(r.pGreater).toBeCloseTo(7 / 126, 12);
    expect(r.pLess).toBeCloseTo(122 / 126, 12);
  });

  it("normal approximation on the SciPy example", () => {
    const r = mannWhitneyU(males, females, "normal");
    expect(r.u1).toBe(17);
    expect(r.p).toBeCloseTo(0.11134688653314041, 6);
    expect(r.pGreater).toBeCloseTo(0.0556734432665702, 6);
  });

  it("complete separation: exact p = 2 / C(10, 5)", () => {
    const r = mannWhitneyU([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]);
    expect(r.u1).toBe(0);
    expect(r.p).toBeCloseTo(2 / 252, 12);
    expect(r.pLess).toBeCloseTo(1 / 252, 12);
    expect(r.pGreater).toBe(1);
  });

  it("ties: mid-ranks and the tie-corrected variance (R: W = 3, p-value = 0.0181)", () => {
    // Pooled ranks: 1, 2.5, 2.5, 5, 5 | 5, 8 | 8, 8, 10.5, 10.5, 12 -> R1 = 24, U1 = 24 - 21 = 3.
    // Tie groups of 2, 3, 3, 2: sum(t^3 - t) = 60; var = 36/12 * (13 - 60/132) = 37.636...
    const r = mannWhitneyU([1, 2, 2, 3, 3, 4], [3, 4, 4, 5, 5, 6]);
    expect(r.method).toBe("normal");
    expect(r.ties).toBe(true);
    expect(r.u1).toBe(3);
    expect(r.p).toBeCloseTo(0.01810094873944971, 6);
    expect(r.pLess).toBeCloseTo(0.00905, 4);
  });

  it("ties in unequal samples", () => {
    const r = mannWhitneyU([1.1, 2.2, 2.2, 2.2, 5, 7, 7, 9], [3, 3, 4, 7, 8, 8, 10, 10, 11, 12]);
    expect(r.u1).toBe(16);
    expect(r.p).toBeCloseTo(0.03573031689702435, 6);
  });

  it("all values equal: p = 1", () => {
    const r = mannWhitneyU([5, 5, 5], [5, 5, 5, 5]);
    expect(r.p).toBe(1);
    expect(r.u1).toBe(6);
  });

  it("is symmetric and u1 + u2 = n1 * n2", () => {
    const rng = seededRng(3);
    const x = Array.from({ length: 40 }, () => rng.lognormal(100, 0.3));
    const y = Array.from({ length: 55 }, () => rng.lognormal(115, 0.3));
    const a = mannWhitneyU(x, y);
    const b = mannWhitneyU(y, x);
    expect(a.u1 + a.u2).toBe(40 * 55);
    expect(a.u1).toBe(b.u2);
    expect(a.p).toBeCloseTo(b.p, 12);
    expect(a.pLess).toBeCloseTo(b.pGreater, 12);
  });

  it("exact and normal agree for moderate samples", () => {
    const rng = seededRng(11);
    const x = Array.from({ length: 20 }, () => rng.normal());
    const y = Array.from({ length: 20 }, () => rng.normal() + 0.8);
    const exact = mannWhitneyU(x, y, "exact");
    const normal = mannWhitneyU(x, y, "normal");
    expect(exact.u1).toBe(normal.u1);
    expect(Math.abs(exact.p - normal.p)).toBeLessThan(0.01);
  });

  it("detects a shift and stays quiet without one", () => {
    const rng = seededRng(7);
    const base = Array.from({ length: 60 }, () => rng.lognormal(400, 0.1));
    const same = Array.from({ length: 60 }, () => rng.lognormal(400, 0.1));
    const slower = Array.from({ length: 60 }, () => rng.lognormal(480, 0.1));
    expect(mannWhitneyU(slower, base).pGreater).toBeLessThan(1e-6);
    expect(mannWhitneyU(same, base).p).toBeGreaterThan(0.01);
  });

  it("rejects empty samples, non-finite values and exact with ties", () => {
    expect(() => mannWhitneyU([], [1])).toThrow(RangeError);
    expect(() => mannWhitneyU([1, Number.NaN], [1])).toThrow(/finite/);
    expect(() => mannWhitneyU([1, 2], [2, 3], "exact")).toThrow(/ties/);
  });
});
