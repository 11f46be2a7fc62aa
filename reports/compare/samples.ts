// What `ktv compare` compares: per-interval values of each metric of a run. One value per interval (not one
// per request) because requests within a second are correlated (same load, same faults), while intervals are
// closer to independent; the rank test then asks whether the run's intervals are typically worse.

import { intervalMbps, intervalSeconds } from "../intervals.ts";
import type { RunResults } from "../read-results.ts";
import { median } from "../stats/describe.ts";
import { unitOf } from "../units.ts";

export type Direction = "higher-is-worse" | "lower-is-worse";

export interface MetricSamples {
  /** e.g. "ttfa_ms p95", "throughput", "error_rate". */
  metric: string;
  unit: string;
  direction: Direction;
  /** One value per interval that had data. */
  samples: number[];
  /** The value the change is measured on: the median of the samples, or the run's pooled rate for rates. */
  center: number | null;
  /** True when `center` is pooled over the run (a total over the run's length), not the samples' median. */
  pooled: boolean;
  /** Intervals in the run and their total length: how often this metric had a value (for sample-size advice). */
  intervals: number;
  seconds: number;
}

/** Per-interval percentiles compared for every latency-like metric. */
export const COMPARED_PERCENTILES = ["p50", "p95"] as const;

export function intervalSamples(r: RunResults): Map<string, MetricSamples> {
  const out = new Map<string, MetricSamples>();
  const seconds = intervalSeconds(r.timeseries);
  const runSeconds = seconds.reduce((a, b) => a + b, 0);
  const byMedian = (
    metric: string,
    unit: string,
    direction: Direction,
    samples: number[],
  ): MetricSamples => ({
    metric,
    unit,
    direction,
    samples,
    center: samples.length === 0 ? null : median(samples),
    pooled: false,
    intervals: r.timeseries.length,
    seconds: runSeconds,
  });
  const pooled = (m: Omit<MetricSamples, "pooled" | "intervals" | "seconds">): MetricSamples => ({
    ...m,
    pooled: true,
    intervals: r.timeseries.length,
    seconds: runSeconds,
  });
  const names = new Set(Object.keys(r.summary.metrics));
  for (const p of r.timeseries) for (const m of Object.keys(p.metrics)) names.add(m);
  // The load generator's own health (generator_*) is the harness's, not the target's: a verdict on the run,
  // shown by the report, never a regression of what was measured (and absent from older baselines).
  for (const m of names) if (m.startsWith("generator_")) names.delete(m);
  for (const name of [...names].sort()) {
    for (const q of COMPARED_PERCENTILES) {
      const samples: number[] = [];
      for (const p of r.timeseries) {
        const s = p.metrics[name];
        if (s && s.count > 0 && Number.isFinite(s[q])) samples.push(s[q]);
      }
      out.set(`${name} ${q}`, byMedian(`${name} ${q}`, unitOf(name), "higher-is-worse", samples));
    }
  }
  // Iterations of a pipeline VU last seconds and are counted when they end, so most intervals of a short run
  // hold none: the median interval says 0 it/s for a run that did 1.2. The change is measured on the run's
  // total over its length (as for errors); the rank test still runs on the per-interval values.
  const iterations = r.timeseries.reduce((a, p) => a + p.iterations, 0);
  const bytes = r.timeseries.reduce((a, p) => a + p.bytes_downloaded, 0);
  out.set(
    "throughput",
    pooled({
      metric: "throughput",
      unit: "it/s",
      direction: "lower-is-worse",
      samples: r.timeseries.map((p, i) => p.iterations / seconds[i]!),
      center: runSeconds > 0 ? iterations / runSeconds : null,
    }),
  );
  out.set(
    "download_mbps",
    pooled({
      metric: "download_mbps",
      unit: "Mb/s",
      direction: "lower-is-worse",
      samples: intervalMbps(r.timeseries),
      center: runSeconds > 0 ? (bytes * 8) / runSeconds / 1e6 : null,
    }),
  );
  // Errors are sparse (most intervals have none), so the median would hide them: the change is measured on the
  // pooled rate, errors / iterations over the run, while the rank test still runs on per-interval rates.
  const active = r.timeseries.filter((p) => p.iterations > 0);
  const errors = active.reduce((a, p) => a + p.errors, 0);
  out.set(
    "error_rate",
    pooled({
      metric: "error_rate",
      unit: "",
      direction: "higher-is-worse",
      samples: active.map((p) => p.errors / p.iterations),
      center: iterations === 0 ? null : errors / iterations,
    }),
  );
  return out;
}
