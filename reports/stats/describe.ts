// Order statistics over plain sample arrays. Percentiles use the nearest-rank definition, the one HDR
// histograms report ("the smallest value that p% of the samples are at or below"), so fixture summaries read
// like the runner's.

/** Ascending copy. */
export function sorted(values: readonly number[]): number[] {
  // Typed-array sort is numeric (a plain array's default sort compares strings).
  return Array.from(Float64Array.from(values).sort());
}

/** Nearest-rank percentile of an ascending array; p in [0, 100]. NaN when empty. */
export function percentileSorted(asc: readonly number[], p: number): number {
  if (asc.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * asc.length);
  return asc[Math.min(asc.length, Math.max(1, rank)) - 1]!;
}

/** The median (mean of the two middle values for an even count). NaN when empty. */
export function median(values: readonly number[]): number {
  const n = values.length;
  if (n === 0) return Number.NaN;
  const asc = sorted(values);
  const mid = n >> 1;
  return n % 2 === 1 ? asc[mid]! : (asc[mid - 1]! + asc[mid]!) / 2;
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}
