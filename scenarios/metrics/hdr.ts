import {
  build,
  decodeFromCompressedBase64,
  encodeIntoCompressedBase64,
  type Histogram,
  type JsHistogram,
} from "hdr-histogram-js";
import type { MetricSummary } from "../../reports/format.ts";

// HDR histograms of the run's trends. Values are stored as integers in thousandths of the metric's unit (µs
// for *_ms, ns for *_us), 3 significant digits, resizing instead of dropping an outlier. Workers send them
// to the main thread encoded (compressed base64), where they are decoded and added: the merge is exact, not
// an average of percentiles.

export const SCALE = 1000;

export function newHistogram(): Histogram {
  return build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3,
    autoResize: true,
    bitBucketSize: "packed",
  });
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

/** The summary of a histogram in the metric's unit (count 0 and zeros when empty). */
export function quantiles(h: Histogram | undefined): Quantiles {
  if (!h || h.totalCount === 0) return { ...EMPTY_QUANTILES };
  const max = round3(h.maxValue);
  // A percentile reports its bucket's highest equivalent value, which may exceed the recorded maximum.
  const p = (q: number) => Math.min(round3(h.getValueAtPercentile(q)), max);
  return {
    count: h.totalCount,
    min: round3(minValue(h)),
    mean: round3(h.mean),
    p50: p(50),
    p90: p(90),
    p95: p(95),
    p99: p(99),
    p999: p(99.9),
    max,
  };
}

/** The smallest recorded value, zeros included (minNonZeroValue skips them). */
function minValue(h: Histogram): number {
  return h.getValueAtPercentile(0) === 0 ? 0 : h.minNonZeroValue;
}

/** A percentile in the metric's unit (never above the recorded maximum). */
export function percentile(h: Histogram, p: number): number {
  return Math.min(round3(h.getValueAtPercentile(p)), round3(h.maxValue));
}
