import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type {
  Environment,
  FaultEventLine,
  LedgerSnapshot,
  RunSummary,
  TimeseriesPoint,
} from "../../reports/format.ts";

// Writes a results directory (reports/format.ts). Each file is written whole to a temporary name and renamed,
// so a reader (or a run killed mid-write) never sees half a file.

export const FILES = {
  summary: "summary.json",
  timeseries: "timeseries.ndjson",
  ledger: "ledger.json",
  faultEvents: "fault-events.ndjson",
  environment: "environment.json",
} as const;

function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

const ndjson = (lines: unknown[]) => lines.map((l) => `${JSON.stringify(l)}\n`).join("");

export interface ResultFiles {
  summary: RunSummary;
  timeseries: TimeseriesPoint[];
  ledger: LedgerSnapshot;
  faultEvents: FaultEventLine[];
  environment: Environment;
}

export function writeResults(dir: string, r: ResultFiles): void {
  mkdirSync(dir, { recursive: true });
  writeAtomic(join(dir, FILES.timeseries), ndjson(r.timeseries));
  writeAtomic(join(dir, FILES.ledger), `${JSON.stringify(r.ledger, null, 1)}\n`);
  writeAtomic(join(dir, FILES.faultEvents), ndjson(r.faultEvents));
  writeAtomic(join(dir, FILES.environment), `${JSON.stringify(r.environment, null, 2)}\n`);
  // Last: a summary.json present means the other files are complete.
  writeAtomic(join(dir, FILES.summary), `${JSON.stringify(r.summary, null, 2)}\n`);
}
