// Interval geometry of a time series, shared by the report (rates per second) and compare (per-interval rates).

import type { RunSummary, TimeseriesPoint } from "./format.ts";
import { median } from "./stats/describe.ts";

/** Each interval's length in seconds, from consecutive `elapsed_s` (the first from its own elapsed_s). */
export function intervalSeconds(ts: readonly TimeseriesPoint[]): number[] {
  const typical = ts.length > 1 ? median(ts.slice(1).map((p, i) => p.elapsed_s - ts[i]!.elapsed_s)) : 1;
  return ts.map((p, i) => {
    const d = i === 0 ? p.elapsed_s : p.elapsed_s - ts[i - 1]!.elapsed_s;
    return d > 0 ? d : typical > 0 ? typical : 1;
  });
}

/** Download bandwidth of each interval in Mb/s (10^6 bits per second). */
export function intervalMbps(ts: readonly TimeseriesPoint[]): number[] {
  const secs = intervalSeconds(ts);
  return ts.map((p, i) => (p.bytes_downloaded * 8) / secs[i]! / 1e6);
}

/** Index of the first value >= v in an ascending array (its length when none): the interval a time falls in. */
export function firstAtLeast(xs: readonly number[], v: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** When the run started, ms since epoch: summary.started_at, else back from the first interval's end. */
export function runStartMs(summary: Pick<RunSummary, "started_at">, ts: readonly TimeseriesPoint[]): number {
  const parsed = Date.parse(summary.started_at);
  if (Number.isFinite(parsed)) return parsed;
  const first = ts[0];
  return first ? first.t - first.elapsed_s * 1000 : 0;
}
