// Percentile bootstrap confidence interval of median(run) / median(baseline): how big the change is, with its
// uncertainty, where the Mann-Whitney test says only whether there is one. Seeded, so it is reproducible.

import { median, percentileSorted, sorted } from "./describe.ts";
import { seededRng } from "./rng.ts";

export interface RatioInterval {
  /** median(run) / median(baseline) on the samples themselves. */
  ratio: number;
  lo: number;
  hi: number;
  level: number;
  resamples: number;
}

export interface BootstrapOptions {
  seed?: number;
  resamples?: number;
  /** Confidence level, e.g. 0.99. */
  level?: number;
}

/** Null when a median of the baseline is zero, so no ratio exists. */
export function bootstrapMedianRatio(
  baseline: readonly number[],
  run: readonly number[],
  opts: BootstrapOptions = {},
): RatioInterval | null {
  const { seed = 1, resamples = 2000, level = 0.95 } = opts;
  if (baseline.length === 0 || run.length === 0) throw new RangeError("bootstrap needs samples in both runs");
  if (!(level > 0 && level < 1)) throw new RangeError(`confidence level must be in (0, 1), got ${level}`);
  const base0 = median(baseline);
  if (base0 === 0) return null;
  const rng = seededRng(seed);
  const ratios: number[] = [];
  const bufB = new Float64Array(baseline.length);
  const bufR = new Float64Array(run.length);
  for (let i = 0; i < resamples; i++) {
    const mb = resampledMedian(baseline, bufB, rng.int);
    if (mb === 0) continue;
    ratios.push(resampledMedian(run, bufR, rng.int) / mb);
  }
  if (ratios.length === 0) return null;
  const asc = sorted(ratios);
  const tail = ((1 - level) / 2) * 100;
  return {
    ratio: median(run) / base0,
    lo: percentileSorted(asc, tail),
    hi: percentileSorted(asc, 100 - tail),
    level,
    resamples,
  };
}

function resampledMedian(values: readonly number[], buf: Float64Array, int: (n: number) => number): number {
  const n = values.length;
  for (let i = 0; i < n; i++) buf[i] = values[int(n)]!;
  buf.sort();
  const mid = n >> 1;
  return n % 2 === 1 ? buf[mid]! : (buf[mid - 1]! + buf[mid]!) / 2;
}
