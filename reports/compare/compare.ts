// `ktv compare`: is the run worse than the baseline, beyond noise and beyond a threshold? For every metric of
// either run, a Mann-Whitney U test over per-interval values gives significance, the change of the centers
// gives magnitude, and a seeded bootstrap interval of the median ratio shows the uncertainty. A regression
// needs both p < alpha and a change in the bad direction larger than the threshold; a metric without samples
// on either side fails, so a broken run can never pass by having nothing to compare.

import type { RunResults } from "../read-results.ts";
import { bootstrapMedianRatio, type RatioInterval } from "../stats/bootstrap.ts";
import { mannWhitneyU } from "../stats/mann-whitney.ts";
import { type Direction, intervalSamples, type MetricSamples } from "./samples.ts";

export type Verdict = "regression" | "improvement" | "ok" | "missing" | "insufficient";

export interface MetricComparison {
  metric: string;
  unit: string;
  direction: Direction;
  baseline: { n: number; center: number | null };
  run: { n: number; center: number | null };
  /** (run - baseline) / baseline of the centers; null when it does not exist (a side is missing, or 0 -> 0). */
  change: number | null;
  /** Two-sided Mann-Whitney p-value, null when not tested. */
  p: number | null;
  /** p adjusted for testing every metric at once (Holm), the value the gate uses; null when not tested. */
  pAdjusted: number | null;
  /** Bootstrap interval of median(run) / median(baseline); null when not tested or the centre is pooled. */
  ci: RatioInterval | null;
  verdict: Verdict;
  reason: string;
  /**
   * "insufficient" only: intervals with a value needed on each side for p < alpha at all, and for the smallest
   * p to survive the Holm adjustment over every comparable metric; and about how long each run must be to get
   * that many at the rate this metric had values (the longer of the two runs' estimates).
   */
  needed?: { perSide: number; perSideHolm: number; runSeconds: number | null };
}

export interface CompareOptions {
  /** Significance level, default 0.01. */
  alpha?: number;
  /** Relative change in the bad direction that counts, default 0.10. */
  threshold?: number;
}

export interface Comparison {
  /** False on any regression, missing or insufficient metric. */
  ok: boolean;
  alpha: number;
  threshold: number;
  metrics: MetricComparison[];
  regressions: string[];
  failures: string[];
}

export function compareRuns(baseline: RunResults, run: RunResults, opts: CompareOptions = {}): Comparison {
  const alpha = opts.alpha ?? 0.01;
  const threshold = opts.threshold ?? 0.1;
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  if (!(threshold >= 0)) throw new RangeError(`threshold must be >= 0, got ${threshold}`);
  const base = intervalSamples(baseline);
  const cur = intervalSamples(run);
  const names = [...new Set([...base.keys(), ...cur.keys()])];
  const comparable = names.filter(
    (n) => (base.get(n)?.samples.length ?? 0) > 0 && (cur.get(n)?.samples.length ?? 0) > 0,
  ).length;
  const metrics = names.map((name) =>
    testMetric(name, base.get(name), cur.get(name), alpha, Math.max(1, comparable)),
  );
  holmAdjust(metrics);
  for (const m of metrics) judge(m, alpha, threshold);
  const regressions = metrics.filter((m) => m.verdict === "regression").map((m) => m.metric);
  const failures = metrics
    .filter((m) => m.verdict === "missing" || m.verdict === "insufficient")
    .map((m) => m.metric);
  return {
    ok: regressions.length === 0 && failures.length === 0,
    alpha,
    threshold,
    metrics,
    regressions,
    failures,
  };
}

