// `ktv report` and `ktv compare`. Exit codes: 0 fine; 1 compare found a significant regression or a metric it
// could not compare; 2 usage or bad input (missing files, wrong format, bad options). The work is in
// runReport / runCompare, which return the code, so tests need no subprocess for every case.

import { type Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { compareRuns } from "./compare/compare.ts";
import { comparisonJson, comparisonTable } from "./compare/table.ts";
import { ResultsError, readResults } from "./read-results.ts";
import { writeBenchReport } from "./report/bench-page.ts";
import { writeReport } from "./report/write.ts";

export const EXIT = { ok: 0, regression: 1, usage: 2 } as const;

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

const processIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

export interface ReportCliOptions {
  out?: string;
  markdown?: string;
  /** A bench results file (reports/bench/latest.json): chart it instead of a run. */
  bench?: string;
}

export function runReport(dir: string | undefined, opts: ReportCliOptions, io: Io = processIo): number {
  return guarded("report", io, () => {
    if (opts.bench !== undefined) {
      if (dir !== undefined || opts.markdown !== undefined) {
        io.err(
          "ktv report: --bench takes the bench results file alone (no results directory, no --markdown)\n",
        );
        return EXIT.usage;
      }
      io.out(`${writeBenchReport(opts.bench, { out: opts.out })}\n`);
      return EXIT.ok;
    }
    if (dir === undefined) {
      io.err("ktv report: missing <results-dir> (or --bench <file>)\n");
      return EXIT.usage;
    }
    const written = writeReport(dir, { out: opts.out, markdown: opts.markdown });
    io.out(`${written.html}\n`);
    if (written.markdown) io.out(`${written.markdown}\n`);
    else if (written.markdownText !== null) io.out(written.markdownText);
    return EXIT.ok;
  });
}

export interface CompareCliOptions {
  /** Fraction, e.g. 0.1 for 10%. */
  threshold?: number;
  alpha?: number;
  json?: boolean;
}

export function runCompare(
  baselineDir: string,
  runDir: string,
  opts: CompareCliOptions,
  io: Io = processIo,
): number {
  return guarded("compare", io, () => {
    const baseline = readResults(baselineDir);
    const run = readResults(runDir);
    if (baseline.summary.scenario.name !== run.summary.scenario.name) {
      io.err(
        `ktv compare: warning: comparing scenario "${run.summary.scenario.name}" with a baseline of "${baseline.summary.scenario.name}"\n`,
      );
    }
    const c = compareRuns(baseline, run, { threshold: opts.threshold, alpha: opts.alpha });
    io.out(opts.json ? comparisonJson(c, baseline, run) : comparisonTable(c, baseline, run));
    return c.ok ? EXIT.ok : EXIT.regression;
  });
}

/** "10%" or "10" -> 0.1: the threshold is a percentage. */
export function parseThreshold(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(text);
  if (!m) throw new InvalidArgumentError(`expected a percentage such as 10%, got "${text}"`);
  return Number(m[1]) / 100;
}

export function parseAlpha(text: string): number {
  const v = Number(text);
  if (text.trim() === "" || !(v > 0 && v < 1)) {
    throw new InvalidArgumentError(`expected a significance level in (0, 1) such as 0.01, got "${text}"`);
  }
  return v;
}

export function registerReportCommands(program: Command): void {
  const report = program
    .command("report")
    .description(
      "write a results directory's self-contained HTML report (and a Markdown summary for CI), or with --bench a bench run's page",
    )
    .argument("[results-dir]", "directory written by `ktv run`")
    .option(
      "--out <file>",
      "HTML output file (default: <results-dir>/report.html, or bench.html beside the --bench file)",
    )
    .option("--markdown <file>", "also write the Markdown summary; '-' prints it to stdout")
    .option("--bench <file>", "chart a bench results file (npm run bench writes reports/bench/latest.json)")
    .action((dir: string | undefined, opts: ReportCliOptions) => exitWith(runReport(dir, opts)));
  const compare = program
    .command("compare")
    .description(
      "compare a run with a baseline: Mann-Whitney U over per-interval values; exit 1 on a significant regression beyond the threshold, or a metric with nothing to compare",
    )
    .argument("<baseline-dir>", "results directory of the baseline run")
    .argument("<run-dir>", "results directory of the run under test")
    .addOption(
      new Option("--threshold <percent>", "smallest relative change in the bad direction that counts")
        .argParser(parseThreshold)
        .default(0.1, "10%"),
    )
    .addOption(new Option("--alpha <p>", "significance level").argParser(parseAlpha).default(0.01))
    .option("--json", "print the comparison as JSON")
    .action((baselineDir: string, runDir: string, opts: CompareCliOptions) =>
      exitWith(runCompare(baselineDir, runDir, opts)),
    );
  for (const cmd of [report, compare]) cmd.exitOverride(usageExit);
}

/** Commander's own errors (unknown option, missing argument, bad value) are usage errors: exit 2, not 1. */
function usageExit(err: CommanderError): never {
  if (err.exitCode === 0) throw err;
  throw new CommanderError(EXIT.usage, err.code, err.message);
}

function exitWith(code: number): void {
  // Thrown rather than process.exit(): the program's main decides how to leave (and flushes output).
  if (code !== EXIT.ok)
    throw new CommanderError(code, code === EXIT.usage ? "ktv.badInput" : "ktv.regression", "");
}

function guarded(name: string, io: Io, work: () => number): number {
  try {
    return work();
  } catch (e) {
    // Bad input, bad options, or an output path that cannot be written (EACCES, ENOTDIR...).
    if (e instanceof ResultsError || e instanceof RangeError || isSystemError(e)) {
      io.err(`ktv ${name}: ${e.message}\n`);
      return EXIT.usage;
    }
    throw e;
  }
}

function isSystemError(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === "string" && "syscall" in e;
}
