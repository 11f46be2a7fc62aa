import { parseDuration } from "../load/duration.ts";
import { type MetricType, metricInfo, seriesKey } from "../metrics/catalog.ts";

// Thresholds in k6's grammar (metrics/thresholds_parser.go), plus sliding windows, which k6 lacks.
//
//   thresholds  = { metric_key: [ expression | { threshold: expression, abortOnFail?: bool,
//                                                 delayAbortEval?: duration } ] }
//   metric_key  = name [ "{" tag ":" value { "," tag ":" value } "}" ]
//   expression  = aggregation ws* operator ws* number [ ws+ "over" ws+ duration ]
//   aggregation = "avg" | "min" | "max" | "med" | "count" | "rate" | "p(" number ")"
//   operator    = "<" | "<=" | ">" | ">=" | "==" | "===" | "!="
//   number      = [ "-" ] digits [ "." digits ]
//   duration    = a k6 duration: "30s", "1m30s", "500ms"
//   name, tag   = [A-Za-z0-9_]+        value = [A-Za-z0-9_.:-]+ (no "," or "}")
//
// Which aggregations a metric takes depends on its type (metrics/catalog.ts), as in k6:
//   trend   (ttfa_ms ...)          avg, min, max, med, p(N) with 0 <= N <= 100, count
//   counter (iterations ...)       count (the total), rate (per second of the run)
//   rate    (errors, conformance)  rate (a share in 0..1)
//
// "over W" makes a sliding window: the aggregation is taken over the last W of the run at every interval
// boundary (from W on; a run shorter than W is one window, the whole run). The threshold fails if any window
// fails; `observed` is the worst window and `first_breach_s` when it first failed. Without "over", the
// aggregation is over the whole run (as k6) and is checked during the run only for abortOnFail.

export type Operator = "<" | "<=" | ">" | ">=" | "==" | "===" | "!=";
export type Aggregation =
  | { kind: "avg" | "min" | "max" | "med" | "count" | "rate" }
  | { kind: "p"; percentile: number };

export interface ParsedExpression {
  aggregation: Aggregation;
  operator: Operator;
  value: number;
  /** Sliding window length, ms; null for the whole run. */
  windowMs: number | null;
}

export interface MetricKey {
  name: string;
  tags: Record<string, string>;
  /** Canonical series key (tags sorted). */
  key: string;
}

export interface Threshold extends ParsedExpression {
  metric: MetricKey;
  /** The expression as written. */
  source: string;
  abortOnFail: boolean;
  /** With abortOnFail: checks start this long after the run's start. */
  delayAbortEvalMs: number;
}

const EXPRESSION =
  /^\s*(avg|min|max|med|count|rate|p\(\s*(-?\d+(?:\.\d+)?)\s*\))\s*(<=|>=|===|==|!=|<|>)\s*(-?\d+(?:\.\d+)?)(?:\s+over\s+(\S+))?\s*$/;
const KEY = /^([A-Za-z0-9_]+)(?:\{([^}]*)\})?$/;
const TAG = /^\s*([A-Za-z0-9_]+)\s*:\s*([A-Za-z0-9_./:-]+)\s*$/;

const ALLOWED: Record<MetricType, readonly string[]> = {
  trend: ["avg", "min", "max", "med", "p", "count"],
  counter: ["count", "rate"],
  rate: ["rate"],
};

export function parseExpression(text: string): ParsedExpression | Error {
  if (typeof text !== "string") return new Error(`must be a string such as "p(95)<800", got ${typeof text}`);
  const m = EXPRESSION.exec(text);
  if (!m) {
    return new Error(
      `"${text}" is not a threshold: expected <aggregation> <operator> <number> [over <duration>], e.g. "p(95)<800", "rate<0.01", "p(99)<500 over 30s"`,
    );
  }
  let aggregation: Aggregation;
  if (m[2] !== undefined) {
    const percentile = Number(m[2]);
    if (!(percentile >= 0 && percentile <= 100))
      return new Error(`"${text}": p(${m[2]}) must be within 0..100`);
    aggregation = { kind: "p", percentile };
  } else aggregation = { kind: m[1] as "avg" };
  let windowMs: number | null = null;
  if (m[5] !== undefined) {
    const ms = parseDuration(m[5]);
    if (ms instanceof Error) return new Error(`"${text}": window ${ms.message}`);
    if (ms <= 0) return new Error(`"${text}": the window must be longer than 0`);
    windowMs = ms;
  }
  return { aggregation, operator: m[3] as Operator, value: Number(m[4]), windowMs };
}

