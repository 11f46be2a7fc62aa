import type { JsHistogram } from "hdr-histogram-js";
import { describe, expect, it } from "vitest";
import { addTrendData, newHistogram, recordValue, trendData } from "./hdr.ts";

// trendData walks only the recorded range of the counts array: it must carry exactly what a walk of every
// bucket carries (the form the runner merges), for zeros, one value, wide spreads and a resized histogram.

/** The reference: every bucket through getCountAtIndex, as trendData did before it walked the range only. */
function everyBucket(h: JsHistogram): number[] {
  const out: number[] = [];
  const max = h.maxValue;
  const min = h.minNonZeroValue;
  const maxIndex = h.countsArrayIndex(max);
  const minIndex = max > 0 ? h.countsArrayIndex(min) : -1;
  for (let i = 0; i < h.countsArrayLength; i++) {
    let c = h.getCountAtIndex(i);
    if (c === 0) continue;
    if (i === maxIndex) {
      out.push(max, 1);
      c--;
    }
    if (c > 0) out.push(i === minIndex ? min : h.valueFromIndex(i), c);
  }
  return out;
}

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

const cases: [string, (r: () => number) => number[]][] = [
  ["zeros only", () => [0, 0, 0]],
  ["zeros and values", (r) => [0, 0, ...Array.from({ length: 50 }, () => r() * 40)]],
  ["one value", () => [7.25]],
  ["a narrow band", (r) => Array.from({ length: 30 }, () => 3 + r() * 2)],
  ["a wide spread", (r) => Array.from({ length: 5000 }, () => r() ** 4 * 9000)],
  ["past the initial range (auto-resize)", (r) => [1, 2, 20_000_000 + r() * 1000, 50]],
];

describe("trendData", () => {
  for (const [name, values] of cases) {
    it(`carries every recorded bucket exactly: ${name}`, () => {
      const h = newHistogram();
      for (const v of values(rng(name.length * 7919))) recordValue(h, v);
      const data = trendData(h)!;
      expect(Array.from(data)).toEqual(everyBucket(h as JsHistogram));
      const back = newHistogram();
      addTrendData(back, data);
      expect(back.totalCount).toBe(h.totalCount);
      expect(back.minNonZeroValue).toBe(h.minNonZeroValue);
      expect(back.maxValue).toBe(h.maxValue);
      for (const q of [0, 50, 90, 99, 99.9, 100])
        expect(back.getValueAtPercentile(q)).toBe(h.getValueAtPercentile(q));
    });
  }

  it("is null for an empty histogram and after a reset", () => {
    const h = newHistogram();
    expect(trendData(h)).toBeNull();
    recordValue(h, 3);
    h.reset();
    expect(trendData(h)).toBeNull();
  });
});
