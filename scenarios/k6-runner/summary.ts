import { createHash } from "node:crypto";
import type { GeneratorReport } from "../../reports/format.ts";
import type { Registry } from "./metrics.ts";
import type { ThresholdOutcome } from "./thresholds.ts";
import type { ChecksBook } from "./vu-state.ts";

// The end-of-test summary: the data object k6 hands to handleSummary(data) (metrics with their values and
// threshold verdicts, root_group with the checks per group, options, state) and the text k6 prints without one.

export const DEFAULT_TREND_STATS = ["avg", "min", "med", "max", "p(90)", "p(95)"];

interface GroupNode {
  name: string;
  path: string;
  id: string;
  groups: GroupNode[];
  checks: { name: string; path: string; id: string; passes: number; fails: number }[];
}

export interface SummaryData {
  metrics: Record<
    string,
    {
      type: string;
      contains: string;
      values: Record<string, number>;
      thresholds?: Record<string, { ok: boolean }>;
    }
  >;
  root_group: GroupNode;
  options: { summaryTrendStats: string[]; summaryTimeUnit: string; noColor: boolean };
  state: {
    isStdOutTTY: boolean;
    isStdErrTTY: boolean;
    testRunDurationMs: number;
    /**
     * Not in k6's data (k6 keeps it in its options): the execution segment this instance ran and the filled
     * sequence it is one of ("0:1", "0,1" for the whole test), so N instances' summaries can be checked to
     * cover the test exactly once.
     */
    execution_segment: string;
    execution_segment_sequence: string;
  };
  /** Not k6's: the runner's own health (generator.ts; `ktv run`'s summary.json has the same block). */
  generator?: GeneratorReport;
  generator_saturated?: boolean;
}

const md5 = (s: string) => createHash("md5").update(s).digest("hex");

function groupTree(book: ChecksBook): GroupNode {
  const nodes = new Map<string, GroupNode>();
  const node = (path: string): GroupNode => {
    let n = nodes.get(path);
    if (n) return n;
    const name = path === "" ? "" : path.slice(path.lastIndexOf("::") + 2);
    n = { name, path, id: md5(path), groups: [], checks: [] };
    nodes.set(path, n);
    if (path !== "") node(path.slice(0, path.lastIndexOf("::"))).groups.push(n);
    return n;
  };
  node("");
  for (const [path, checks] of book.byGroup) {
    const n = node(path);
    for (const [name, c] of checks) {
      const p = `${path}::${name}`;
      n.checks.push({ name, path: p, id: md5(p), passes: c.passes, fails: c.fails });
    }
  }
  return nodes.get("")!;
}

export function summaryData(
  registry: Registry,
  book: ChecksBook,
  thresholds: ThresholdOutcome[],
  o: {
    durationMs: number;
    trendStats: string[];
    stdoutTTY: boolean;
    stderrTTY: boolean;
    segment?: { segment: string; sequence: string };
    generator?: GeneratorReport;
  },
): SummaryData {
  const metrics: SummaryData["metrics"] = {};
  const durationS = o.durationMs / 1000;
  for (const def of registry.defs.values()) {
    for (const key of [def.name, ...registry.submetricsOf(def.name)]) {
      const own = thresholds.filter((t) => t.key === key);
      if (!registry.has(key) && own.length === 0) continue;
      metrics[key] = {
        type: def.type,
        contains: def.contains,
        values: registry.values(def, key, durationS, o.trendStats),
        ...(own.length > 0
          ? { thresholds: Object.fromEntries(own.map((t) => [t.source, { ok: t.ok }])) }
          : {}),
      };
    }
  }
  return {
    metrics,
    root_group: groupTree(book),
    options: { summaryTrendStats: o.trendStats, summaryTimeUnit: "", noColor: false },
    state: {
      isStdOutTTY: o.stdoutTTY,
      isStdErrTTY: o.stderrTTY,
      testRunDurationMs: o.durationMs,
      execution_segment: o.segment?.segment ?? "0:1",
      execution_segment_sequence: o.segment?.sequence ?? "0,1",
    },
    ...(o.generator ? { generator: o.generator, generator_saturated: o.generator.reasons.length > 0 } : {}),
  };
}

