import { hostname } from "node:os";
import type { MetricSummary, RunSummary, ThresholdResult, TimeseriesPoint } from "../../reports/format.ts";
import { RESULTS_FORMAT } from "../../reports/format.ts";
import { type K6MetricLine, type K6MetricType, readK6Json, type Tags } from "../metrics/k6-json.ts";
import { capacityModel } from "../run/capacity.ts";
import type { RunEnvironment } from "../run/environment.ts";
import type { ResultFiles } from "../run/results.ts";
import { compare, parseExpression } from "../thresholds/parser.ts";
import { MergeError } from "./merge-runs.ts";

// `ktv merge` of k6 JSON output (a real k6's `--out json=`, or `ktv k6 --out json=`): N instances' points, kept
// as raw samples, so every figure is what one k6 would have computed had it recorded all of them: a trend's
// percentiles by k6's own rule over every sample (metrics/sink.go TrendSink.P: sorted values, linear
// interpolation between the two nearest ranks), counters summed, rates as trues over samples, a gauge's value
// its latest point; rates per second over the merged real span (earliest point to latest). Thresholds are
// evaluated on the merged samples: those the Metric lines carry (k6 writes a metric's own thresholds there,
// never a submetric's), or the `thresholds` given (`ktv merge --thresholds file.json`), which replace them.
//
// Memory: 20 bytes per point (time, value, an index into the interned tag sets).

interface Series {
  type: K6MetricType;
  contains: string;
  times: Float64Array;
  values: Float64Array;
  tagIds: Uint32Array;
  /** Which input each point came from (gauges: each instance's own latest value). */
  inputs: Uint16Array;
  n: number;
}

class Points {
  readonly series = new Map<string, Series>();
  readonly tagSets: Tags[] = [];
  private readonly tagIndex = new Map<string, number>();
  readonly thresholds = new Map<string, { sources: string[]; from: string }>();
  readonly submetrics = new Map<string, Set<string>>();
  tMin = Number.POSITIVE_INFINITY;
  tMax = Number.NEGATIVE_INFINITY;
  /** The k6-operator's `instance_id` tags (1..parallelism, one per runner) each input's points carry. */
  readonly instanceIds: Set<string>[] = [];

  declare(line: K6MetricLine, source: string): void {
    const had = this.series.get(line.name);
    if (had && had.type !== line.type) {
      throw new MergeError(
        `${source}: metric "${line.name}" is a ${line.type} there and a ${had.type} in an earlier input: not the same script`,
      );
    }
    if (!had) {
      this.series.set(line.name, {
        type: line.type,
        contains: line.contains,
        times: new Float64Array(64),
        values: new Float64Array(64),
        tagIds: new Uint32Array(64),
        inputs: new Uint16Array(64),
        n: 0,
      });
    }
    const t = this.thresholds.get(line.name);
    if (t && t.sources.join("\n") !== line.thresholds.join("\n")) {
      throw new MergeError(
        `${source}: metric "${line.name}" has thresholds ${JSON.stringify(line.thresholds)}, ${t.from} had ${JSON.stringify(t.sources)}: not the same script`,
      );
    }
    if (!t) this.thresholds.set(line.name, { sources: line.thresholds, from: source });
    for (const s of line.submetrics ?? []) {
      const set = this.submetrics.get(line.name) ?? new Set();
      set.add(s.name);
      this.submetrics.set(line.name, set);
    }
  }

  add(metric: string, time: number, value: number, tags: Tags, input: number): void {
    const s = this.series.get(metric)!;
    if (s.n === s.values.length) {
      const grow = <T extends Float64Array | Uint32Array | Uint16Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(a.length * 2);
        b.set(a);
        return b;
      };
      s.times = grow(s.times);
      s.values = grow(s.values);
      s.tagIds = grow(s.tagIds);
      s.inputs = grow(s.inputs);
    }
    const key = JSON.stringify(tags);
    let id = this.tagIndex.get(key);
    if (id === undefined) {
      id = this.tagSets.length;
      this.tagSets.push(tags);
      this.tagIndex.set(key, id);
    }
    if (tags.instance_id !== undefined) {
      const ids = this.instanceIds[input] ?? new Set<string>();
      ids.add(tags.instance_id);
      this.instanceIds[input] = ids;
    }
    s.times[s.n] = time;
    s.values[s.n] = value;
    s.tagIds[s.n] = id;
    s.inputs[s.n] = input;
    s.n++;
    if (time < this.tMin) this.tMin = time;
    if (time > this.tMax) this.tMax = time;
  }
}

