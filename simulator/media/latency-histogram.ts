// The relay latency histogram (ktv_media_relay_latency_seconds), counted in a typed array per relayed frame and
// handed to prom-client only when /metrics is scraped. prom-client's Histogram.observe() builds a closure, a
// label object and a label hash for every call: on rooms-250 (~12,500 frames/s into the relay) that was 2.4% of
// the simulator thread's CPU (+1.2% in its callees) for a number read every few seconds at most. Here a frame
// costs a bucket search over 12 bounds, one increment, one add.
//
// The collector interface (get / getForPromString / reset, registered with registry.registerMetric) writes what
// prom-client's unlabelled Histogram writes for the same observations: bucket lines (`le` inclusive,
// cumulative), `+Inf`, `_sum` (added in observation order, so the same float) and `_count`; no series at all
// until the first observation and after a reset, as prom-client does. latency-histogram.test.ts compares both.

import { promJson, pushHistogramSeries, type ValuePair } from "../ops/prom-histogram-values.ts";

const NO_LABELS: Record<string, string> = Object.freeze({}) as Record<string, string>;

export class LocalHistogram {
  readonly type = "histogram";
  readonly aggregator = "sum";
  private readonly bounds: Float64Array;
  /** Per bucket, not cumulative; the last slot counts values above every bound. */
  private readonly counts: Float64Array;
  private sum = 0;
  private count = 0;
  /** prom-client shows an unlabelled histogram from construction until reset(), then again from an observe(). */
  private present = true;

  constructor(
    readonly name: string,
    readonly help: string,
    buckets: readonly number[],
  ) {
    for (let i = 1; i < buckets.length; i++) {
      if (!(buckets[i]! > buckets[i - 1]!)) throw new RangeError("histogram buckets must increase");
    }
    this.bounds = Float64Array.from(buckets);
    this.counts = new Float64Array(buckets.length + 1);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > b[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
    this.present = true;
  }

  /** Observations so far (since the last reset). */
  get observations(): number {
    return this.count;
  }

  getForPromString() {
    const values: ValuePair[] = [];
    const { counts, sum, count } = this;
    if (this.present) pushHistogramSeries(values, this.name, this.bounds, { counts, sum, count }, NO_LABELS);
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** The JSON form (registry.getMetricsAsJSON), as prom-client's get() gives it. */
  get() {
    return promJson(this.getForPromString());
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
    this.present = false;
  }
}
