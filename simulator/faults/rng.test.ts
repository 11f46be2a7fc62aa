import { describe, expect, it } from "vitest";
import { counterRng, hash32, keyLane, mix32, seededLane, unitOf } from "./rng.ts";

const firstDraw = (seed: number, fault: string, key: string) =>
  counterRng(seededLane(seed, fault), keyLane(key)).next();

/** Chi-square statistic of values in [0,1) over `bins` equal bins. */
function chiSquare(xs: number[], bins: number): number {
  const counts = new Array<number>(bins).fill(0);
  for (const x of xs) counts[Math.floor(x * bins)]!++;
  const expected = xs.length / bins;
  return counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
}

function correlation(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b) / n;
  const my = ys.reduce((a, b) => a + b) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
    syy += (ys[i]! - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

// Chi-square 0.999 quantile for 19 degrees of freedom (20 bins).
const CHI2_19_999 = 43.82;

describe("counter-based rng", () => {
  it("is a pure function of (seed, fault id, request key, draw index)", () => {
    const a = counterRng(seededLane(7, "err"), keyLane("1|u1|POST /v1/music/extended#3"));
    const b = counterRng(seededLane(7, "err"), keyLane("1|u1|POST /v1/music/extended#3"));
    const da = Array.from({ length: 5 }, () => a.next());
    const db = Array.from({ length: 5 }, () => b.next());
    expect(da).toEqual(db);
    expect(new Set(da).size).toBe(5);
    for (const x of da) expect(x >= 0 && x < 1).toBe(true);
  });

  it("changes with the seed, the fault id and the request key", () => {
    const base = firstDraw(1, "f", "k#1");
    expect(firstDraw(2, "f", "k#1")).not.toBe(base);
    expect(firstDraw(1, "g", "k#1")).not.toBe(base);
    expect(firstDraw(1, "f", "k#2")).not.toBe(base);
    // Seeds beyond 32 bits and negative seeds are distinct too.
    expect(firstDraw(2 ** 32 + 1, "f", "k#1")).not.toBe(firstDraw(1, "f", "k#1"));
    expect(firstDraw(-1, "f", "k#1")).not.toBe(firstDraw(2 ** 32 - 1, "f", "k#1"));
  });

  it("first draws across request keys are uniform and uncorrelated with the second draw", () => {
    const n = 20_000;
    const fault = seededLane(42, "slow");
    const first: number[] = [];
    const second: number[] = [];
    for (let i = 0; i < n; i++) {
      const r = counterRng(fault, keyLane(`1000000001|user-${i % 97}|POST /v1/music/extended#${i}`));
      first.push(r.next());
      second.push(r.next());
    }
    expect(chiSquare(first, 20)).toBeLessThan(CHI2_19_999);
    expect(chiSquare(second, 20)).toBeLessThan(CHI2_19_999);
    expect(Math.abs(correlation(first, second))).toBeLessThan(4 / Math.sqrt(n));
    // Neighbouring keys (sequence n and n+1) must not move together either.
    expect(Math.abs(correlation(first.slice(0, -1), first.slice(1)))).toBeLessThan(4 / Math.sqrt(n));
  });

  it("draws along one stream are uniform", () => {
    const r = counterRng(seededLane(3, "x"), keyLane("k"));
    const xs = Array.from({ length: 20_000 }, () => r.next());
    expect(chiSquare(xs, 20)).toBeLessThan(CHI2_19_999);
  });

  it("mixes bits: one flipped input bit flips about half the output bits", () => {
    let flips = 0;
    const trials = 2000;
    for (let i = 0; i < trials; i++) {
      const x = mix32(i * 2654435761);
      const bit = 1 << (i % 32);
      flips += popcount(mix32(x) ^ mix32((x ^ bit) >>> 0));
    }
    expect(flips / trials).toBeGreaterThan(15);
    expect(flips / trials).toBeLessThan(17);
    expect(hash32("song:1", 0)).not.toBe(hash32("song:2", 0));
    expect(hash32("", 1)).not.toBe(hash32("", 2));
  });

  it("gives each id a stable point, so fractions select a stable subset", () => {
    const lane = seededLane(9, "rev");
    const ids = Array.from({ length: 4000 }, (_, i) => `song:${i}`);
    const points = ids.map((id) => unitOf(lane, id));
    expect(ids.map((id) => unitOf(lane, id))).toEqual(points);
    const inside = points.filter((p) => p < 0.25).length;
    const sd = Math.sqrt(4000 * 0.25 * 0.75);
    expect(Math.abs(inside - 1000)).toBeLessThan(4 * sd);
  });
});

function popcount(x: number): number {
  let c = 0;
  for (let v = x >>> 0; v; v >>>= 1) c += v & 1;
  return c;
}