function fmt(v: number, contains: string): string {
  if (contains === "time")
    return v >= 1000
      ? `${(v / 1000).toFixed(2)}s`
      : v >= 1
        ? `${v.toFixed(2)}ms`
        : `${(v * 1000).toFixed(2)}µs`;
  if (contains === "data")
    return v >= 1e6 ? `${(v / 1e6).toFixed(1)} MB` : v >= 1e3 ? `${(v / 1e3).toFixed(1)} kB` : `${v} B`;
  return Number.isInteger(v) ? String(v) : v.toFixed(6).replace(/0+$/, "");
}

/** k6's text summary, in its compact shape: thresholds, checks, then every metric. */
export function textSummary(d: SummaryData, thresholds: ThresholdOutcome[]): string {
  const lines: string[] = [];
  if (thresholds.length > 0) {
    lines.push("  █ THRESHOLDS", "");
    const keys = [...new Set(thresholds.map((t) => t.key))];
    for (const k of keys) {
      lines.push(`    ${k}`);
      for (const t of thresholds.filter((x) => x.key === k))
        lines.push(
          `    ${t.ok ? "✓" : "✗"} '${t.source}' ${t.observed === null ? "no samples" : `observed ${Math.round(t.observed * 1000) / 1000}`}`,
        );
      lines.push("");
    }
  }
  const { execution_segment: seg, execution_segment_sequence: seq } = d.state;
  if (seg !== "0:1") lines.push(`  execution segment ${seg} of ${seq} (this instance's share only)`, "");
  lines.push("  █ TOTAL RESULTS", "");
  const walk = (g: GroupNode, indent: string) => {
    if (g.name !== "") lines.push(`${indent}█ ${g.name}`);
    for (const c of g.checks)
      lines.push(
        `${indent}  ${c.fails === 0 ? "✓" : "✗"} ${c.name}${c.fails > 0 ? ` (${c.passes} passed, ${c.fails} failed)` : ""}`,
      );
    for (const s of g.groups) walk(s, `${indent}  `);
  };
  walk(d.root_group, "  ");
  lines.push("");
  for (const [key, m] of Object.entries(d.metrics).sort(([a], [b]) => a.localeCompare(b))) {
    const v = m.values;
    let text: string;
    if (m.type === "trend")
      text = Object.entries(v)
        .map(([s, x]) => `${s}=${fmt(x, m.contains)}`)
        .join(" ");
    else if (m.type === "counter") text = `${fmt(v.count!, m.contains)} ${(v.rate ?? 0).toFixed(2)}/s`;
    else if (m.type === "rate")
      text = `${((v.rate ?? 0) * 100).toFixed(2)}% ${v.passes} out of ${(v.passes ?? 0) + (v.fails ?? 0)}`;
    else text = `${v.value} min=${v.min} max=${v.max}`;
    lines.push(`    ${`${key}`.padEnd(44, ".")}: ${text}`);
  }
  const g = d.generator;
  if (g) {
    const w = g.workers[0];
    lines.push(
      "",
      "  █ GENERATOR",
      "",
      `    saturated: ${d.generator_saturated ? `yes, from ${g.saturated_from_s} s (${g.reasons.map((r) => `${r.figure} ${r.observed} >= ${r.limit}`).join("; ")})` : "no"}`,
      `    process cpu mean=${g.process_cpu.mean} max=${g.process_cpu.max} (share of ${g.cores} cores)`,
      ...(w
        ? [
            `    elu mean=${w.elu_mean} max=${w.elu_max}  loop delay p99=${w.loop_delay_p99_ms}ms max=${w.loop_delay_max_ms}ms  clock lag p50=${w.clock_lag_p50_ms ?? "-"}ms p99=${w.clock_lag_p99_ms ?? "-"}ms max=${w.clock_lag_max_ms ?? "-"}ms`,
          ]
        : []),
    );
  }
  lines.push("", `  running time ${(d.state.testRunDurationMs / 1000).toFixed(1)}s`, "");
  return `${lines.join("\n")}\n`;
}
