// The report's plots as data: what each chart shows, its axes, series and values. Built here (pure, tested)
// and drawn in the page by client.js with uPlot, which only maps these specs onto uPlot options.

import type { HistogramBuckets, MetricSummary } from "../format.ts";
import { firstAtLeast, intervalMbps, intervalSeconds, runStartMs } from "../intervals.ts";
import type { RunResults } from "../read-results.ts";
import { type FaultTrack, faultCounts, faultTracks } from "./faults.ts";
import { billingModeName, codeInfo, metricTitle, STAGES, vendorName } from "./names.ts";

export interface SeriesSpec {
  label: string;
  color: string;
  /** "y" (left, default) or "y2" (right). */
  axis?: "y" | "y2";
  style?: "line" | "step" | "points" | "bars";
  dash?: number[];
  /** Draw point markers on a line (sparse data). */
  points?: boolean;
}

export interface AxisSpec {
  label: string;
  log?: boolean;
}

export interface ChartSpec {
  id: string;
  section: string;
  title: string;
  note?: string;
  x: AxisSpec & { kind: "time" | "value" | "category"; categories?: string[] };
  y: AxisSpec;
  y2?: AxisSpec;
  series: SeriesSpec[];
  /** Aligned columns: data[0] is x, data[i] the values of series[i - 1] (null = no value). */
  data: (number | null)[][];
  /** Bar series side by side per category ("grouped") or each at the category centre ("overlap"). */
  bars?: "grouped" | "overlap";
  /** Shade the fault spans (time charts). */
  faults?: boolean;
  /** Nothing to plot: the page shows this sentence instead of an empty frame. */
  empty?: string;
}

export interface ReportData {
  charts: ChartSpec[];
  faults: FaultTrack[];
}

export const COLORS = {
  blue: "#4e79a7",
  orange: "#f28e2b",
  red: "#e15759",
  teal: "#76b7b2",
  green: "#59a14f",
  yellow: "#edc948",
  purple: "#b07aa1",
  pink: "#ff9da7",
  brown: "#9c755f",
  grey: "#8a8580",
};
const PALETTE = Object.values(COLORS);
const PCT_SERIES = [
  { q: "p50", color: COLORS.blue },
  { q: "p95", color: COLORS.orange },
  { q: "p99", color: COLORS.red },
] as const;
const TIME_AXIS = { label: "time since start (s)", kind: "time" as const };
const MAX_CODE_SERIES = 6;

export function buildCharts(r: RunResults): ReportData {
  const startMs = runStartMs(r.summary, r.timeseries);
  const faults = faultTracks(r.faultEvents, startMs, r.summary.duration_s);
  const xs = r.timeseries.map((p) => p.elapsed_s);
  const charts: ChartSpec[] = [
    throughput(r, xs),
    errorsByCode(r, xs),
    ...STAGES.map((m) => stageLatency(r, xs, m)),
    ttfaDistribution(r),
    latenessHistogram(r),
    latenessOverTime(r, xs),
    stageLatency(r, xs, "mix_cost_us", "mixing"),
    // Results from before the generator's self-watch have no such series, and no such chart.
    ...(r.timeseries.some((p) => p.metrics.generator_elu) ? [generatorHealth(r, xs)] : []),
    ...(r.timeseries.some((p) => p.metrics.generator_thread_cpu) ? [threadCpu(r, xs)] : []),
    bandwidth(r, xs),
    billingMix(r),
    billingOverTime(r, xs, startMs),
    faultTimeline(r, xs, startMs, faults),
  ];
  return { charts, faults };
}

