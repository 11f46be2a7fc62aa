// The benchmark results file `npm run bench` writes (reports/bench/latest.json) and `ktv report --bench` and
// `npm run bench:readme` read: the contract between bench/ (which measures) and the readers, as format.ts is
// for run results. One object:
//
//   { format: "ktv-bench/1", generated_at, mode: "quick" | "full", duration_s,
//     machine: { cpu, cores, node, platform, memory_gib, loadavg_start: [1, 5, 15 min], loadavg_end },
//     peers: { ffmpeg: "<version line>" | null, nginx: ..., wrk: ... },
//     cases: [ BenchCaseResult, ... ] }
//
// Every case races ours against a reference in the same run, interleaved, `rounds` times. `ours` and
// `reference` are medians in `unit`; `ratio` is oriented so that higher is better whatever the unit
// (ours / reference when the unit is a rate, reference / ours when it is a cost); `min`/`max` are the smallest
// and largest per-round ratio (round i's ours against round i's reference). `target` applies to the ratio
// (`target_of: "ratio"`, pass when ratio >= target) or to ours itself (`target_of: "ours"`, pass when ours
// <= target for a cost, >= for a rate). A case whose peer binary is missing is `status: "skipped"` with
// `pass: null`; one that threw is `status: "error"` with `pass: false`; both carry `reason`. A round in which a
// side gave no figure (bench/runner/case.ts RoundFailure) is counted in `rounds_failed` with its cause in
// `round_failures`; the medians are over the rounds that gave one, and a side that gave none in every round
// makes the case `status: "fail"` with null medians and ratio and the cause in `reason`.

import { existsSync, readFileSync } from "node:fs";
import { type Static, Type } from "@sinclair/typebox";
import { ResultsError } from "./read-results.ts";
import { schemaProblems } from "./schema.ts";

export const BENCH_FORMAT = "ktv-bench/1";

const Num = Type.Union([Type.Number(), Type.Null()]);

export const BenchCaseResultSchema = Type.Object({
  name: Type.String(),
  /** What is raced against what, one line. */
  description: Type.String(),
  status: Type.Union([
    Type.Literal("pass"),
    Type.Literal("fail"),
    Type.Literal("skipped"),
    Type.Literal("error"),
  ]),
  ours: Num,
  reference: Num,
  /** The reference's name, e.g. "ffmpeg amix" or "TypedArray.set". */
  reference_name: Type.String(),
  unit: Type.String(),
  higher_is_better: Type.Boolean(),
  ratio: Num,
  target: Type.Number(),
  target_of: Type.Union([Type.Literal("ratio"), Type.Literal("ours")]),
  pass: Type.Union([Type.Boolean(), Type.Null()]),
  /** Rounds attempted. */
  rounds: Type.Integer({ minimum: 0 }),
  /** Rounds in which ours or the reference gave no figure; absent when none failed. */
  rounds_failed: Type.Optional(Type.Integer({ minimum: 0 })),
  /** Why, per failed side of a round ("round 2 ours: ..."); absent when none failed. */
  round_failures: Type.Optional(Type.Array(Type.String())),
  min: Num,
  max: Num,
  ours_min: Num,
  ours_max: Num,
  reference_min: Num,
  reference_max: Num,
  /** Why skipped, why it errored, or which check failed (e.g. outputs not bit-identical). */
  reason: Type.Optional(Type.String()),
  /** Wall seconds the case took in the run (setup, rounds, finish and close); absent for a skipped case. */
  duration_s: Type.Optional(Type.Number()),
  /** The same split by phase: preparing the race, the rounds, the checks plus stopping servers. */
  phases_s: Type.Optional(
    Type.Object({ setup: Type.Number(), rounds: Type.Number(), finish_close: Type.Number() }),
  ),
  /** Case-specific facts measured on the way (p99s, bit-identity, tool used). */
  extra: Type.Optional(
    Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
  ),
});
export type BenchCaseResult = Static<typeof BenchCaseResultSchema>;

const Load = Type.Array(Type.Number(), { minItems: 3, maxItems: 3 });

export const BenchMachineSchema = Type.Object({
  cpu: Type.String(),
  cores: Type.Integer({ minimum: 1 }),
  node: Type.String(),
  platform: Type.String(),
  memory_gib: Type.Number(),
  loadavg_start: Load,
  loadavg_end: Load,
});
export type BenchMachine = Static<typeof BenchMachineSchema>;

export const BenchResultsSchema = Type.Object({
  format: Type.Literal(BENCH_FORMAT),
  generated_at: Type.String(),
  mode: Type.Union([Type.Literal("quick"), Type.Literal("full")]),
  duration_s: Type.Number(),
  machine: BenchMachineSchema,
  peers: Type.Record(Type.String(), Type.Union([Type.String(), Type.Null()])),
  cases: Type.Array(BenchCaseResultSchema),
});
export type BenchResults = Static<typeof BenchResultsSchema>;

/** Reads and checks a bench results file; every problem is a ResultsError naming the file. */
export function readBenchResults(path: string): BenchResults {
  if (!existsSync(path)) throw new ResultsError(`${path}: missing (npm run bench writes it)`);
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new ResultsError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  const format = (value as { format?: unknown } | null)?.format;
  if (format !== BENCH_FORMAT) {
    throw new ResultsError(`${path}: format is ${JSON.stringify(format)}, expected "${BENCH_FORMAT}"`);
  }
  const problems = schemaProblems(BenchResultsSchema, value);
  if (problems.length > 0) throw new ResultsError(`${path}: not in the bench format: ${problems.join("; ")}`);
  return value as BenchResults;
}