/** Metrics that were renamed: a scenario written for the old name is told the new one. */
const RENAMED: Readonly<Record<string, string>> = {
  // It ends at the first packet handed to the media socket (reference/pipeline/result.ts), so it says so.
  pick_to_audio_ms: "pick_to_first_packet_ms",
};

export function parseMetricKey(text: string): MetricKey | Error {
  const m = KEY.exec(text);
  if (!m) return new Error(`"${text}" is not a metric key: expected name or name{tag:value,...}`);
  const name = m[1]!;
  const info = metricInfo(name);
  if (!info) {
    const renamed = RENAMED[name];
    if (renamed) return new Error(`"${name}" was renamed ${renamed}: threshold on that name`);
    return new Error(`"${name}" is not a metric of ktv (see scenarios/metrics/catalog.ts)`);
  }
  const tags: Record<string, string> = {};
  if (m[2] !== undefined) {
    for (const part of m[2].split(",")) {
      const t = TAG.exec(part);
      if (!t) return new Error(`"${text}": "${part}" is not a tag filter (tag:value)`);
      if (!info.tags.includes(t[1]!)) {
        const ok = info.tags.length ? `: it has ${info.tags.join(", ")}` : ": it has none";
        return new Error(`"${text}": ${name} has no tag "${t[1]}"${ok}`);
      }
      if (t[1] === "corrected" && t[2] !== "true")
        return new Error(`"${text}": the tag corrected only takes true`);
      tags[t[1]!] = t[2]!;
    }
  }
  return { name, tags, key: seriesKey(name, tags) };
}

/**
 * Parses a scenario's `thresholds` option. Returns the thresholds and every problem ("thresholds.KEY[i]: why");
 * the thresholds are only usable when there are no errors.
 */
export function parseThresholds(input: unknown): { thresholds: Threshold[]; errors: string[] } {
  const thresholds: Threshold[] = [];
  const errors: string[] = [];
  if (input === undefined) return { thresholds, errors };
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return { thresholds, errors: ["options.thresholds: must be an object of metric -> list of thresholds"] };
  }
  for (const [key, list] of Object.entries(input)) {
    const at = `options.thresholds["${key}"]`;
    const metric = parseMetricKey(key);
    if (metric instanceof Error) {
      errors.push(`${at}: ${metric.message}`);
      continue;
    }
    if (!Array.isArray(list) || list.length === 0) {
      errors.push(`${at}: must be a non-empty list of thresholds`);
      continue;
    }
    list.forEach((item: unknown, i) => {
      const t = thresholdOf(item, metric);
      if (t instanceof Error) errors.push(`${at}[${i}]: ${t.message}`);
      else thresholds.push(t);
    });
  }
  return { thresholds, errors };
}

function thresholdOf(item: unknown, metric: MetricKey): Threshold | Error {
  let source: unknown = item;
  let abortOnFail = false;
  let delayAbortEvalMs = 0;
  if (typeof item === "object" && item !== null && !Array.isArray(item)) {
    const o = item as Record<string, unknown>;
    const unknownKeys = Object.keys(o).filter(
      (k) => !["threshold", "abortOnFail", "delayAbortEval"].includes(k),
    );
    if (unknownKeys.length > 0) return new Error(`unknown field ${unknownKeys.join(", ")}`);
    source = o.threshold;
    if (o.abortOnFail !== undefined && typeof o.abortOnFail !== "boolean") {
      return new Error("abortOnFail: must be true or false");
    }
    abortOnFail = o.abortOnFail === true;
    if (o.delayAbortEval !== undefined) {
      const ms = parseDuration(o.delayAbortEval);
      if (ms instanceof Error) return new Error(`delayAbortEval: ${ms.message}`);
      delayAbortEvalMs = ms;
    }
  }
  const parsed = parseExpression(source as string);
  if (parsed instanceof Error) return parsed;
  const info = metricInfo(metric.name)!;
  if (!ALLOWED[info.type].includes(parsed.aggregation.kind)) {
    const shown = parsed.aggregation.kind === "p" ? "p(N)" : parsed.aggregation.kind;
    return new Error(
      `${shown} does not apply to ${metric.name}, a ${info.type} metric: use ${ALLOWED[info.type].map((a) => (a === "p" ? "p(N)" : a)).join(", ")}`,
    );
  }
  return { ...parsed, metric, source: (source as string).trim(), abortOnFail, delayAbortEvalMs };
}

export function compare(observed: number, op: Operator, value: number): boolean {
  switch (op) {
    case "<":
      return observed < value;
    case "<=":
      return observed <= value;
    case ">":
      return observed > value;
    case ">=":
      return observed >= value;
    case "==":
    case "===":
      return observed === value;
    case "!=":
      return observed !== value;
  }
}
