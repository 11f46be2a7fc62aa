import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { bucketize, linearBounds, logBounds } from "./buckets.ts";
import { quantiles } from "./hdr.ts";
import { MetricSet, type Snapshot } from "./set.ts";

// HDR histograms recorded in separate worker threads, moved as their recorded buckets and added on the main
// thread, give exactly the distribution of one histogram fed every value: the merge is of the data, not of
// percentiles.

function recordIn(index: number, values: number[]): Promise<Snapshot> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL("./record-worker.fixture.mjs", import.meta.url), {
      workerData: { index, values },
    });
    w.once("message", (s: Snapshot) => {
      resolve(s);
      void w.terminate();
    });
    w.once("error", reject);
  });
}

/** A skewed latency sample: mostly fast, a long tail. */
function latencies(seed: number, n: number): number[] {
  let x = seed;
  return Array.from({ length: n }, () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const u = x / 2 ** 31;
    return Math.round((20 + 5 / (1 - u * 0.999)) * 1000) / 1000;
  });
}

describe("HDR merge across worker threads", () => {
  it("merging the workers' snapshots equals recording everything in one histogram", async () => {
    const parts = [latencies(1, 5000), latencies(2, 3000), latencies(3, 701)];
    const snapshots = await Promise.all(parts.map((values, i) => recordIn(i, values)));
    const merged = new MetricSet();
    for (const s of snapshots) merged.merge(s);
    const direct = new MetricSet();
    for (const v of parts.flat()) direct.record("ttfa_ms", v);

    const m = quantiles(merged.trends.get("ttfa_ms"));
    const d = quantiles(direct.trends.get("ttfa_ms"));
    // Same buckets, same counts: every percentile and the mean are identical.
    expect([m.count, m.mean, m.p50, m.p90, m.p95, m.p99, m.p999]).toEqual([
      d.count,
      d.mean,
      d.p50,
      d.p90,
      d.p95,
      d.p99,
      d.p999,
    ]);
    expect(m.count).toBe(8701);
    // The extremes travel exactly.
    expect(m.min).toBe(d.min);
    expect(m.max).toBe(d.max);
    expect(merged.counter("iterations")).toBe(8701);
    expect(merged.rates.get("errors")).toEqual({ trues: 2, total: 3 });
    expect(merged.errorsByCode.get("1017019")).toBe(6);
  });

  it("a percentile of the merge is not an average of the workers' percentiles", async () => {
    const fast = Array.from({ length: 900 }, () => 10);
    const slow = Array.from({ length: 100 }, () => 1000);
    const [a, b] = await Promise.all([recordIn(0, fast), recordIn(1, slow)]);
    const merged = new MetricSet();
    merged.merge(a!);
    merged.merge(b!);
    const q = quantiles(merged.trends.get("ttfa_ms"));
    expect(q.p50).toBeCloseTo(10, 1);
    expect(q.p95).toBeCloseTo(1000, -1);
  });

  it("drain empties the set; an empty trend is not sent", () => {
    const s = new MetricSet();
    s.record("ttfa_ms", 5);
    s.trend("mix_lateness_ms");
    const snap = s.drain();
    expect(Object.keys(snap.trends)).toEqual(["ttfa_ms"]);
    expect(s.empty).toBe(true);
    // The next interval starts from nothing: no count, min or max of the last one.
    s.record("ttfa_ms", 7);
    const again = new MetricSet();
    again.merge(s.drain());
    expect(quantiles(again.trends.get("ttfa_ms"))).toMatchObject({ count: 1, min: 7, max: 7 });
  });

  it("the one-pass summary equals HdrHistogram's own percentiles and mean", () => {
    for (const values of [[0], [0, 0, 5], [1e-3, 2, 2, 2, 7e5], latencies(4, 5000), latencies(5, 3)]) {
      const s = new MetricSet();
      for (const v of values) s.record("ttfa_ms", v);
      const h = s.trend("ttfa_ms");
      const max = Math.round(h.maxValue) / 1000;
      const p = (q: number) => Math.min(Math.round(h.getValueAtPercentile(q)) / 1000, max);
      expect(quantiles(h)).toEqual({
        count: values.length,
        min: Math.round(h.getValueAtPercentile(0) === 0 ? 0 : h.minNonZeroValue) / 1000,
        mean: Math.round(h.mean) / 1000,
        p50: p(50),
        p90: p(90),
        p95: p(95),
        p99: p(99),
        p999: p(99.9),
        max,
      });
    }
  });

  it("buckets, zeros, one value, and values past the initial range survive the trip unchanged", () => {
    const cases: number[][] = [
      [0, 0, 0],
      [42.5],
      [0, 0.001, 3, 3, 3, 3.0004, 99.9, 12_345.678],
      // Beyond the histogram's initial 10 s range (it grows), and an hour.
      [5, 25_000, 3_600_000],
      latencies(9, 20_000),
    ];
    for (const values of cases) {
      const direct = new MetricSet();
      for (const v of values) direct.record("mix_lateness_ms", v);
      const worker = new MetricSet();
      for (const v of values) worker.record("mix_lateness_ms", v);
      const merged = new MetricSet();
      merged.merge(worker.drain());
      const m = merged.trends.get("mix_lateness_ms")!;
      const d = direct.trends.get("mix_lateness_ms")!;
      expect(quantiles(m), String(values.slice(0, 5))).toEqual(quantiles(d));
      for (const p of [0, 10, 33, 50, 90, 99, 99.99, 100]) {
        expect(m.getValueAtPercentile(p)).toBe(d.getValueAtPercentile(p));
      }
      expect(m.minNonZeroValue).toBe(d.minNonZeroValue);
    }
  });
});

describe("bucketed export for the report", () => {
  it("counts every sample once, between the right bounds", () => {
    const s = new MetricSet();
    for (const v of [0.05, 0.3, 0.3, 1.5, 7, 7, 7, 40]) s.record("mix_lateness_ms", v);
    const b = bucketize(s.trend("mix_lateness_ms"), [0.1, 1, 10]);
    expect(b).toEqual({ bounds: [0.1, 1, 10], counts: [1, 2, 4, 1] });
  });

  it("bounds cover the data", () => {
    expect(logBounds(0.01, 26)).toEqual([0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50]);
    const lin = linearBounds(523, 40);
    expect(lin).toHaveLength(40);
    expect(lin.at(-1)!).toBeGreaterThanOrEqual(523);
    expect(lin[0]).toBe(lin[1]! - lin[0]!);
  });
});
