import type { Histogram } from "hdr-histogram-js";
import { percentile, quantiles } from "../metrics/hdr.ts";
import {
  type Contains,
  type K6JsonWriter,
  type K6MetricLine,
  type K6MetricType,
  k6JsonFile,
  type Tags,
} from "../metrics/k6-json.ts";
import { MetricSet } from "../metrics/set.ts";
import { K6ConfigError } from "./errors.ts";

// k6's metrics model over the project's metric sets: four types (counter, gauge, rate, trend), samples with
// tags, and submetrics (`http_req_duration{expected_response:true}`, or any `name{tag:value}` a threshold
// names) that get each sample whose tags include theirs, as k6 adds them. Trends and counters and rates live
// in a MetricSet keyed by series (HDR histograms, exact merge: scenarios/metrics/), gauges here. Every sample
// may also go to k6's JSON output (`--out json=file`: scenarios/metrics/k6-json.ts, shared with `ktv run`),
// the format `ktv merge` and k6's own tools read.

export type { Contains, K6MetricType, Tags };

export interface MetricDef {
  name: string;
  type: K6MetricType;
  contains: Contains;
}

interface Submetric {
  /** `name{tag:value,...}` as written in the thresholds. */
  key: string;
  tags: [string, string][];
}

interface GaugeState {
  value: number;
  min: number;
  max: number;
}

/** k6's built-in metrics (the ones this runner emits), type and unit. */
export const BUILT_IN: readonly MetricDef[] = [
  { name: "vus", type: "gauge", contains: "default" },
  { name: "vus_max", type: "gauge", contains: "default" },
  { name: "iterations", type: "counter", contains: "default" },
  { name: "iteration_duration", type: "trend", contains: "time" },
  { name: "dropped_iterations", type: "counter", contains: "default" },
  { name: "data_sent", type: "counter", contains: "data" },
  { name: "data_received", type: "counter", contains: "data" },
  { name: "checks", type: "rate", contains: "default" },
  { name: "group_duration", type: "trend", contains: "time" },
  { name: "http_reqs", type: "counter", contains: "default" },
  { name: "http_req_failed", type: "rate", contains: "default" },
  { name: "http_req_duration", type: "trend", contains: "time" },
  { name: "http_req_blocked", type: "trend", contains: "time" },
  { name: "http_req_connecting", type: "trend", contains: "time" },
  { name: "http_req_tls_handshaking", type: "trend", contains: "time" },
  { name: "http_req_sending", type: "trend", contains: "time" },
  { name: "http_req_waiting", type: "trend", contains: "time" },
  { name: "http_req_receiving", type: "trend", contains: "time" },
  { name: "ws_connecting", type: "trend", contains: "time" },
  { name: "ws_sessions", type: "counter", contains: "default" },
  { name: "ws_session_duration", type: "trend", contains: "time" },
  { name: "ws_msgs_sent", type: "counter", contains: "default" },
  { name: "ws_msgs_received", type: "counter", contains: "default" },
  { name: "ws_ping", type: "trend", contains: "time" },
];

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** `name{tag:value, ...}` split into the name and its tag filters; null when it is not such a key. */
export function parseSeriesKey(key: string): { name: string; tags: [string, string][] } | null {
  const m = /^([^{}\s]+)(?:\{([^}]*)\})?$/.exec(key.trim());
  if (!m) return null;
  const tags: [string, string][] = [];
  if (m[2] !== undefined) {
    for (const part of m[2].split(",")) {
      const i = part.indexOf(":");
      if (i <= 0) return null;
      tags.push([part.slice(0, i).trim(), part.slice(i + 1).trim()]);
    }
  }
  return { name: m[1]!, tags };
}

export class Registry {
  readonly defs = new Map<string, MetricDef>();
  readonly set = new MetricSet();
  readonly gauges = new Map<string, GaugeState>();
  private readonly subs = new Map<string, Submetric[]>();
  private out: { writer: K6JsonWriter; close(): Promise<void> } | null = null;
  /**
   * Thresholds by metric key as the script wrote it, for the JSON output's Metric lines: a metric's line lists
   * those on its own name only, as k6's does (internal/output/json: a submetric's thresholds are not written).
   */
  thresholdSources = new Map<string, string[]>();

  constructor() {
    for (const d of BUILT_IN) this.defs.set(d.name, d);
    // k6 always shows this one under http_req_duration.
    this.addSubmetric("http_req_duration{expected_response:true}");
  }