function throughput(r: RunResults, xs: number[]): ChartSpec {
  const secs = intervalSeconds(r.timeseries);
  return withEmpty(xs, "the run recorded no intervals", {
    id: "throughput",
    section: "throughput",
    title: "Throughput and errors",
    note: "Song-start iterations and failed iterations per second; virtual users on the right axis.",
    x: TIME_AXIS,
    y: { label: "iterations, errors (1/s)" },
    y2: { label: "virtual users" },
    series: [
      { label: "iterations/s", color: COLORS.blue },
      { label: "errors/s", color: COLORS.red },
      { label: "virtual users", color: COLORS.grey, axis: "y2", dash: [6, 4] },
    ],
    data: [
      xs,
      r.timeseries.map((p, i) => p.iterations / secs[i]!),
      r.timeseries.map((p, i) => p.errors / secs[i]!),
      r.timeseries.map((p) => p.vus),
    ],
    faults: true,
  });
}

function errorsByCode(r: RunResults, xs: number[]): ChartSpec {
  const secs = intervalSeconds(r.timeseries);
  const totals = Object.entries(r.summary.counters.errors_by_code).sort((a, b) => b[1] - a[1]);
  const shown = totals.slice(0, MAX_CODE_SERIES).map(([c]) => c);
  const series: SeriesSpec[] = shown.map((code, i) => ({
    label: codeInfo(code) ? `${code} ${codeInfo(code)!.name}` : `code ${code}`,
    color: [COLORS.red, COLORS.orange, COLORS.purple, COLORS.brown, COLORS.pink, COLORS.yellow][i]!,
    points: true,
  }));
  const data: (number | null)[][] = [
    xs,
    ...shown.map((code) => r.timeseries.map((p, i) => (p.errors_by_code[code] ?? 0) / secs[i]!)),
  ];
  if (totals.length > shown.length) {
    series.push({ label: "other codes", color: COLORS.grey, points: true });
    data.push(
      r.timeseries.map((p, i) => {
        const other = Object.entries(p.errors_by_code).filter(([c]) => !shown.includes(c));
        return other.reduce((a, [, n]) => a + n, 0) / secs[i]!;
      }),
    );
  }
  return withEmpty(shown.length === 0 ? [] : xs, "no errors in this run", {
    id: "errors-by-code",
    section: "throughput",
    title: "Errors by code",
    note: "Failed calls per second for the most frequent vendor codes.",
    x: TIME_AXIS,
    y: { label: "errors/s" },
    series,
    data,
    faults: true,
  });
}

function stageLatency(r: RunResults, xs: number[], metric: string, section = "latency"): ChartSpec {
  const unit = metric.endsWith("_us") ? "µs" : "ms";
  const has = r.timeseries.some((p) => p.metrics[metric]);
  return withEmpty(has ? xs : [], `no ${metric} samples in this run`, {
    id: `latency-${metric}`,
    section,
    title: `${metricTitle(metric)} (${metric}) per second`,
    note: "Percentiles of each one-second interval.",
    x: TIME_AXIS,
    y: { label: `${metric} (${unit})` },
    series: PCT_SERIES.map(({ q, color }) => ({ label: q, color })),
    data: [xs, ...PCT_SERIES.map(({ q }) => r.timeseries.map((p) => p.metrics[metric]?.[q] ?? null))],
    faults: true,
  });
}

/** The load generator's own health per second: is what the other charts show the target, or the harness? */
function generatorHealth(r: RunResults, xs: number[]): ChartSpec {
  const col = (metric: string) => r.timeseries.map((p) => p.metrics[metric]?.max ?? null);
  const rules = r.summary.generator?.rules;
  return {
    id: "generator",
    section: "mixing",
    title: "Load generator health per second",
    note: `The busiest worker's event-loop utilisation, the process's CPU and, in embedded runs, the simulator thread's own event-loop utilisation (the target's load, not the generator's) (left, 0–1), and the worst worker clock lag p99 (right).${rules ? ` Held ${rules.sustain_s} s at ELU ≥ ${rules.elu}, lag p99 ≥ ${rules.clock_lag_p99_ms} ms or CPU ≥ ${rules.process_cpu}, the generator counts as saturated.` : ""}`,
    x: TIME_AXIS,
    y: { label: "utilisation, CPU share" },
    y2: { label: "clock lag p99 (ms)" },
    series: [
      { label: "worker ELU (max)", color: COLORS.purple },
      { label: "process CPU (share of cores)", color: COLORS.teal },
      { label: "embedded simulator ELU", color: COLORS.green },
      { label: "worker clock lag p99 (ms)", color: COLORS.red, axis: "y2", dash: [6, 4] },
    ],
    data: [xs, col("generator_elu"), col("generator_cpu"), col("target_elu"), col("generator_clock_lag_ms")],
    faults: true,
  };
}

