import type { Counter } from "prom-client";
import { promJson, pushHistogramSeries, type ValuePair } from "./prom-histogram-values.ts";

// Request metrics counted in plain numbers and handed to prom-client when /metrics is scraped. prom-client's
// inc()/observe() validate the labels and hash them (sort, join) on every call: with the onSend/onResponse
// hooks around them that was ~8% of the simulator's CPU per JSON call in a /top/song profile, paid per request
// for numbers read every few seconds at most. Here a request costs one string key and a Map look-up; a scrape
// rebuilds the counters from the tallies (same names, labels, values and order as before) and the latency
// histogram answers prom-client's collector interface itself (RouteHistogram below).

interface CountEntry<L extends string> {
  labels: Record<L, string>;
  n: number;
}

/** Counts by a fixed label set, flushed into a prom-client Counter whenever the counter is collected. */
export class LabelTally<L extends string> {
  private readonly entries = new Map<string, CountEntry<L>>();

  /** `key` must be a one-to-one encoding of `labels()` (the caller's cheap join of the label values). */
  add(key: string, labels: () => Record<L, string>): void {
    const e = this.entries.get(key);
    if (e) e.n++;
    else this.entries.set(key, { labels: labels(), n: 1 });
  }

  /** Replaces the counter's values by the tallies (call from the counter's `collect`). */
  flushInto(counter: Counter<L>): void {
    counter.reset();
    for (const e of this.entries.values()) counter.inc(e.labels, e.n);
  }

  clear(): void {
    this.entries.clear();
  }
}

interface Series {
  route: string;
  /** Per bucket (not cumulative), the last slot counting values above every bound. */
  counts: Float64Array;
  sum: number;
  count: number;
}

/**
 * A histogram by route with prom-client's collector interface (get / getForPromString / reset, registered with
 * registry.registerMetric): its exposition is what prom-client's Histogram<"route"> writes for the same
 * observations, bucket lines, `+Inf`, `_sum` and `_count`, series in first-seen order.
 */
export class RouteHistogram {
  readonly type = "histogram";
  readonly aggregator = "sum";
  private readonly series = new Map<string, Series>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: readonly number[],
  ) {
    for (let i = 1; i < buckets.length; i++) {
      if (!(buckets[i]! > buckets[i - 1]!)) throw new RangeError("histogram buckets must increase");
    }
  }

  observe(route: string, value: number): void {
    let s = this.series.get(route);
    if (!s) {
      s = { route, counts: new Float64Array(this.buckets.length + 1), sum: 0, count: 0 };
      this.series.set(route, s);
    }
    let i = 0;
    while (i < this.buckets.length && value > this.buckets[i]!) i++;
    s.counts[i]!++;
    s.sum += value;
    s.count++;
  }

  /** What prom-client's registry formats: bucket labels `le`, the route as a shared label. */
  getForPromString() {
    const values: ValuePair[] = [];
    for (const s of this.series.values())
      pushHistogramSeries(values, this.name, this.buckets, s, { route: s.route });
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** The JSON form (registry.getMetricsAsJSON): labels and the route merged, as prom-client's get() gives. */
  get() {
    return promJson(this.getForPromString());
  }

  reset(): void {
    this.series.clear();
  }
}
