import { describe, expect, it } from "vitest";
import { manualClock } from "../clock.ts";
import { createFaultEngine } from "./engine.ts";
import { DEFAULT_TAIL_MAX_MS } from "./latency.ts";

// Statistical checks of the latency and error kinds through the engine (decisions are pure, so the engine is
// sampled directly; the HTTP tests check the delay really happens). Seeds are fixed: these either always pass
// or always fail, and the bounds (KS at alpha = 0.001, binomial +-4 sigma) leave room for honest samplers only.

const N = 4000;
const KS_CRIT = 1.949 / Math.sqrt(N);

/** Delays of N requests by distinct users under one latency fault. */
function sampleDelays(distribution: Record<string, unknown>, seed = 11): number[] {
  const e = createFaultEngine({
    seed,
    clock: manualClock(),
    profile: { faults: [{ id: "lat", kind: "latency", distribution }] },
  });
  return Array.from({ length: N }, (_, i) => {
    const d = e.decide({ route: "GET /v1/music/lyrics/lrc", app_id: 1, user_id: `user-${i}` });
    return d.delayMs ?? Number.NaN;
  });
}

// Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7): plenty for a KS test at n = 4000.
function erf(x: number): number {
  const s = Math.sign(x);
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-a * a);
  return s * y;
}
const phi = (z: number) => 0.5 * (1 + erf(z / Math.SQRT2));

/** Kolmogorov-Smirnov distance over the samples below `cap` (clamped samples are checked apart). */
function ks(xs: number[], cdf: (x: number) => number, cap = Number.POSITIVE_INFINITY): number {
  const s = [...xs].sort((a, b) => a - b);
  let d = 0;
  s.forEach((x, i) => {
    if (x >= cap) return;
    const f = cdf(x);
    d = Math.max(d, Math.abs(f - i / s.length), Math.abs(f - (i + 1) / s.length));
  });
  return d;
}

/** |observed - expected| within 4 binomial standard deviations. */
function expectBinomial(count: number, n: number, p: number) {
  const sd = Math.sqrt(n * p * (1 - p));
  expect(Math.abs(count - n * p), `${count} of ${n}, expected p=${p}`).toBeLessThanOrEqual(4 * sd);
}

describe("latency distributions", () => {
  it("fixed: exactly the given delay", () => {
    expect(new Set(sampleDelays({ type: "fixed", ms: 37 }))).toEqual(new Set([37]));
  });

  it("uniform: KS against U(min, max), never outside it", () => {
    const xs = sampleDelays({ type: "uniform", min: 20, max: 80 });
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(20);
    expect(Math.max(...xs)).toBeLessThan(80);
    expect(ks(xs, (x) => (x - 20) / 60)).toBeLessThan(KS_CRIT);
  });

  it("normal: KS against N(mean, stddev), clamped at 0 and max", () => {
    const xs = sampleDelays({ type: "normal", mean: 100, stddev: 20 });
    expect(ks(xs, (x) => phi((x - 100) / 20))).toBeLessThan(KS_CRIT);
    const capped = sampleDelays({ type: "normal", mean: 10, stddev: 20, max: 30 });
    expect(Math.min(...capped)).toBe(0);
    expect(Math.max(...capped)).toBe(30);
    expectBinomial(capped.filter((x) => x === 0).length, N, phi(-0.5));
    expectBinomial(capped.filter((x) => x === 30).length, N, 1 - phi(1));
  });

  it("lognormal: KS against median * exp(sigma Z), tail clamped at max", () => {
    const xs = sampleDelays({ type: "lognormal", median: 30, sigma: 0.8, max: 150 });
    const cdf = (x: number) => phi(Math.log(x / 30) / 0.8);
    expect(ks(xs, cdf, 150)).toBeLessThan(KS_CRIT);
    expect(Math.max(...xs)).toBe(150);
    expectBinomial(xs.filter((x) => x === 150).length, N, 1 - cdf(150));
    const sorted = [...xs].sort((a, b) => a - b);
    expect(sorted[N / 2]).toBeGreaterThan(27);
    expect(sorted[N / 2]).toBeLessThan(33);
  });

  it("pareto: KS against 1 - (scale/x)^shape, tail clamped at max", () => {
    const xs = sampleDelays({ type: "pareto", scale: 5, shape: 1.5, max: 200 });
    const cdf = (x: number) => 1 - (5 / x) ** 1.5;
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(5);
    expect(ks(xs, cdf, 200)).toBeLessThan(KS_CRIT);
    expectBinomial(xs.filter((x) => x === 200).length, N, (5 / 200) ** 1.5);
  });

  it("heavy tails are capped at the default max when the profile gives none", () => {
    const xs = sampleDelays({ type: "pareto", scale: 1000, shape: 0.1 });
    expect(Math.max(...xs)).toBe(DEFAULT_TAIL_MAX_MS);
  });

  it("the KS check rejects a sampler with the wrong parameters", () => {
    // Guards the guard: lognormal samples tested against the wrong median must fail.
    const xs = sampleDelays({ type: "lognormal", median: 30, sigma: 0.8, max: 150 });
    expect(ks(xs, (x) => phi(Math.log(x / 33) / 0.8), 150)).toBeGreaterThan(KS_CRIT);
  });
});

describe("error rates", () => {
  it("injects an error with the configured probability (binomial bounds)", () => {
    for (const p of [0.05, 0.3, 0.9]) {
      const e = createFaultEngine({
        seed: 5,
        clock: manualClock(),
        profile: { faults: [{ id: "e", kind: "error", code: 1017097, probability: p }] },
      });
      let count = 0;
      for (let i = 0; i < N; i++)
        if (e.decide({ route: "POST /v1/music/resource", app_id: 1, user_id: `u${i}` }).vendorCode) count++;
      expectBinomial(count, N, p);
    }
  });

  it("the issue's example profile: error 30%, latency 50% U(0,40), independent of each other", () => {
    const e = createFaultEngine({
      seed: 99,
      clock: manualClock(),
      profile: {
        faults: [
          {
            id: "err",
            kind: "error",
            code: 1017097,
            probability: 0.3,
            selector: { command: "/search/song" },
          },
          {
            id: "slow",
            kind: "latency",
            distribution: { type: "uniform", min: 0, max: 40 },
            probability: 0.5,
            selector: { command: "/search/song" },
          },
        ],
      },
    });
    let errors = 0;
    let slow = 0;
    let both = 0;
    const delays: number[] = [];
    for (let i = 0; i < N; i++) {
      // One user, many requests: the per-user sequence number alone must spread the decisions.
      const d = e.decide({
        route: "POST /v1/music/extended",
        command: "/search/song",
        app_id: 1,
        user_id: "solo",
      });
      if (d.vendorCode === 1017097) errors++;
      if (d.delayMs !== undefined) {
        slow++;
        delays.push(d.delayMs);
      }
      if (d.vendorCode && d.delayMs !== undefined) both++;
    }
    expectBinomial(errors, N, 0.3);
    expectBinomial(slow, N, 0.5);
    expectBinomial(both, N, 0.15);
    const m = delays.length;
    expect(ks(delays, (x) => x / 40)).toBeLessThan(1.949 / Math.sqrt(m));
    expect(
      e.decide({ route: "POST /v1/music/extended", command: "/tag/list", app_id: 1, user_id: "solo" }),
    ).toEqual({});
  });
});