function testMetric(
  name: string,
  base: MetricSamples | undefined,
  cur: MetricSamples | undefined,
  alpha: number,
  comparable: number,
): MetricComparison {
  const like = (base ?? cur)!;
  const result: MetricComparison = {
    metric: name,
    unit: like.unit,
    direction: like.direction,
    baseline: { n: base?.samples.length ?? 0, center: base?.center ?? null },
    run: { n: cur?.samples.length ?? 0, center: cur?.center ?? null },
    change: null,
    p: null,
    pAdjusted: null,
    ci: null,
    verdict: "missing",
    reason: "",
  };
  if (!base || !cur || base.samples.length === 0 || cur.samples.length === 0) {
    const side = !cur || cur.samples.length === 0 ? "run" : "baseline";
    const absent = side === "run" ? !cur : !base;
    result.reason = absent ? `not in the ${side}` : `no samples in the ${side}`;
    return result;
  }
  result.change = relativeChange(base.center!, cur.center!);
  if (smallestTwoSidedP(base.samples.length, cur.samples.length) >= alpha) {
    const perSide = intervalsNeeded(alpha);
    const perSideHolm = intervalsNeeded(alpha / comparable);
    // At the rate this metric had values in each run (intervals with a value per second of run).
    const secondsFor = (m: MetricSamples) =>
      m.seconds > 0 && m.samples.length > 0 ? Math.ceil((perSideHolm / m.samples.length) * m.seconds) : null;
    const a = secondsFor(base);
    const b = secondsFor(cur);
    result.verdict = "insufficient";
    result.needed = { perSide, perSideHolm, runSeconds: a === null || b === null ? null : Math.max(a, b) };
    result.reason = `${base.samples.length} vs ${cur.samples.length} intervals with a value cannot reach p < ${alpha}: it needs at least ${perSide} on each side (${perSideHolm} to stay significant after the Holm adjustment over ${comparable} metrics)`;
    return result;
  }
  result.p = mannWhitneyU(cur.samples, base.samples).p;
  if (!base.pooled)
    result.ci = bootstrapMedianRatio(base.samples, cur.samples, { seed: seedOf(name), level: 1 - alpha });
  result.verdict = "ok";
  return result;
}

function judge(m: MetricComparison, alpha: number, threshold: number): void {
  if (m.pAdjusted === null) return;
  const worse = m.direction === "higher-is-worse" ? (m.change ?? 0) : -(m.change ?? 0);
  const significant = m.pAdjusted < alpha;
  const pct = `${Math.round(threshold * 1000) / 10}%`;
  if (significant && worse > threshold) {
    m.verdict = "regression";
    m.reason = `significantly worse by more than ${pct}`;
  } else if (significant && -worse > threshold) {
    m.verdict = "improvement";
    m.reason = `significantly better by more than ${pct}`;
  } else {
    m.verdict = "ok";
    m.reason = significant ? `significant but within ${pct}` : "no significant change";
  }
}

/**
 * Holm's step-down adjustment over every tested metric. A compare tests about fifteen metrics; each at alpha
 * alone, two runs of the same code would fail roughly one compare in ten. Adjusted, the chance of any false
 * alarm in a compare stays at most alpha, at little cost in power (the smallest p is multiplied by the count).
 */
export function holmAdjust(metrics: MetricComparison[]): void {
  const tested = metrics.filter((m) => m.p !== null).sort((a, b) => a.p! - b.p!);
  let running = 0;
  tested.forEach((m, i) => {
    running = Math.max(running, Math.min(1, (tested.length - i) * m.p!));
    m.pAdjusted = running;
  });
}

function relativeChange(base: number, run: number): number | null {
  if (base !== 0) return (run - base) / base;
  return run === 0 ? 0 : run > 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
}

/** The two-sided exact p of complete separation, 2 / C(n1 + n2, n1): no data of these sizes can do better. */
export function smallestTwoSidedP(n1: number, n2: number): number {
  let c = 1;
  for (let i = 1; i <= Math.min(n1, n2); i++) c = (c * (n1 + n2 - Math.min(n1, n2) + i)) / i;
  return Math.min(1, 2 / c);
}

/** The fewest intervals per side (equal sizes) whose complete separation reaches p < alpha. */
export function intervalsNeeded(alpha: number): number {
  let n = 1;
  while (smallestTwoSidedP(n, n) >= alpha && n < 10_000) n++;
  return n;
}

/** A fixed seed per metric name: reproducible intervals that do not share one random stream. */
function seedOf(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return h >>> 0;
}