/**
 * CPU per thread per second, in cores: who spent the machine. ELU says a thread was busy, not that the OS ran it:
 * three busy threads (two workers and an embedded simulator) on two cores all show ELU near 1, and only their CPU
 * says whose work grew or shrank, and whether the target (the simulator thread) or the harness took the cores.
 */
function threadCpu(r: RunResults, xs: number[]): ChartSpec {
  const col = (metric: string, q: "max" | "p50") => r.timeseries.map((p) => p.metrics[metric]?.[q] ?? null);
  const cores = r.summary.generator?.cores ?? null;
  const whole = r.timeseries.map((p) => {
    const v = p.metrics.generator_cpu?.max;
    return v === undefined || cores === null ? null : v * cores;
  });
  return {
    id: "thread-cpu",
    section: "mixing",
    title: "CPU by thread per second",
    note: `User + system CPU of each thread in cores (Linux /proc): the busiest and the median worker, the embedded simulator thread (the target's own work, when it shares the machine), and the whole process${cores === null ? "" : ` (of ${cores} cores)`}.`,
    x: TIME_AXIS,
    y: { label: "CPU (cores)" },
    series: [
      { label: "busiest worker", color: COLORS.purple },
      { label: "median worker", color: COLORS.blue, dash: [6, 4] },
      { label: "embedded simulator thread", color: COLORS.green },
      { label: "whole process", color: COLORS.teal },
    ],
    data: [
      xs,
      col("generator_thread_cpu", "max"),
      col("generator_thread_cpu", "p50"),
      col("target_cpu", "max"),
      whole,
    ],
    faults: true,
  };
}

function ttfaDistribution(r: RunResults): ChartSpec {
  const sources: { label: string; color: string; dash?: number[]; points: [number, number][] }[] = [];
  const hist = r.summary.histograms?.ttfa_ms;
  if (hist) sources.push({ label: "all song starts (histogram)", color: COLORS.blue, points: cdfOf(hist) });
  const m = r.summary.metrics.ttfa_ms;
  if (m && m.count > 0) {
    sources.push({ label: "percentiles, raw", color: COLORS.orange, points: percentilePoints(m) });
    if (m.corrected && m.corrected.count > 0) {
      sources.push({
        label: "percentiles, from intended start",
        color: COLORS.red,
        dash: [6, 4],
        points: percentilePoints(m.corrected),
      });
    }
  }
  const x = [...new Set(sources.flatMap((s) => s.points.map(([v]) => v)))].sort((a, b) => a - b);
  return withEmpty(sources.length === 0 ? [] : x, "no ttfa_ms samples in this run", {
    id: "ttfa-cdf",
    section: "distribution",
    title: "Time to first audio: cumulative distribution",
    note: hist
      ? "Share of song starts at or below each TTFA, from the run's histogram; summary percentiles as points."
      : "Share of song starts at or below each TTFA, from the summary percentiles (no histogram recorded).",
    x: { label: "ttfa_ms (ms)", kind: "value" },
    y: { label: "song starts at or below (%)" },
    series: sources.map((s) => ({ label: s.label, color: s.color, dash: s.dash, points: true })),
    data: [
      x,
      ...sources.map((s) => {
        const at = new Map(s.points);
        return x.map((v) => at.get(v) ?? null);
      }),
    ],
  });
}

