// The console view of a bench run: the machine line and one row per case.

import type { BenchCaseResult, BenchMachine, BenchResults } from "../../reports/bench-format.ts";

export function machineLine(m: BenchMachine, quick: boolean): string {
  return (
    `bench${quick ? " --quick" : ""}: ${m.cores} x ${m.cpu}, ${m.platform}, node ${m.node}, ` +
    `${m.memory_gib} GiB, load average ${m.loadavg_start.map((x) => x.toFixed(2)).join(" ")}`
  );
}

export function targetText(
  r: Pick<BenchCaseResult, "target" | "target_of" | "higher_is_better" | "unit">,
): string {
  if (r.target_of === "ratio") return `ratio >= ${r.target}`;
  return `${r.higher_is_better ? ">=" : "<="} ${r.target} ${r.unit}`;
}

export function resultText(r: BenchCaseResult): string {
  if (r.status === "skipped") return "skipped";
  if (r.status === "error") return "ERROR";
  return r.pass ? "pass" : "FAIL";
}

export function formatTable(res: BenchResults): string {
  const head = ["case", "ours", "reference", "unit", "ratio", "min-max", "target", "result", "time"];
  const rows = res.cases.map((r) => [
    r.name,
    fmt(r.ours),
    `${fmt(r.reference)} (${r.reference_name})`,
    r.unit,
    r.ratio === null ? "-" : `${fmt(r.ratio)}x`,
    r.min === null ? "-" : `${fmt(r.min)}-${fmt(r.max)}`,
    targetText(r),
    resultText(r),
    r.duration_s === undefined ? "-" : `${r.duration_s} s`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  const notes = res.cases.filter((r) => r.reason).map((r) => `${r.name}: ${r.reason}`);
  return [
    line(head),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map(line),
    ...(notes.length ? ["", ...notes] : []),
    "",
    `${res.mode} run, ${res.duration_s} s; load average ${res.machine.loadavg_start.join(" ")} at the start, ` +
      `${res.machine.loadavg_end.join(" ")} at the end (ratio: higher is better; min-max: per-round ratios)`,
  ].join("\n");
}

export function fmt(x: number | null): string {
  if (x === null) return "-";
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toLocaleString("en");
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  return x.toFixed(2);
}
