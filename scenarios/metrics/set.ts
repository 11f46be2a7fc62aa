import type { Histogram } from "hdr-histogram-js";
import { addTrendData, newHistogram, recordValue, trendData } from "./hdr.ts";

// A set of samples: trends (HDR histograms), counters, rates and the error codes met, keyed by series
// (metric name plus sorted tags, catalog.ts seriesKey). A worker records into one and drains it every
// interval into a Snapshot (plain, structured-cloneable, each histogram as its recorded buckets, hdr.ts
// trendData); the main thread merges the workers' snapshots into the interval's set and the run's.

export interface RateCount {
  trues: number;
  total: number;
}

export interface Snapshot {
  /** Each trend's recorded buckets (hdr.ts trendData); empty trends are left out. */
  trends: Record<string, Float64Array>;
  counters: Record<string, number>;
  rates: Record<string, RateCount>;
  errorsByCode: Record<string, number>;
}

export class MetricSet {
  readonly trends = new Map<string, Histogram>();
  readonly counters = new Map<string, number>();
  readonly rates = new Map<string, RateCount>();
  readonly errorsByCode = new Map<string, number>();

  trend(key: string): Histogram {
    let h = this.trends.get(key);
    if (!h) {
      h = newHistogram();
      this.trends.set(key, h);
    }
    return h;
  }

  /** One sample of a trend, in the metric's unit. */
  record(key: string, value: number, count = 1): void {
    recordValue(this.trend(key), value, count);
  }

  add(key: string, n = 1): void {
    if (n === 0) return;
    this.counters.set(key, (this.counters.get(key) ?? 0) + n);
  }

  counter(key: string): number {
    return this.counters.get(key) ?? 0;
  }

  /** One sample of a rate: `hit` counts toward the share. */
  rate(key: string, hit: boolean): void {
    const r = this.rates.get(key) ?? { trues: 0, total: 0 };
    r.total++;
    if (hit) r.trues++;
    this.rates.set(key, r);
  }

  /** An error code met during an iteration (recovered or not). */
  error(code: string | number, n = 1): void {
    const k = String(code);
    this.errorsByCode.set(k, (this.errorsByCode.get(k) ?? 0) + n);
  }

  get empty(): boolean {
    for (const h of this.trends.values()) if (h.totalCount > 0) return false;
    return this.counters.size === 0 && this.rates.size === 0 && this.errorsByCode.size === 0;
  }

  /** Everything recorded, encoded; the set is left empty (its histograms kept, zeroed, for the next interval). */
  drain(): Snapshot {
    const s = this.snapshot();
    for (const h of this.trends.values()) h.reset();
    this.counters.clear();
    this.rates.clear();
    this.errorsByCode.clear();
    return s;
  }

  snapshot(): Snapshot {
    const trends: Record<string, Float64Array> = {};
    for (const [k, h] of this.trends) {
      const data = trendData(h);
      if (data) trends[k] = data;
    }
    return {
      trends,
      counters: Object.fromEntries(this.counters),
      rates: Object.fromEntries([...this.rates].map(([k, r]) => [k, { ...r }])),
      errorsByCode: Object.fromEntries(this.errorsByCode),
    };
  }

  /** Adds a snapshot (another worker's, another interval's). */
  merge(s: Snapshot): void {
    for (const [k, data] of Object.entries(s.trends)) addTrendData(this.trend(k), data);
    this.mergeCounts(s);
  }

  /** Adds another set directly (same thread: no encoding). */
  mergeSet(o: MetricSet): void {
    for (const [k, h] of o.trends) this.trend(k).add(h);
    this.mergeCounts({
      trends: {},
      counters: Object.fromEntries(o.counters),
      rates: Object.fromEntries(o.rates),
      errorsByCode: Object.fromEntries(o.errorsByCode),
    });
  }

  private mergeCounts(s: Snapshot): void {
    for (const [k, n] of Object.entries(s.counters)) this.add(k, n);
    for (const [k, r] of Object.entries(s.rates)) {
      const mine = this.rates.get(k) ?? { trues: 0, total: 0 };
      mine.trues += r.trues;
      mine.total += r.total;
      this.rates.set(k, mine);
    }
    for (const [k, n] of Object.entries(s.errorsByCode)) this.error(k, n);
  }
}
