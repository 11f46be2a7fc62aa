import type { MetricSummary, TimeseriesPoint } from "../../reports/format.ts";
import { metricInfo, SUMMARY_TRENDS, TRENDS_WITH_CORRECTION } from "../metrics/catalog.ts";
import { quantiles } from "../metrics/hdr.ts";
import type { MetricSet } from "../metrics/set.ts";

// From merged samples to the results format: one timeseries.ndjson point per interval, and summary.json's
// metrics (every trend of SUMMARY_TRENDS, zeros when a scenario never exercised it; in the open model each
// correctable trend also carries `corrected`, measured from the iterations' intended starts).

/** A corrected trend's name in the time series: ttfa_ms{corrected:true} -> ttfa_corrected_ms. */
export function seriesName(key: string): string {
  const m = /^(.*)_(ms|us)\{corrected:true\}$/.exec(key);
  return m ? `${m[1]}_corrected_${m[2]}` : key;
}

export function timeseriesPoint(
  set: MetricSet,
  o: { t: number; elapsedS: number; vus: number },
): TimeseriesPoint {
  const metrics: TimeseriesPoint["metrics"] = {};
  for (const [key, h] of set.trends) {
    if (h.totalCount === 0) continue;
    const q = quantiles(h);
    metrics[seriesName(key)] = { count: q.count, p50: q.p50, p95: q.p95, p99: q.p99, max: q.max };
  }
  return {
    t: Math.round(o.t),
    elapsed_s: Math.round(o.elapsedS * 1000) / 1000,
    vus: o.vus,
    iterations: set.counter("iterations"),
    errors: set.rates.get("errors")?.trues ?? 0,
    errors_by_code: Object.fromEntries(set.errorsByCode),
    bytes_downloaded: set.counter("bytes_downloaded"),
    billable_requests: set.counter("billable_requests"),
    mix_frames: set.counter("mix_frames"),
    mix_late_frames: set.counter("mix_late_frames"),
    ...{ dropped_iterations: set.counter("dropped_iterations") },
    metrics,
  };
}

export function summaryMetrics(set: MetricSet, openModel: boolean): Record<string, MetricSummary> {
  const out: Record<string, MetricSummary> = {};
  for (const name of SUMMARY_TRENDS) {
    const s: MetricSummary = quantiles(set.trends.get(name));
    if (openModel && (TRENDS_WITH_CORRECTION as readonly string[]).includes(name)) {
      s.corrected = quantiles(set.trends.get(`${name}{corrected:true}`));
    }
    out[name] = s;
  }
  return out;
}

/** Counters of the catalog that are not already summary.json fields, by name (tagged ones grouped). */
export function extraCounters(set: MetricSet): Record<string, number | Record<string, number>> {
  const out: Record<string, number | Record<string, number>> = {};
  for (const [key, n] of set.counters) {
    const m = /^([a-z_]+)\{([a-z_]+):([^}]+)\}$/.exec(key);
    if (m) {
      const group = (out[m[1]!] ?? {}) as Record<string, number>;
      group[m[3]!] = (group[m[3]!] ?? 0) + n;
      out[m[1]!] = group;
    } else if (metricInfo(key)?.type === "counter") out[key] = n;
  }
  return out;
}