  /** A custom metric (`new Trend(name, isTime)` ...): the same name twice must be the same type. */
  define(name: string, type: K6MetricType, isTime: boolean): MetricDef {
    if (typeof name !== "string" || !NAME.test(name))
      throw new K6ConfigError(
        `invalid metric name ${JSON.stringify(name)}: 1-128 letters, digits and _, not starting with a digit`,
      );
    const had = this.defs.get(name);
    const contains: Contains = isTime ? "time" : "default";
    if (had) {
      if (had.type !== type)
        throw new K6ConfigError(`metric "${name}" is already a ${had.type}, cannot redefine it as a ${type}`);
      return had;
    }
    const d = { name, type, contains };
    this.defs.set(name, d);
    return d;
  }

  /** A submetric a threshold names; its samples are recorded from then on. */
  addSubmetric(key: string): void {
    const p = parseSeriesKey(key);
    if (!p || p.tags.length === 0) return;
    const list = this.subs.get(p.name) ?? [];
    if (!list.some((s) => s.key === key)) list.push({ key, tags: p.tags });
    this.subs.set(p.name, list);
  }

  /** The submetric keys of a metric, as the thresholds wrote them. */
  submetricsOf(name: string): string[] {
    return (this.subs.get(name) ?? []).map((s) => s.key);
  }

  /** Writes k6's NDJSON output to `path` from now on. */
  openJsonOutput(path: string): void {
    this.out = k6JsonFile(path, (name) => this.metricLine(name));
  }

  async closeJsonOutput(): Promise<void> {
    const out = this.out;
    if (!out) return;
    this.out = null;
    await out.close();
  }

  /** One sample of metric `name` (defined), with its tags. */
  add(name: string, value: number, tags: Tags): void {
    const def = this.defs.get(name);
    if (!def) throw new K6ConfigError(`no metric named "${name}"`);
    this.record(def, name, value);
    const subs = this.subs.get(name);
    if (subs) for (const s of subs) if (matches(tags, s.tags)) this.record(def, s.key, value);
    if (this.out) this.out.writer.point(name, value, tags);
  }

  private record(def: MetricDef, key: string, value: number): void {
    switch (def.type) {
      case "counter":
        this.set.add(key, value);
        break;
      case "rate":
        this.set.rate(key, value !== 0);
        break;
      case "trend":
        this.set.record(key, value);
        break;
      case "gauge": {
        const g = this.gauges.get(key);
        if (g) {
          g.value = value;
          if (value < g.min) g.min = value;
          if (value > g.max) g.max = value;
        } else this.gauges.set(key, { value, min: value, max: value });
        break;
      }
    }
  }

  /** A metric's Metric line for the JSON output: its thresholds and submetrics as known now. */
  private metricLine(name: string): K6MetricLine {
    const def = this.defs.get(name)!;
    const subs = this.submetricsOf(name);
    return {
      name,
      type: def.type,
      contains: def.contains,
      thresholds: this.thresholdSources.get(name) ?? [],
      submetrics:
        subs.length > 0
          ? subs.map((s) => ({
              name: s,
              suffix: s.slice(name.length + 1, -1),
              tags: Object.fromEntries(parseSeriesKey(s)!.tags),
            }))
          : null,
    };
  }

  /** Whether the series (a metric or submetric key) got any sample. */
  has(key: string): boolean {
    return (
      (this.set.trends.get(key)?.totalCount ?? 0) > 0 ||
      this.set.counters.has(key) ||
      this.set.rates.has(key) ||
      this.gauges.has(key)
    );
  }

  trend(key: string): Histogram | undefined {
    return this.set.trends.get(key);
  }

  /** The values k6's summary gives a series (handleSummary's `metrics[key].values`). */
  values(def: MetricDef, key: string, durationS: number, trendStats: string[]): Record<string, number> {
    switch (def.type) {
      case "counter": {
        const count = this.set.counter(key);
        return { count, rate: durationS > 0 ? count / durationS : 0 };
      }
      case "rate": {
        const r = this.set.rates.get(key) ?? { trues: 0, total: 0 };
        return { rate: r.total > 0 ? r.trues / r.total : 0, passes: r.trues, fails: r.total - r.trues };
      }
      case "gauge": {
        const g = this.gauges.get(key) ?? { value: 0, min: 0, max: 0 };
        return { value: g.value, min: g.min, max: g.max };
      }
      case "trend": {
        const h = this.set.trends.get(key);
        const q = quantiles(h);
        const out: Record<string, number> = {};
        for (const s of trendStats) {
          if (s === "avg") out[s] = q.mean;
          else if (s === "min") out[s] = q.min;
          else if (s === "max") out[s] = q.max;
          else if (s === "med") out[s] = q.p50;
          else if (s === "count") out[s] = q.count;
          else {
            const p = /^p\((\d+(?:\.\d+)?)\)$/.exec(s);
            if (p) out[s] = h && h.totalCount > 0 ? percentile(h, Number(p[1])) : 0;
          }
        }
        return out;
      }
    }
  }
}

function matches(tags: Tags, want: [string, string][]): boolean {
  for (const [k, v] of want) if (tags[k] !== v) return false;
  return true;
}
