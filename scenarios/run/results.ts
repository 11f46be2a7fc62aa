import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type {
  Environment,
  FaultEventLine,
  LedgerSnapshot,
  RunSummary,
  TimeseriesPoint,
} from "../../reports/format.ts";
import { RESULT_FILES } from "../../reports/format.ts";

// Writes a results directory (reports/format.ts). Each file is written whole to a temporary name and renamed,
// so a reader (or a run killed mid-write) never sees half a file.

function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

const ndjson = (lines: unknown[]) => lines.map((l) => `${JSON.stringify(l)}\n`).join("");

export interface ResultFiles {
  summary: RunSummary;
  /** null: already written, line by line as the run went (timeseries-writer.ts). */
  timeseries: TimeseriesPoint[] | null;
  ledger: LedgerSnapshot;
  faultEvents: FaultEventLine[];
  environment: Environment;
}

export function writeResults(dir: string, r: ResultFiles): void {
  mkdirSync(dir, { recursive: true });
  if (r.timeseries !== null) writeAtomic(join(dir, RESULT_FILES.timeseries), ndjson(r.timeseries));
  writeAtomic(join(dir, RESULT_FILES.ledger), `${JSON.stringify(r.ledger, null, 1)}\n`);
  writeAtomic(join(dir, RESULT_FILES.faultEvents), ndjson(r.faultEvents));
  writeAtomic(join(dir, RESULT_FILES.environment), `${JSON.stringify(r.environment, null, 2)}\n`);
  // Last: a summary.json present means the other files are complete.
  writeAtomic(join(dir, RESULT_FILES.summary), `${JSON.stringify(r.summary, null, 2)}\n`);
}
