// Reads and checks a results directory (format.ts). Every problem is a ResultsError naming the file and what is
// wrong with it, which the CLI turns into exit code 2: a report or a compare over a broken run must not pass.

import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { TSchema } from "@sinclair/typebox";
import type { Environment, FaultEventLine, LedgerSnapshot, RunSummary, TimeseriesPoint } from "./format.ts";
import { RESULT_FILES, RESULTS_FORMAT } from "./format.ts";
import {
  EnvironmentSchema,
  FaultEventLineSchema,
  LedgerSnapshotSchema,
  RunSummarySchema,
  schemaProblems,
  TimeseriesPointSchema,
} from "./schema.ts";

export class ResultsError extends Error {
  override name = "ResultsError";
}

export interface RunResults {
  dir: string;
  summary: RunSummary;
  /** In interval order. */
  timeseries: TimeseriesPoint[];
  ledger: LedgerSnapshot;
  faultEvents: FaultEventLine[];
  environment: Environment;
}

export { RESULT_FILES };

export function readResults(dir: string): RunResults {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ResultsError(`${dir}: not a results directory (it does not exist or is not a directory)`);
  }
  const summaryRaw = readJson(dir, RESULT_FILES.summary);
  const format = (summaryRaw as { format?: unknown } | null)?.format;
  if (format !== RESULTS_FORMAT) {
    throw new ResultsError(
      `${join(dir, RESULT_FILES.summary)}: format is ${JSON.stringify(format)}, expected "${RESULTS_FORMAT}"`,
    );
  }
  const summary = checked<RunSummary>(RunSummarySchema, summaryRaw, join(dir, RESULT_FILES.summary));
  const timeseries = readNdjson<TimeseriesPoint>(dir, RESULT_FILES.timeseries, TimeseriesPointSchema);
  timeseries.sort((a, b) => a.t - b.t);
  const ledger = checked<LedgerSnapshot>(
    LedgerSnapshotSchema,
    readJson(dir, RESULT_FILES.ledger),
    join(dir, RESULT_FILES.ledger),
  );
  const faultEvents = readNdjson<FaultEventLine>(dir, RESULT_FILES.faultEvents, FaultEventLineSchema);
  // environment.json repeats summary.environment; when present it must be well-formed too.
  const envPath = join(dir, RESULT_FILES.environment);
  const environment = existsSync(envPath)
    ? checked<Environment>(EnvironmentSchema, readJson(dir, RESULT_FILES.environment), envPath)
    : summary.environment;
  return { dir, summary, timeseries, ledger, faultEvents, environment };
}

function readText(dir: string, file: string): string {
  const path = join(dir, file);
  if (!existsSync(path)) throw new ResultsError(`${path}: missing (every results directory has ${file})`);
  return readFileSync(path, "utf8");
}

function readJson(dir: string, file: string): unknown {
  try {
    return JSON.parse(readText(dir, file));
  } catch (e) {
    if (e instanceof ResultsError) throw e;
    throw new ResultsError(`${join(dir, file)}: not valid JSON (${(e as Error).message})`);
  }
}

function readNdjson<T>(dir: string, file: string, schema: TSchema): T[] {
  const path = join(dir, file);
  const out: T[] = [];
  readText(dir, file)
    .split("\n")
    .forEach((line, i) => {
      if (line.trim() === "") return;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (e) {
        throw new ResultsError(`${path}:${i + 1}: not valid JSON (${(e as Error).message})`);
      }
      out.push(checked<T>(schema, value, `${path}:${i + 1}`));
    });
  return out;
}

function checked<T>(schema: TSchema, value: unknown, where: string): T {
  const problems = schemaProblems(schema, value);
  if (problems.length > 0)
    throw new ResultsError(`${where}: not in the results format: ${problems.join("; ")}`);
  return value as T;
}