function latenessHistogram(r: RunResults): ChartSpec {
  const hist = r.summary.histograms?.mix_lateness_ms;
  const deadline = r.summary.mix_frame_ms;
  const labels = hist ? bucketLabels(hist.bounds) : [];
  // A bucket is a miss when all of it is at or past the deadline (its lower bound is).
  const missed = (i: number) => deadline !== undefined && i > 0 && hist!.bounds[i - 1]! >= deadline;
  const counts = hist?.counts ?? [];
  return withEmpty(hist ? labels.map((_, i) => i) : [], "the run recorded no mix_lateness_ms histogram", {
    id: "mix-lateness-hist",
    section: "mixing",
    title: "Mix lateness histogram",
    note:
      deadline !== undefined
        ? `Frames by how late their mix started (ms). Red: the frame missed its ${deadline} ms deadline.`
        : "Frames by how late their mix started (ms).",
    x: { label: "lateness bucket (ms)", kind: "category", categories: labels },
    y: { label: "frames (log scale)", log: true },
    series: [
      { label: "on time", color: COLORS.blue, style: "bars" },
      { label: "missed the deadline", color: COLORS.red, style: "bars" },
    ],
    bars: "overlap",
    data: [
      labels.map((_, i) => i),
      counts.map((c, i) => (missed(i) || c === 0 ? null : c)),
      counts.map((c, i) => (missed(i) && c > 0 ? c : null)),
    ],
  });
}

function latenessOverTime(r: RunResults, xs: number[]): ChartSpec {
  const has = r.timeseries.some((p) => p.metrics.mix_lateness_ms);
  const deadline = r.summary.mix_frame_ms;
  return withEmpty(has ? xs : [], "no mix_lateness_ms samples in this run", {
    id: "mix-lateness-time",
    section: "mixing",
    title: "Mix lateness and deadline misses per second",
    note:
      "p99 and worst lateness per second (left); frames that missed their deadline" +
      (deadline !== undefined ? ` (started ${deadline} ms or more late)` : "") +
      " per second (right, bars).",
    x: TIME_AXIS,
    y: { label: "mix_lateness_ms (ms)" },
    y2: { label: "late frames/s" },
    series: [
      { label: "p99", color: COLORS.orange },
      { label: "max", color: COLORS.purple },
      { label: "late frames", color: COLORS.red, axis: "y2", style: "bars" },
    ],
    bars: "overlap",
    data: [
      xs,
      r.timeseries.map((p) => p.metrics.mix_lateness_ms?.p99 ?? null),
      r.timeseries.map((p) => p.metrics.mix_lateness_ms?.max ?? null),
      r.timeseries.map((p) => p.mix_late_frames ?? null),
    ],
    faults: true,
  });
}

function bandwidth(r: RunResults, xs: number[]): ChartSpec {
  const mbps = intervalMbps(r.timeseries);
  const avg =
    r.summary.duration_s > 0 ? (r.summary.counters.bytes_downloaded * 8) / r.summary.duration_s / 1e6 : 0;
  return withEmpty(xs, "the run recorded no intervals", {
    id: "bandwidth",
    section: "bandwidth",
    title: "Download bandwidth",
    note: "Bytes downloaded from the CDN per interval, in megabits per second (10^6 bit/s).",
    x: TIME_AXIS,
    y: { label: "download (Mb/s)" },
    series: [
      { label: "download Mb/s", color: COLORS.teal },
      { label: "run average", color: COLORS.grey, dash: [6, 4] },
    ],
    data: [xs, mbps, xs.map(() => avg)],
    faults: true,
  });
}