/** `name{tag:value,...}` as the name and its tag filters. */
function parseKey(key: string): { name: string; tags: [string, string][] } {
  const m = /^([^{}\s]+)(?:\{([^}]*)\})?$/.exec(key.trim());
  if (!m) throw new MergeError(`"${key}" is not a metric key (name or name{tag:value,...})`);
  const tags: [string, string][] = [];
  for (const part of m[2] ? m[2].split(",") : []) {
    const i = part.indexOf(":");
    if (i <= 0) throw new MergeError(`"${key}": "${part}" is not a tag filter (tag:value)`);
    tags.push([part.slice(0, i).trim(), part.slice(i + 1).trim()]);
  }
  return { name: m[1]!, tags };
}

/** The indices of a series' points whose tags include every filter. */
function select(p: Points, s: Series, filters: [string, string][]): number[] {
  const out: number[] = [];
  const ok = p.tagSets.map((t) => filters.every(([k, v]) => t[k] === v));
  for (let i = 0; i < s.n; i++) if (ok[s.tagIds[i]!]) out.push(i);
  return out;
}

/** k6's trend percentile (TrendSink.P) of sorted values, p in 0..1. */
export function k6Percentile(sorted: Float64Array, p: number): number {
  const n = sorted.length;
  if (n === 0) return 0;
  if (n === 1) return sorted[0]!;
  const i = p * (n - 1);
  const j = sorted[Math.floor(i)]!;
  const k = sorted[Math.ceil(i)]!;
  return j + (k - j) * (i - Math.floor(i));
}

function trendSummary(sorted: Float64Array): MetricSummary {
  const n = sorted.length;
  if (n === 0) return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, max: 0 };
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i]!;
  return {
    count: n,
    min: sorted[0]!,
    mean: sum / n,
    p50: k6Percentile(sorted, 0.5),
    p90: k6Percentile(sorted, 0.9),
    p95: k6Percentile(sorted, 0.95),
    p99: k6Percentile(sorted, 0.99),
    p999: k6Percentile(sorted, 0.999),
    max: sorted[n - 1]!,
  };
}

interface Aggregate {
  type: K6MetricType;
  contains: string;
  count: number;
  /** trend: the sorted samples. */
  sorted?: Float64Array;
  sum: number;
  trues: number;
  /** gauge: the latest point of each instance, summed (N instances each running part of the VUs). */
  value: number;
  min: number;
  max: number;
}

function aggregate(p: Points, s: Series, idx: number[]): Aggregate {
  const a: Aggregate = {
    type: s.type,
    contains: s.contains,
    count: idx.length,
    sum: 0,
    trues: 0,
    value: 0,
    min: Number.POSITIVE_INFINITY,
    max: Number.NEGATIVE_INFINITY,
  };
  const latest = new Map<number, { t: number; v: number }>();
  for (const i of idx) {
    const v = s.values[i]!;
    a.sum += v;
    if (v !== 0) a.trues++;
    if (v < a.min) a.min = v;
    if (v > a.max) a.max = v;
    const inp = s.inputs[i]!;
    const l = latest.get(inp);
    if (!l || s.times[i]! >= l.t) latest.set(inp, { t: s.times[i]!, v });
  }
  for (const l of latest.values()) a.value += l.v;
  if (s.type === "trend") {
    const sorted = new Float64Array(idx.length);
    idx.forEach((i, k) => {
      sorted[k] = s.values[i]!;
    });
    a.sorted = sorted.sort();
  }
  void p;
  return a;
}

