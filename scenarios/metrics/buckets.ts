import type { Histogram, JsHistogram } from "hdr-histogram-js";
import type { HistogramBuckets } from "../../reports/format.ts";
import { SCALE } from "./hdr.ts";

// Exports a merged HDR histogram as the bucketed distribution summary.json carries for the report's plots
// (reports/format.ts HistogramBuckets): counts between ascending bounds, in the metric's unit.

/** 1-2-5 steps from just below the smallest value to at or above the largest (at most ~30 bounds). */
export function logBounds(minValue: number, maxValue: number): number[] {
  const top = Math.max(maxValue, 1e-3);
  let decade = 10 ** Math.floor(Math.log10(Math.max(minValue, top / 1e9, 1e-3)));
  const bounds: number[] = [];
  while (bounds.length < 40) {
    for (const m of [1, 2, 5]) {
      const b = Number((m * decade).toPrecision(3));
      if (b >= minValue || bounds.length > 0) bounds.push(b);
      if (b >= top) return bounds;
    }
    decade *= 10;
  }
  return bounds;
}

/** `n` equal steps of a round size covering [0, maxValue]. */
export function linearBounds(maxValue: number, n = 40): number[] {
  const raw = Math.max(maxValue, 1e-3) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  return Array.from({ length: n }, (_, i) => Number(((i + 1) * step).toPrecision(6)));
}

/** counts[i] = samples in (bounds[i-1], bounds[i]]; the extra last count is above the last bound. */
export function bucketize(h: Histogram, bounds: number[]): HistogramBuckets {
  const counts = new Array<number>(bounds.length + 1).fill(0);
  const it = (h as JsHistogram).recordedValuesIterator;
  it.reset();
  while (it.hasNext()) {
    const v = it.next();
    const value = v.valueIteratedTo / SCALE;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    counts[i]! += v.countAtValueIteratedTo;
  }
  return { bounds, counts };
}
