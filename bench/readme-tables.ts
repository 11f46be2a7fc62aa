// `npm run bench:readme [-- --in FILE] [--readme FILE] [--check]`: rewrites the README's benchmark table (the
// part between the bench:begin and bench:end markers) from a bench results file (default
// reports/bench/latest.json, written by `npm run bench`). --check changes nothing and exits 1 when the README
// is not what the file says. Exit 2 on a missing or malformed file or README without the markers.

import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type BenchCaseResult, type BenchResults, readBenchResults } from "../reports/bench-format.ts";
import { DEFAULT_OUT } from "./runner/options.ts";
import { fmt, resultText, targetText } from "./runner/table.ts";

export const BEGIN =
  "<!-- bench:begin: `npm run bench:readme` writes this part from reports/bench/latest.json -->";
export const END = "<!-- bench:end -->";

/** Markdown table cells must not break the row. */
const cell = (t: string) => t.replaceAll("|", "\\|").replaceAll("\n", " ");

function row(r: BenchCaseResult): string {
  const skipped = r.status === "skipped" || r.status === "error";
  const ratio = r.ratio === null ? "-" : `${fmt(r.ratio)}x (${fmt(r.min)}-${fmt(r.max)})`;
  const result = skipped
    ? `${resultText(r)}: ${r.reason ?? ""}`
    : resultText(r) + (r.reason ? `: ${r.reason}` : "");
  return `| ${[
    `\`${r.name}\``,
    skipped ? "-" : `${fmt(r.ours)} ${r.unit}`,
    skipped ? `(${r.reference_name})` : `${fmt(r.reference)} ${r.unit} (${r.reference_name})`,
    ratio,
    targetText(r),
    result,
  ]
    .map(cell)
    .join(" | ")} |`;
}

export function renderBenchMarkdown(res: BenchResults): string {
  const m = res.machine;
  const load = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(" ");
  return [
    `\`npm run bench${res.mode === "quick" ? " -- --quick" : ""}\` on ${res.generated_at.slice(0, 10)}: ${m.cores} x ${m.cpu}, ` +
      `${m.platform}, Node ${m.node}, load average ${load(m.loadavg_start)} at the start and ${load(m.loadavg_end)} at the end ` +
      `(${res.duration_s} s). Medians of interleaved rounds; ratio oriented so that higher is better (ours / reference ` +
      "for a rate, reference / ours for a cost), min-max over the rounds.",
    "",
    "| case | ours | reference | ratio (min-max) | target | result |",
    "|---|---:|---:|---:|---|---|",
    ...res.cases.map(row),
  ].join("\n");
}

/** The README with the part between the markers replaced by `markdown`; throws when the markers are missing. */
export function replaceBenchSection(readme: string, markdown: string): string {
  const a = readme.indexOf(BEGIN);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) throw new Error(`the README has no ${BEGIN} ... ${END} markers`);
  return `${readme.slice(0, a + BEGIN.length)}\n${markdown}\n${readme.slice(b)}`;
}

/** The command: 0 written or up to date, 1 --check found a stale table, 2 bad input. */
export function readmeTablesMain(
  argv: readonly string[],
  io: { out: (l: string) => void; err: (l: string) => void } = { out: console.log, err: console.error },
): number {
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        in: { type: "string", default: DEFAULT_OUT },
        readme: { type: "string", default: "README.md" },
        check: { type: "boolean", default: false },
      },
    });
    const res = readBenchResults(values.in);
    const before = readFileSync(values.readme, "utf8");
    const after = replaceBenchSection(before, renderBenchMarkdown(res));
    if (values.check) {
      if (after === before) return 0;
      io.err(
        `${values.readme}: the benchmark table is not the one ${values.in} gives (npm run bench:readme)`,
      );
      return 1;
    }
    if (after === before) io.out(`${values.readme}: already up to date`);
    else {
      writeFileSync(values.readme, after);
      io.out(`${values.readme}: benchmark table rewritten from ${values.in}`);
    }
    return 0;
  } catch (e) {
    io.err(`bench:readme: ${(e as Error).message}`);
    return 2;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = readmeTablesMain(process.argv.slice(2));
}
