import { existsSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { type Command, CommanderError } from "commander";
import { RESULT_FILES } from "../../reports/format.ts";
import { ResultsError } from "../../reports/read-results.ts";
import { writeReport } from "../../reports/report/write.ts";
import { K6JsonError } from "../metrics/k6-json.ts";
import { INTERVALS_FILE, IntervalsError, IntervalsWriter } from "../run/intervals.ts";
import { writeResults } from "../run/results.ts";
import { writeRunK6Json } from "./k6-points.ts";
import { mergeK6Files } from "./merge-k6.ts";
import { MergeError, mergeRunDirs } from "./merge-runs.ts";
import { scriptThresholds } from "./script-thresholds.ts";
import { SegmentError } from "./segments.ts";

/** k6 exposes the process environment in __ENV: a script's thresholds may read it. */
function processEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) out[k] = v;
  return out;
}

// `ktv merge <dir-or-json>... [--out dir]`: N instances of one test into one results directory that
// `ktv report` reads like any run, with the thresholds judged on the merged data. Inputs are all of one kind:
//   - `ktv run` results directories (summary.json + intervals.ndjson): merge-runs.ts;
//   - k6 JSON output files (.json / .ndjson / .gz, from a real k6's `--out json=` or `ktv k6 --out json=`), or
//     directories holding one as k6.json / k6.json.gz: merge-k6.ts.
// Exit codes as `ktv run`: 0 passed, 99 a threshold (or an instance's check) failed on the merged data, 2 the
// inputs do not fit together or cannot be read (the message says which and why).

export const EXIT = { ok: 0, thresholds: 99, usage: 2 } as const;

type Input = { kind: "run"; dir: string } | { kind: "k6"; file: string };

export function classify(path: string): Input {
  if (!existsSync(path)) throw new MergeError(`${path}: no such file or directory`);
  if (!statSync(path).isDirectory()) return { kind: "k6", file: path };
  if (existsSync(join(path, RESULT_FILES.summary))) {
    if (!existsSync(join(path, INTERVALS_FILE)))
      throw new MergeError(
        `${path}: a results directory without ${INTERVALS_FILE} (written by a ktv run older than ktv merge): its percentiles cannot be merged`,
      );
    return { kind: "run", dir: path };
  }
  for (const f of ["k6.json", "k6.json.gz"])
    if (existsSync(join(path, f))) return { kind: "k6", file: join(path, f) };
  throw new MergeError(
    `${path}: neither a ktv run results directory (summary.json) nor one holding k6 JSON output (k6.json)`,
  );
}

export interface MergeCliOptions {
  out?: string;
  thresholds?: string;
  script?: string;
  k6Json?: boolean;
  report: boolean;
}

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

