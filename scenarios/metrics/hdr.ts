import {
  build,
  decodeFromCompressedBase64,
  encodeIntoCompressedBase64,
  type Histogram,
  type JsHistogram,
} from "hdr-histogram-js";
import type { MetricSummary } from "../../reports/format.ts";

// HDR histograms of the run's trends. Values are stored as integers in thousandths of the metric's unit (µs
// for *_ms, ns for *_us), 3 significant digits, resizing instead of dropping an outlier. Workers send them to
// the main thread as their recorded buckets (trendData: a flat Float64Array of value, count pairs), which the
// main thread records into its own histograms of the same layout: the merge is exact, not an average of
// percentiles, and the extremes travel exactly.
//
// Why not HdrHistogram's own encoding: decoding (base64, inflate, a packed array) and adding it (a walk over
// every one of ~23,000 packed counts) took 28% of the main thread at 1,000 VUs. The counts are Int32 arrays
// (random access is an array read, where the packed layout resolves an index through several levels), sized
// for values up to 10 s and grown on demand: ~45 KB per trend, a few dozen trends per thread.

export const SCALE = 1000;

export function newHistogram(): Histogram {
  return build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 10_000_000,
    numberOfSignificantValueDigits: 3,
    autoResize: true,
    bitBucketSize: 32,
  });
}

/**
 * A histogram's recorded buckets as [value, count, value, count, ...]: each bucket at its lowest equivalent
 * value, except that the smallest non-zero bucket is carried at the minimum and one count of the largest value
 * exactly, so a
 * histogram rebuilt from it (addTrendData into the same layout) has the same counts, mean, percentiles, min
 * and max. Null when nothing was recorded.
 */
export function trendData(h: Histogram): Float64Array | null {
  if (h.totalCount === 0) return null;
  const j = h as JsHistogram;
  const max = h.maxValue;
  const min = h.minNonZeroValue;
  const maxIndex = j.countsArrayIndex(max);
  const minIndex = max > 0 ? j.countsArrayIndex(min) : -1;
  // Only the recorded range is walked (below the minimum only index 0 can hold counts: zeros), over the counts
  // array itself where the histogram exposes one: a load worker drains ~30 trends a second, most with a few
  // samples, and two walks of all 15,360 buckets through getCountAtIndex were ~4 ms of each 6 ms drain (CPU
  // profile of a rooms-250 worker), one block of its event loop every second.
  const from = j.getCountAtIndex(0) > 0 ? 0 : Math.max(0, minIndex);
  const to = Math.min(j.countsArrayLength - 1, Math.max(0, maxIndex));
  const own = (j as unknown as { _counts?: ArrayLike<number> })._counts;
  const counts = own !== undefined && own.length === j.countsArrayLength ? own : null;
  let buckets = 0;
  if (counts !== null) {
    for (let i = from; i <= to; i++) if (counts[i]! > 0) buckets++;
  } else {
    for (let i = from; i <= to; i++) if (j.getCountAtIndex(i) > 0) buckets++;
  }
  // At most one extra pair: the exact maximum split from its bucket.
  const out = new Float64Array((buckets + 1) * 2);
  let k = 0;
  for (let i = from; i <= to; i++) {
    let c = counts !== null ? counts[i]! : j.getCountAtIndex(i);
    if (c === 0) continue;
    if (i === maxIndex) {
      out[k++] = max;
      out[k++] = 1;
      c--;
    }
    if (c > 0) {
      // The smallest bucket's counts at the minimum itself: its lowest equivalent value may be below it.
      out[k++] = i === minIndex ? min : j.valueFromIndex(i);
      out[k++] = c;
    }
  }
  return out.subarray(0, k);
}

/** Records what trendData() carried into `h` (a histogram of newHistogram's layout). */
export function addTrendData(h: Histogram, data: Float64Array): void {
  for (let i = 0; i < data.length; i += 2) h.recordValueWithCount(data[i]!, data[i + 1]!);
}