function observe(a: Aggregate | null, source: string, durationS: number): number | null | Error {
  const gaugeValue = /^\s*value\s*[<>=!]/.test(source);
  const parsed = parseExpression(gaugeValue ? source.replace("value", "max") : source);
  if (parsed instanceof Error) return parsed;
  const agg = parsed.aggregation;
  // A counter nobody added to is 0 (k6's counter sink; `dropped_iterations: ["count==0"]` passes): a metric no
  // input has a point of is such a counter as far as a count goes (k6 writes a Metric line at the first point).
  if (!a || a.count === 0) return (!a || a.type === "counter") && agg.kind === "count" ? 0 : null;
  switch (a.type) {
    case "counter":
      if (agg.kind === "count") return a.sum;
      if (agg.kind === "rate") return durationS > 0 ? a.sum / durationS : null;
      break;
    case "gauge":
      if (gaugeValue) return a.value;
      break;
    case "rate":
      if (agg.kind === "rate") return a.trues / a.count;
      break;
    case "trend": {
      const s = a.sorted!;
      if (agg.kind === "avg") return a.sum / a.count;
      if (agg.kind === "min") return s[0]!;
      if (agg.kind === "max") return s[s.length - 1]!;
      if (agg.kind === "med") return k6Percentile(s, 0.5);
      if (agg.kind === "p") return k6Percentile(s, agg.percentile / 100);
      if (agg.kind === "count") return a.count;
      break;
    }
  }
  return new Error(`"${source.trim()}" does not apply to a ${a.type}`);
}

function k6Values(a: Aggregate, durationS: number): Record<string, number> {
  switch (a.type) {
    case "counter":
      return { count: a.sum, rate: durationS > 0 ? a.sum / durationS : 0 };
    case "rate":
      return { rate: a.count > 0 ? a.trues / a.count : 0, passes: a.trues, fails: a.count - a.trues };
    case "gauge":
      return { value: a.value, min: a.count ? a.min : 0, max: a.count ? a.max : 0 };
    case "trend": {
      const t = trendSummary(a.sorted!);
      return { avg: t.mean, min: t.min, med: t.p50, max: t.max, "p(90)": t.p90, "p(95)": t.p95 };
    }
  }
}

export interface K6MergeOptions {
  /** k6 thresholds ({"metric{tag:v}": ["p(95)<500", ...]}) replacing those in the Metric lines. */
  thresholds?: Record<string, unknown>;
  /**
   * Where `thresholds` came from, when from the script the inputs ran (`--script`): every Metric line's own
   * thresholds must then be the script's for that metric, or the inputs are another script's output.
   */
  thresholdsFrom?: string;
  /** Where warnings go. */
  warn?: (text: string) => void;
}

export interface K6MergeOutcome {
  files: ResultFiles;
  exitCode: 0 | 99;
}