export async function mergeCommand(paths: string[], opts: MergeCliOptions, io: Io): Promise<number> {
  try {
    const inputs = paths.map(classify);
    const kinds = new Set(inputs.map((i) => i.kind));
    if (kinds.size > 1) {
      throw new MergeError(
        "the inputs mix ktv run results directories with k6 JSON output: merge instances of one runner",
      );
    }
    const out = resolve(opts.out ?? `results/merged-${new Date().toISOString().replace(/[:.]/g, "-")}`);
    const seen = new Map<string, string>();
    for (const p of paths) {
      const r = resolve(p);
      if (seen.has(r))
        throw new MergeError(`${p} is given twice (as ${seen.get(r)} too): its samples would count twice`);
      seen.set(r, p);
      if (r === out || (statSync(r).isDirectory() && resolve(r, "k6.json") === resolve(out, "k6.json")))
        throw new MergeError(`--out ${opts.out} is one of the inputs: the merge would overwrite it`);
    }
    let exitCode: number;
    let thresholds: { metric: string; expression: string; ok: boolean; observed: number | null }[];
    if (kinds.has("run")) {
      if (opts.thresholds !== undefined || opts.script !== undefined)
        throw new MergeError(
          "--thresholds and --script are for k6 JSON inputs: a ktv run's thresholds are its scenario's",
        );
      const m = mergeRunDirs(inputs.map((i) => (i as { dir: string }).dir));
      const w = new IntervalsWriter(out, m.t0, m.intervalMs);
      for (const iv of m.intervals) w.add(iv.start_t, iv.t, iv.vus, iv.set);
      w.close();
      writeResults(out, m.files);
      if (opts.k6Json) {
        const o = m.files.summary.scenario.options as { options?: { thresholds?: Record<string, unknown> } };
        await writeRunK6Json(join(out, "k6.json"), m.intervals, o.options?.thresholds);
      }
      exitCode = m.exitCode;
      thresholds = m.files.summary.thresholds;
    } else {
      if (opts.k6Json)
        throw new MergeError("--k6-json is for ktv run inputs: k6 JSON inputs are already k6 JSON");
      let given: Record<string, unknown> | undefined;
      if (opts.thresholds !== undefined && opts.script !== undefined)
        throw new MergeError("give the thresholds by --thresholds or by --script, not both");
      if (opts.script !== undefined) {
        try {
          given = await scriptThresholds(opts.script, processEnv());
        } catch (e) {
          throw new MergeError(`--script ${opts.script}: ${(e as Error).message}`);
        }
      }
      if (opts.thresholds !== undefined) {
        try {
          given = JSON.parse(readFileSync(opts.thresholds, "utf8"));
        } catch (e) {
          throw new MergeError(`--thresholds ${opts.thresholds}: ${(e as Error).message}`);
        }
        if (typeof given !== "object" || given === null || Array.isArray(given))
          throw new MergeError(`--thresholds ${opts.thresholds}: expected k6's thresholds object`);
      }
      const m = await mergeK6Files(
        inputs.map((i) => (i as { file: string }).file),
        {
          ...(given ? { thresholds: given } : {}),
          ...(opts.script ? { thresholdsFrom: opts.script } : {}),
          warn: (t) => io.err(`ktv merge: ${t}`),
        },
      );
      writeResults(out, m.files);
      exitCode = m.exitCode;
      thresholds = m.files.summary.thresholds;
    }
    io.out(`results: ${out}\n`);
    if (opts.report) io.out(`report: ${writeReport(out).html}\n`);
    for (const t of thresholds) {
      const observed = t.observed === null ? "nothing" : String(Math.round(t.observed * 1000) / 1000);
      io.err(
        `ktv merge: threshold ${t.ok ? "passed" : "FAILED"}: ${t.metric} ${t.expression} (observed ${observed} over the merged run)\n`,
      );
    }
    return exitCode;
  } catch (e) {
    if (
      e instanceof MergeError ||
      e instanceof SegmentError ||
      e instanceof K6JsonError ||
      e instanceof IntervalsError ||
      e instanceof ResultsError
    ) {
      io.err(`ktv merge: ${e.message}\n`);
      return EXIT.usage;
    }
    throw e;
  }
}

export function registerMergeCommand(program: Command): void {
  program
    .command("merge")
    .description(
      "merge N instances of one test (ktv run results directories, or k6 JSON output) into one results directory, thresholds judged on the merged data",
    )
    .argument(
      "<inputs...>",
      "ktv run results directories, or k6 JSON output files (or directories with k6.json)",
    )
    .option("--out <dir>", "the merged results directory (default: results/merged-<time>)")
    .option(
      "--thresholds <file>",
      "k6 inputs: a JSON file of k6 thresholds to judge (k6's JSON output records a metric's own, never a submetric's)",
    )
    .option(
      "--script <file>",
      "k6 inputs: the k6 script they ran; its options.thresholds are judged (and must match the thresholds the inputs recorded)",
    )
    .option("--k6-json", "ktv run inputs: also write the merged samples as k6 JSON output (<out>/k6.json)")
    .option("--no-report", "do not write the HTML report")
    .action(async (paths: string[], opts: MergeCliOptions) => {
      process.exitCode = await mergeCommand(paths, opts, {
        out: (t) => process.stdout.write(t),
        err: (t) => process.stderr.write(t),
      });
      if (process.exitCode !== 0) throw new CommanderError(process.exitCode, "ktv.merge", "");
    });
}
