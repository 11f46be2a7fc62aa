import type { ThresholdResult } from "../../reports/format.ts";
import { metricInfo } from "../metrics/catalog.ts";
import { percentile } from "../metrics/hdr.ts";
import { MetricSet } from "../metrics/set.ts";
import { compare, type Threshold } from "./parser.ts";

// Evaluating thresholds (parser.ts) against the run's samples. `observe` computes one aggregation; the
// ThresholdBook follows a run interval by interval: it keeps the last intervals that the longest sliding
// window needs, evaluates each window threshold at every interval boundary, reports which abortOnFail
// thresholds broke, and gives the final pass/fail list for summary.json. Intervals carry their real end time
// and need not be equally long (a runner that fell behind flushes a longer one): a window is the intervals
// that ended within its length of the last one, and a counter's rate divides by the time they cover.

/** The aggregation of `t` over `set`; null when there is nothing to aggregate (no samples, no time). */
export function observe(t: Threshold, set: MetricSet, durationS: number): number | null {
  const info = metricInfo(t.metric.name)!;
  const key = t.metric.key;
  const agg = t.aggregation;
  if (info.type === "trend") {
    const h = set.trends.get(key);
    const count = h?.totalCount ?? 0;
    if (agg.kind === "count") return count;
    if (!h || count === 0) return null;
    switch (agg.kind) {
      case "avg":
        return Math.round(h.mean) / 1000;
      case "min":
        return percentile(h, 0);
      case "max":
        return Math.round(h.maxValue) / 1000;
      case "med":
        return percentile(h, 50);
      case "p":
        return percentile(h, agg.percentile);
      default:
        return null;
    }
  }
  if (info.type === "counter") {
    const n = set.counter(key);
    if (agg.kind === "count") return n;
    return durationS > 0 ? n / durationS : null;
  }
  const series = set.rates.get(key);
  const total =
    info.denominator === "base" ? (set.rates.get(t.metric.name)?.total ?? 0) : (series?.total ?? 0);
  if (total === 0) return null;
  return (series?.trues ?? 0) / total;
}

function passes(t: Threshold, observed: number | null): boolean {
  return observed !== null && compare(observed, t.operator, t.value);
}

/** Which of two observations is further on the failing side of `t` (for reporting the worst window). */
function worse(t: Threshold, a: number, b: number): number {
  if (t.operator === "<" || t.operator === "<=") return Math.max(a, b);
  if (t.operator === ">" || t.operator === ">=") return Math.min(a, b);
  return compare(a, t.operator, t.value) ? b : a;
}

interface WindowState {
  worst: number | null;
  firstBreachS: number | null;
  evaluated: boolean;
}

export interface Breach {
  threshold: Threshold;
  observed: number | null;
  atS: number;
}

export class ThresholdBook {
  private readonly ring: { set: MetricSet; startMs: number; endMs: number }[] = [];
  private readonly longestMs: number;
  /** The series the window thresholds read: all the ring keeps of each interval. */
  private readonly windowKeys: string[];
  private lastEndMs = 0;
  private readonly windows = new Map<Threshold, WindowState>();

  constructor(
    readonly thresholds: Threshold[],
    private readonly intervalMs: number,
  ) {
    this.longestMs = Math.max(0, ...thresholds.map((t) => t.windowMs ?? 0));
    this.windowKeys = [
      ...new Set(thresholds.filter((t) => t.windowMs !== null).flatMap((t) => [t.metric.key, t.metric.name])),
    ];
    for (const t of thresholds) {
      if (t.windowMs !== null) this.windows.set(t, { worst: null, firstBreachS: null, evaluated: false });
    }
  }

  /**
   * Called once per interval with that interval's samples and the run's so far; `elapsedMs` is the interval's
   * end since the run's start. Returns the abortOnFail thresholds that are failing now.
   */
  onInterval(interval: MetricSet, cumulative: MetricSet, elapsedMs: number): Breach[] {
    if (this.longestMs > 0) {
      this.ring.push({ set: only(interval, this.windowKeys), startMs: this.lastEndMs, endMs: elapsedMs });
      while (this.ring.length > 1 && this.ring[0]!.endMs <= elapsedMs - this.longestMs + this.tolerance)
        this.ring.shift();
    }
    this.lastEndMs = elapsedMs;
    const breaches: Breach[] = [];
    const atS = elapsedMs / 1000;
    for (const t of this.thresholds) {
      let observed: number | null;
      let failing: boolean;
      if (t.windowMs !== null) {
        if (elapsedMs + 1e-6 < t.windowMs) continue;
        observed = this.observeWindow(t, t.windowMs);
        if (observed === null) continue;
        failing = !passes(t, observed);
        this.noteWindow(t, observed, failing, atS);
      } else {
        if (!t.abortOnFail) continue;
        observed = observe(t, cumulative, atS);
        // No samples yet is not a failure during the run (it is at the end).
        failing = observed !== null && !passes(t, observed);
      }
      if (failing && t.abortOnFail && elapsedMs >= t.delayAbortEvalMs)
        breaches.push({ threshold: t, observed, atS });
    }
    return breaches;
  }

  /** Pass/fail of every threshold over the whole run (`durationS` long). */
  final(cumulative: MetricSet, durationS: number): ThresholdResult[] {
    return this.thresholds.map((t) => {
      const base = { metric: t.metric.key, expression: t.source, abortOnFail: t.abortOnFail };
      if (t.windowMs === null) {
        const observed = observe(t, cumulative, durationS);
        return { ...base, ok: passes(t, observed), observed };
      }
      const w = this.windows.get(t)!;
      if (!w.evaluated) {
        // Shorter than the window: the whole run is the one window.
        const observed = observe(t, cumulative, durationS);
        const ok = passes(t, observed);
        return { ...base, ok, observed, first_breach_s: ok || observed === null ? null : durationS };
      }
      return { ...base, ok: w.firstBreachS === null, observed: w.worst, first_breach_s: w.firstBreachS };
    });
  }

  /** Half an interval: boundaries a few ms off the grid still count as the grid's. */
  private get tolerance(): number {
    return this.intervalMs / 2;
  }

  private observeWindow(t: Threshold, windowMs: number): number | null {
    const end = this.ring.at(-1)!.endMs;
    const entries = this.ring.filter((r) => r.endMs > end - windowMs + this.tolerance);
    const keys = [t.metric.key, t.metric.name];
    const merged = new MetricSet();
    for (const r of entries) merged.mergeSet(only(r.set, keys));
    return observe(t, merged, (end - entries[0]!.startMs) / 1000);
  }

  private noteWindow(t: Threshold, observed: number, failing: boolean, atS: number): void {
    const w = this.windows.get(t)!;
    w.evaluated = true;
    w.worst = w.worst === null ? observed : worse(t, w.worst, observed);
    if (failing && w.firstBreachS === null) w.firstBreachS = atS;
  }
}

/** The series of `set` named by `keys` (a window merges only what its threshold reads). */
function only(set: MetricSet, keys: string[]): MetricSet {
  const out = new MetricSet();
  for (const k of keys) {
    const h = set.trends.get(k);
    if (h) out.trends.set(k, h);
    const c = set.counters.get(k);
    if (c !== undefined) out.counters.set(k, c);
    const r = set.rates.get(k);
    if (r) out.rates.set(k, r);
  }
  return out;
}