/** Reads every file's points (in the given order) and merges them. */
export async function mergeK6Files(files: string[], o: K6MergeOptions = {}): Promise<K6MergeOutcome> {
  if (files.length > 65_535) throw new MergeError("at most 65,535 inputs");
  const p = new Points();
  for (const [n, file] of files.entries()) {
    for await (const rec of readK6Json(file)) {
      if (rec.kind === "metric") p.declare(rec.line, file);
      else p.add(rec.point.metric, rec.point.time, rec.point.value, rec.point.tags, n);
    }
  }
  if (p.tMin > p.tMax) throw new MergeError(`no points in ${files.join(", ")}: nothing to merge`);
  checkRunners(files, p.instanceIds);
  const durationS = (p.tMax - p.tMin) / 1000;

  // Thresholds: given, else the Metric lines'. A submetric k6 created for a threshold it did not write is said.
  const given = o.thresholds;
  const thresholdList: { key: string; source: string; abortOnFail: boolean }[] = [];
  if (given && o.thresholdsFrom) {
    for (const [name, t] of p.thresholds) {
      const own = Array.isArray(given[name])
        ? (given[name] as unknown[]).map((x) =>
            typeof x === "string" ? x : (x as { threshold?: unknown })?.threshold,
          )
        : [];
      if (own.join("\n") !== t.sources.join("\n")) {
        throw new MergeError(
          `${t.from}: metric "${name}" carries thresholds ${JSON.stringify(t.sources)}, ${o.thresholdsFrom} has ${JSON.stringify(own)}: the inputs did not run this script`,
        );
      }
    }
  }
  if (given) {
    for (const [key, list] of Object.entries(given)) {
      if (!Array.isArray(list)) throw new MergeError(`--thresholds: "${key}" must be a list of thresholds`);
      for (const t of list) {
        const source = typeof t === "string" ? t : (t as { threshold?: unknown })?.threshold;
        if (typeof source !== "string")
          throw new MergeError(`--thresholds: "${key}": ${JSON.stringify(t)} is not a threshold`);
        thresholdList.push({
          key,
          source,
          abortOnFail: (t as { abortOnFail?: unknown })?.abortOnFail === true,
        });
      }
    }
  } else {
    for (const [name, t] of p.thresholds)
      for (const source of t.sources) thresholdList.push({ key: name, source, abortOnFail: false });
    const unwritten = [...p.submetrics.values()]
      .flatMap((s) => [...s])
      .filter((k) => k !== "http_req_duration{expected_response:true}");
    if (unwritten.length > 0) {
      o.warn?.(
        `submetrics ${unwritten.join(", ")} exist for thresholds that k6's JSON output does not record: give them with --thresholds <file.json> to have them judged\n`,
      );
    }
  }

  const aggregates = new Map<string, Aggregate | null>();
  const aggregateOf = (key: string): Aggregate | null => {
    if (aggregates.has(key)) return aggregates.get(key)!;
    const { name, tags } = parseKey(key);
    const s = p.series.get(name);
    const a = s ? aggregate(p, s, tags.length > 0 ? select(p, s, tags) : [...Array(s.n).keys()]) : null;
    aggregates.set(key, a);
    return a;
  };
  const results: ThresholdResult[] = thresholdList.map((t) => {
    const observed = observe(aggregateOf(t.key), t.source, durationS);
    if (observed instanceof Error) throw new MergeError(`threshold ${t.key}: ${observed.message}`);
    const parsed = parseExpression(/^\s*value/.test(t.source) ? t.source.replace("value", "max") : t.source);
    const ok =
      observed !== null && !(parsed instanceof Error) && compare(observed, parsed.operator, parsed.value);
    return { metric: t.key, expression: t.source.trim(), ok, observed, abortOnFail: t.abortOnFail };
  });

  // Every metric (and every submetric a threshold names) in the summary.
  const metrics: Record<string, MetricSummary> = {};
  const k6: Record<string, { type: string; contains: string; values: Record<string, number> }> = {};
  const keys = [
    ...p.series.keys(),
    ...new Set(thresholdList.map((t) => t.key).filter((k) => k.includes("{"))),
  ];
  for (const key of keys) {
    const a = aggregateOf(key);
    if (!a) continue;
    k6[key] = { type: a.type, contains: a.contains, values: k6Values(a, durationS) };
    if (a.type === "trend") metrics[key] = trendSummary(a.sorted!);
  }
  const counter = (name: string) => {
    const a = aggregateOf(name);
    return a && a.type === "counter" ? a.sum : 0;
  };
  const counters: Record<string, number> = {};
  for (const [name, s] of p.series) if (s.type === "counter") counters[name] = counter(name);

  const timeseries = pointsPerSecond(p);
  const environment: RunEnvironment = {
    ktv_version: "k6 JSON output",
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cpus: { model: "unknown (k6 JSON output does not record it)", count: 0 },
    memory_bytes: 0,
    hostname: hostname(),
    git_commit: null,
    seed: 0,
    started_at: new Date(p.tMin).toISOString(),
    target: "unknown (k6 JSON output does not record it)",
    workers: files.length,
    simulator: "external",
    media_transport: "tcp",
  };
  const ledger = { rows: [], totals: { billable: 0, by_mode: {}, by_vendor: {} }, next_since_id: null };
  const summary: RunSummary & Record<string, unknown> = {
    format: RESULTS_FORMAT,
    scenario: {
      name: "k6",
      description: `k6 JSON output of ${files.length} instance(s), merged by ktv merge`,
      options: {
        options: {
          thresholds: given ?? Object.fromEntries([...p.thresholds].map(([k, t]) => [k, t.sources])),
        },
      },
    },
    started_at: new Date(p.tMin).toISOString(),
    ended_at: new Date(p.tMax).toISOString(),
    duration_s: Math.round(durationS * 1000) / 1000,
    interrupted: false,
    interrupt_reason: null,
    metrics,
    counters: {
      ...counters,
      iterations: counter("iterations"),
      dropped_iterations: counter("dropped_iterations"),
      songs_started: counter("songs_started"),
      errors_by_code: {},
      billable_requests: counter("billable_requests"),
      bytes_downloaded: counter("bytes_downloaded"),
    },
    thresholds: results,
    capacity: capacityModel({
      durationS,
      ledger: ledger.totals,
      bytesDownloaded: counter("bytes_downloaded"),
      mediaBytes: counter("media_bytes_published") + counter("media_bytes_received"),
      vusSeries: timeseries.map((t) => t.vus),
      usersPerRoom: 1,
      extrapolateRooms: [],
      knee: null,
    }),
    environment,
    checks: [],
    k6_metrics: k6,
    merged_from: files.map((f) => ({ file: f })),
  };
  return {
    files: { summary, timeseries, ledger, faultEvents: [], environment },
    exitCode: results.some((r) => !r.ok) ? 99 : 0,
  };
}

