import { parseDuration } from "../load/duration.ts";
import { percentile } from "../metrics/hdr.ts";
import { compare, type ParsedExpression, parseExpression } from "../thresholds/parser.ts";
import { K6ConfigError } from "./errors.ts";
import { type K6MetricType, parseSeriesKey, type Registry } from "./metrics.ts";

// k6's thresholds over the runner's registry: the expression grammar and comparison are the project's
// (thresholds/parser.ts), the metric keys are k6's (any metric the script defined, any tag filter: a submetric
// the registry then records), and the aggregations by k6 type: counter count/rate, gauge value, rate rate,
// trend avg/min/max/med/p(N). A threshold on a metric the script never defined is refused before the run
// (k6 does so too); one whose metric got no sample fails, except a counter's count, which is 0. `over` windows (ktv run's extension) are not k6's
// and are refused here, so a script that passes here means the same under k6.

export interface K6Threshold {
  key: string;
  name: string;
  source: string;
  parsed: ParsedExpression & { value: number };
  /** Gauges' `value` (parseExpression has no such aggregation: read as the last value). */
  gaugeValue: boolean;
  abortOnFail: boolean;
  delayAbortEvalMs: number;
}

export interface ThresholdOutcome {
  key: string;
  source: string;
  ok: boolean;
  observed: number | null;
}

const ALLOWED: Record<K6MetricType, string[]> = {
  counter: ["count", "rate"],
  gauge: ["value"],
  rate: ["rate"],
  trend: ["avg", "min", "max", "med", "p"],
};

export function parseK6Thresholds(input: unknown, registry: Registry): K6Threshold[] {
  if (input === undefined) return [];
  if (typeof input !== "object" || input === null || Array.isArray(input))
    throw new K6ConfigError("options.thresholds: must be an object of metric -> list of thresholds");
  const out: K6Threshold[] = [];
  const errors: string[] = [];
  for (const [key, list] of Object.entries(input as Record<string, unknown>)) {
    const at = `options.thresholds["${key}"]`;
    const k = parseSeriesKey(key);
    if (!k) {
      errors.push(`${at}: not a metric key (name or name{tag:value,...})`);
      continue;
    }
    const def = registry.defs.get(k.name);
    if (!def) {
      errors.push(
        `${at}: no metric named "${k.name}" (define it in the init context, or use a built-in one)`,
      );
      continue;
    }
    if (!Array.isArray(list) || list.length === 0) {
      errors.push(`${at}: must be a non-empty list of thresholds`);
      continue;
    }
    list.forEach((item: unknown, i) => {
      let source: unknown = item;
      let abortOnFail = false;
      let delayAbortEvalMs = 0;
      if (typeof item === "object" && item !== null) {
        const o = item as Record<string, unknown>;
        source = o.threshold;
        abortOnFail = o.abortOnFail === true;
        if (o.delayAbortEval !== undefined) {
          const ms = parseDuration(o.delayAbortEval);
          if (ms instanceof Error) errors.push(`${at}[${i}].delayAbortEval: ${ms.message}`);
          else delayAbortEvalMs = ms;
        }
      }
      if (typeof source !== "string") {
        errors.push(`${at}[${i}]: must be a string such as "p(95)<500"`);
        return;
      }
      const gaugeValue = /^\s*value\s*[<>=!]/.test(source);
      const parsed = parseExpression(gaugeValue ? source.replace("value", "max") : source);
      if (parsed instanceof Error) {
        errors.push(`${at}[${i}]: ${parsed.message}`);
        return;
      }
      if (parsed.windowMs !== null) {
        errors.push(`${at}[${i}]: "over" windows are ktv run's, not k6's: a k6 script must run under k6 too`);
        return;
      }
      const kind = gaugeValue ? "value" : parsed.aggregation.kind;
      if (!ALLOWED[def.type].includes(kind)) {
        errors.push(
          `${at}[${i}]: ${kind === "p" ? "p(N)" : kind} does not apply to ${k.name}, a ${def.type}: use ${ALLOWED[def.type].map((a) => (a === "p" ? "p(N)" : a)).join(", ")}`,
        );
        return;
      }
      registry.addSubmetric(key);
      const sources = registry.thresholdSources.get(key) ?? [];
      sources.push(source.trim());
      registry.thresholdSources.set(key, sources);
      out.push({
        key,
        name: k.name,
        source: source.trim(),
        parsed,
        gaugeValue,
        abortOnFail,
        delayAbortEvalMs,
      });
    });
  }
  if (errors.length > 0) throw new K6ConfigError(`invalid thresholds:\n  ${errors.join("\n  ")}`);
  return out;
}

/** The aggregation a threshold reads, or null when its series has no sample. */
export function observeK6(t: K6Threshold, registry: Registry, durationS: number): number | null {
  const def = registry.defs.get(t.name)!;
  const agg = t.parsed.aggregation;
  // A counter nobody added to is 0, as k6's counter sink (`dropped_iterations: ["count==0"]` passes).
  if (def.type === "counter" && agg.kind === "count" && !registry.has(t.key)) return 0;
  if (!registry.has(t.key)) return null;
  switch (def.type) {
    case "counter": {
      const n = registry.set.counter(t.key);
      return agg.kind === "count" ? n : durationS > 0 ? n / durationS : null;
    }
    case "gauge":
      return registry.gauges.get(t.key)?.value ?? null;
    case "rate": {
      const r = registry.set.rates.get(t.key)!;
      return r.total > 0 ? r.trues / r.total : null;
    }
    case "trend": {
      const h = registry.trend(t.key)!;
      if (agg.kind === "avg") return Math.round(h.mean) / 1000;
      if (agg.kind === "min") return percentile(h, 0);
      if (agg.kind === "max") return Math.round(h.maxValue) / 1000;
      if (agg.kind === "med") return percentile(h, 50);
      if (agg.kind === "p") return percentile(h, agg.percentile);
      return null;
    }
  }
}

export function evaluateK6(ts: K6Threshold[], registry: Registry, durationS: number): ThresholdOutcome[] {
  return ts.map((t) => {
    const observed = observeK6(t, registry, durationS);
    return {
      key: t.key,
      source: t.source,
      observed,
      ok: observed !== null && compare(observed, t.parsed.operator, t.parsed.value),
    };
  });
}
