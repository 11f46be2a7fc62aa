// The human and machine renderings of a Comparison: an aligned text table for the terminal and CI logs, and a
// JSON document (infinite changes, e.g. errors from zero, become the strings "Infinity" / "-Infinity").

import type { RunResults } from "../read-results.ts";
import { fmt, fmtP, fmtPct } from "../units.ts";
import type { Comparison, MetricComparison } from "./compare.ts";

const VERDICT_LABEL: Record<MetricComparison["verdict"], string> = {
  regression: "REGRESSION",
  improvement: "improved",
  ok: "ok",
  missing: "FAIL: missing",
  insufficient: "FAIL: too few samples",
};

export function comparisonTable(c: Comparison, baseline: RunResults, run: RunResults): string {
  const ciLabel = `${Math.round((1 - c.alpha) * 1000) / 10}% CI of ratio`;
  const header = ["metric", "baseline", "run", "change", "p (Holm)", ciLabel, "verdict"];
  const rows = c.metrics.map((m) => [
    m.metric,
    withUnit(m.baseline.center, m),
    withUnit(m.run.center, m),
    fmtPct(m.change, true),
    fmtP(m.pAdjusted),
    m.ci ? `${fmt(m.ci.lo)} – ${fmt(m.ci.hi)}` : "–",
    VERDICT_LABEL[m.verdict] +
      (m.verdict === "missing" ? ` (${m.reason})` : "") +
      (m.needed ? ` (${m.baseline.n} vs ${m.run.n}; needs ≥ ${m.needed.perSideHolm} each)` : ""),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  // Names and verdicts read left-aligned, numbers right-aligned so their digits line up.
  const line = (cells: string[]) =>
    cells
      .map((cell, i) =>
        i === 0 || i === cells.length - 1 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!),
      )
      .join("  ")
      .trimEnd();
  const out = [
    `baseline: ${describeRun(baseline)}`,
    `run:      ${describeRun(run)}`,
    `gate:     regression when p < ${c.alpha} (Mann-Whitney U over per-interval values, Holm-adjusted over ${c.metrics.filter((m) => m.p !== null).length} metrics)`,
    `          and the median is worse by more than ${fmtPct(c.threshold)}`,
    "",
    line(header),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map(line),
    "",
  ];
  const short = c.metrics.filter((m) => m.needed);
  if (short.length > 0) {
    const longest = Math.max(0, ...short.map((m) => m.needed!.runSeconds ?? 0));
    const worst = Math.max(...short.map((m) => m.needed!.perSideHolm));
    out.push(
      `sample size: ${short.length} of ${c.metrics.length} metrics had too few intervals with a value to test.`,
      `          Each needs at least ${worst} intervals with a value in both runs (p < ${c.alpha}, Holm-adjusted);`,
      longest > 0
        ? `          at the rates these runs had values, runs of about ${fmt(longest)} s or more each (e.g. --duration ${Math.ceil(longest)}s).`
        : "          the runs had no interval with a value for some of them.",
      "",
    );
  }
  if (c.ok) out.push("result: no significant regression");
  else {
    const parts: string[] = [];
    if (c.regressions.length > 0) parts.push(`regression in ${c.regressions.join(", ")}`);
    if (c.failures.length > 0) parts.push(`no comparison for ${c.failures.join(", ")}`);
    out.push(`result: FAIL: ${parts.join("; ")}`);
  }
  return `${out.join("\n")}\n`;
}

export function comparisonJson(c: Comparison, baseline: RunResults, run: RunResults): string {
  const doc = { ...c, baseline: runInfo(baseline), run: runInfo(run) };
  return `${JSON.stringify(doc, (_k, v) => (typeof v === "number" && !Number.isFinite(v) && !Number.isNaN(v) ? String(v) : v), 2)}\n`;
}

function withUnit(v: number | null, m: MetricComparison): string {
  if (m.metric === "error_rate") return fmtPct(v);
  return v === null ? "–" : `${fmt(v)}${m.unit ? ` ${m.unit}` : ""}`;
}

function runInfo(r: RunResults) {
  return {
    dir: r.dir,
    scenario: r.summary.scenario.name,
    seed: r.environment.seed,
    git_commit: r.environment.git_commit,
    intervals: r.timeseries.length,
  };
}

function describeRun(r: RunResults): string {
  const commit = r.environment.git_commit ? r.environment.git_commit.slice(0, 10) : "no commit";
  return `${r.dir} (${r.summary.scenario.name}, seed ${r.environment.seed}, ${commit}, ${r.timeseries.length} intervals)`;
}