/**
 * k6-operator runners tag their points `instance_id=i` (1..parallelism, runner i running segment i of the
 * sequence): when every input is one such runner, two inputs of one runner overlap (a file given twice, or two
 * test runs) and a missing i is a segment no input holds. Inputs without the tag carry nothing to check.
 */
function checkRunners(files: string[], ids: Set<string>[]): void {
  if (files.some((_, i) => ids[i]?.size !== 1)) return;
  const owner = new Map<string, string>();
  files.forEach((f, i) => {
    const id = [...ids[i]!][0]!;
    const had = owner.get(id);
    if (had)
      throw new MergeError(
        `${had} and ${f} are both k6-operator runner ${id}: their samples would count twice`,
      );
    owner.set(id, f);
  });
  const nums = [...owner.keys()].map(Number);
  if (!nums.every((n) => Number.isInteger(n) && n >= 1)) return;
  const missing = Array.from({ length: Math.max(...nums) }, (_, k) => k + 1).filter(
    (n) => !owner.has(String(n)),
  );
  if (missing.length > 0)
    throw new MergeError(
      `no input from k6-operator runner(s) ${missing.join(", ")} (the inputs are runners ${nums.sort((a, b) => a - b).join(", ")}): the merged run would not be whole`,
    );
}

/** One point per second from the earliest sample: iterations, VUs (each instance's latest, summed), trends. */
function pointsPerSecond(p: Points): TimeseriesPoint[] {
  const slots = Math.max(1, Math.ceil((p.tMax - p.tMin) / 1000) + (p.tMax === p.tMin ? 1 : 0));
  const slotOf = (t: number) => Math.min(slots - 1, Math.floor((t - p.tMin) / 1000));
  const out: TimeseriesPoint[] = Array.from({ length: slots }, (_, k) => ({
    t: Math.round(p.tMin + (k + 1) * 1000),
    elapsed_s: k + 1,
    vus: 0,
    iterations: 0,
    errors: 0,
    errors_by_code: {},
    bytes_downloaded: 0,
    billable_requests: 0,
    metrics: {},
  }));
  const vus = p.series.get("vus");
  if (vus) {
    const latest = new Map<string, { t: number; v: number }>();
    for (let i = 0; i < vus.n; i++) {
      const key = `${slotOf(vus.times[i]!)}:${vus.inputs[i]}`;
      const l = latest.get(key);
      if (!l || vus.times[i]! >= l.t) latest.set(key, { t: vus.times[i]!, v: vus.values[i]! });
    }
    for (const [key, l] of latest) out[Number(key.split(":")[0])]!.vus += l.v;
  }
  const iterations = p.series.get("iterations");
  if (iterations)
    for (let i = 0; i < iterations.n; i++)
      out[slotOf(iterations.times[i]!)]!.iterations += iterations.values[i]!;
  for (const [name, s] of p.series) {
    if (s.type !== "trend") continue;
    const bySlot: number[][] = Array.from({ length: slots }, () => []);
    for (let i = 0; i < s.n; i++) bySlot[slotOf(s.times[i]!)]!.push(s.values[i]!);
    bySlot.forEach((vals, k) => {
      if (vals.length === 0) return;
      const t = trendSummary(Float64Array.from(vals).sort());
      out[k]!.metrics[name] = { count: t.count, p50: t.p50, p95: t.p95, p99: t.p99, max: t.max };
    });
  }
  return out;
}