/** Records `value` (in the metric's unit; negatives count as 0). */
export function recordValue(h: Histogram, value: number, count = 1): void {
  if (!Number.isFinite(value)) return;
  const v = Math.max(0, Math.round(value * SCALE));
  if (count === 1) h.recordValue(v);
  else if (count > 0) h.recordValueWithCount(v, Math.round(count));
}

export function encodeHistogram(h: Histogram): string {
  return encodeIntoCompressedBase64(h);
}

export function decodeHistogram(encoded: string): Histogram {
  return decodeFromCompressedBase64(encoded, "packed");
}

/**
 * The recorded values of an encoded histogram (another program's, in its own integer unit) with their counts,
 * each bucket at its lowest equivalent value as HdrHistogram's own add does across layouts: exact below 2048
 * units, within the histogram's 3 significant digits above.
 */
export function encodedValues(encoded: string): { value: number; count: number }[] {
  const h = decodeHistogram(encoded) as JsHistogram;
  const out: { value: number; count: number }[] = [];
  const it = h.recordedValuesIterator;
  it.reset();
  while (it.hasNext()) {
    const v = it.next();
    out.push({ value: h.lowestEquivalentValue(v.valueIteratedTo), count: v.countAtValueIteratedTo });
  }
  return out;
}

export type Quantiles = Omit<MetricSummary, "corrected">;

export const EMPTY_QUANTILES: Quantiles = Object.freeze({
  count: 0,
  min: 0,
  mean: 0,
  p50: 0,
  p90: 0,
  p95: 0,
  p99: 0,
  p999: 0,
  max: 0,
});

const round3 = (v: number) => Math.round(v) / SCALE;

const PERCENTILES = [50, 90, 95, 99, 99.9] as const;

/** HdrHistogram's count at a percentile: rounded up, past one ulp of floating-point noise, at least 1. */
function countAtPercentile(q: number, total: number): number {
  const fp = (Math.min(q, 100) / 100) * total;
  const ulp = fp > 0 ? 2 ** (Math.floor(Math.log2(fp)) - 52) : 0;
  return Math.max(Math.ceil(fp - ulp), 1);
}

/**
 * The summary of a histogram in the metric's unit (count 0 and zeros when empty). One pass over the counts
 * gives what getValueAtPercentile (once per percentile) and mean (an iterator) give, value for value: the
 * runner summarises every trend of every interval, and five scans plus an iterator per trend were most of its
 * main thread's time once the merge itself was cheap.
 */
export function quantiles(h: Histogram | undefined): Quantiles {
  if (!h || h.totalCount === 0) return { ...EMPTY_QUANTILES };
  const j = h as JsHistogram;
  const total = h.totalCount;
  const targets = PERCENTILES.map((q) => countAtPercentile(q, total));
  const found = [0, 0, 0, 0, 0];
  let next = 0;
  let cumulative = 0;
  let sum = 0;
  let first = -1;
  for (let i = 0, n = j.countsArrayLength; i < n; i++) {
    const c = j.getCountAtIndex(i);
    if (c === 0) continue;
    const v = j.valueFromIndex(i);
    if (first < 0) first = v;
    sum += j.medianEquivalentValue(v) * c;
    cumulative += c;
    while (next < targets.length && cumulative >= targets[next]!) found[next++] = j.highestEquivalentValue(v);
  }
  const max = round3(h.maxValue);
  // A percentile reports its bucket's highest equivalent value, which may exceed the recorded maximum.
  const p = (k: number) => Math.min(round3(found[k]!), max);
  return {
    count: total,
    // The smallest recorded value, zeros included (minNonZeroValue skips them).
    min: round3(j.lowestEquivalentValue(first) === 0 ? 0 : h.minNonZeroValue),
    mean: round3(sum / total),
    p50: p(0),
    p90: p(1),
    p95: p(2),
    p99: p(3),
    p999: p(4),
    max,
  };
}

/** A percentile in the metric's unit (never above the recorded maximum). */
export function percentile(h: Histogram, p: number): number {
  return Math.min(round3(h.getValueAtPercentile(p)), round3(h.maxValue));
}