function billingMix(r: RunResults): ChartSpec {
  const rows = r.ledger.rows;
  const modes = [...new Set(rows.map((row) => String(row.billing_mode)))].sort();
  const vendors = [...new Set(rows.map((row) => String(row.vendor_id)))].sort();
  const counts = new Map<string, number>();
  for (const row of rows) {
    const k = `${row.billing_mode}/${row.vendor_id}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const partial = rows.length < r.ledger.totals.billable;
  return withEmpty(
    modes.map((_, i) => i),
    "no billable requests in this run",
    {
      id: "billing-mix",
      section: "billing",
      title: "Billable requests by billing mode and vendor",
      note: partial
        ? `From the ${rows.length} ledger rows in the file (the ledger counted ${r.ledger.totals.billable}).`
        : "One ledger row per successful requestResource, by billing mode and copyright vendor.",
      x: { label: "billing mode", kind: "category", categories: modes.map(billingModeName) },
      y: { label: "billable requests (count)" },
      series: vendors.map((v, i) => ({
        label: vendorName(v),
        color: PALETTE[i % PALETTE.length]!,
        style: "bars",
      })),
      bars: "grouped",
      data: [
        modes.map((_, i) => i),
        ...vendors.map((v) => modes.map((m) => counts.get(`${m}/${v}`) ?? null)),
      ],
    },
  );
}

function billingOverTime(r: RunResults, xs: number[], startMs: number): ChartSpec {
  const modes = [...new Set(r.ledger.rows.map((row) => String(row.billing_mode)))].sort();
  const secs = intervalSeconds(r.timeseries);
  const perMode = new Map(modes.map((m) => [m, xs.map(() => 0)]));
  for (const row of r.ledger.rows) {
    const s = (row.time - startMs) / 1000;
    const i = firstAtLeast(xs, s);
    if (i < xs.length && s >= 0) perMode.get(String(row.billing_mode))![i]!++;
  }
  return withEmpty(modes.length === 0 ? [] : xs, "no billable requests in this run", {
    id: "billing-time",
    section: "billing",
    title: "Billable requests per second by billing mode",
    note: "Ledger rows per second, by the billing mode they were charged under.",
    x: TIME_AXIS,
    y: { label: "billable requests/s" },
    series: modes.map((m, i) => ({
      label: billingModeName(m),
      color: PALETTE[i % PALETTE.length]!,
      style: "step",
    })),
    data: [xs, ...modes.map((m) => perMode.get(m)!.map((n, i) => n / secs[i]!))],
    faults: true,
  });
}

function faultTimeline(r: RunResults, xs: number[], startMs: number, tracks: FaultTrack[]): ChartSpec {
  const counts = faultCounts(r.faultEvents, startMs, xs);
  const secs = intervalSeconds(r.timeseries);
  return withEmpty(tracks.length === 0 ? [] : xs, "no faults were injected during this run", {
    id: "fault-timeline",
    section: "faults",
    title: "Injected faults per second",
    note: "Requests hit by each fault (from fault-events.ndjson); the shaded spans on every time plot are these.",
    x: TIME_AXIS,
    y: { label: "faulted requests/s" },
    series: tracks.map((t) => ({ label: `${t.fault_id} (${t.kind})`, color: t.color, style: "step" })),
    data: [xs, ...tracks.map((t) => (counts.get(t.fault_id) ?? xs.map(() => 0)).map((n, i) => n / secs[i]!))],
    faults: true,
  });
}

/** Cumulative percentage at each bucket's upper bound (the overflow bucket ends at 100% past the last bound). */
export function cdfOf(h: HistogramBuckets): [number, number][] {
  const total = h.counts.reduce((a, b) => a + b, 0);
  if (total === 0) return [];
  let cum = 0;
  const out: [number, number][] = [];
  for (const [i, b] of h.bounds.entries()) {
    cum += h.counts[i] ?? 0;
    out.push([b, (cum / total) * 100]);
    // Past 100% the curve is flat: stop, so empty top buckets do not stretch the axis.
    if (cum === total) break;
  }
  return out;
}

function percentilePoints(m: Omit<MetricSummary, "corrected">): [number, number][] {
  return [
    [m.min, 0],
    [m.p50, 50],
    [m.p90, 90],
    [m.p95, 95],
    [m.p99, 99],
    [m.p999, 99.9],
    [m.max, 100],
  ];
}

export function bucketLabels(bounds: number[]): string[] {
  return [...bounds.map((b, i) => (i === 0 ? `≤ ${b}` : `${bounds[i - 1]}–${b}`)), `> ${bounds.at(-1) ?? 0}`];
}

function withEmpty(xs: readonly number[], why: string, spec: ChartSpec): ChartSpec {
  return xs.length === 0 ? { ...spec, data: [[]], empty: why } : spec;
}
