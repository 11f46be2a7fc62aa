import type {
  CheckResult,
  FaultEventLine,
  LedgerRowLine,
  LedgerSnapshot,
  RunSummary,
  TimeseriesPoint,
} from "../../reports/format.ts";
import { readResults } from "../../reports/read-results.ts";
import { MetricSet } from "../metrics/set.ts";
import type { ResolvedScenario } from "../resolve.ts";
import { totalsOf } from "../run/admin.ts";
import type { RunEnvironment } from "../run/environment.ts";
import { type IntervalLine, readIntervals } from "../run/intervals.ts";
import type { ResultFiles } from "../run/results.ts";
import { timeseriesPoint } from "../run/series.ts";
import { buildSummary } from "../run/summary.ts";
import { vendorRouteLines } from "../run/vendor-routes.ts";
import { ThresholdBook } from "../thresholds/evaluate.ts";
import { parseThresholds } from "../thresholds/parser.ts";
import { checkSegments } from "./segments.ts";

// `ktv merge` of `ktv run` results directories (N instances of one scenario, e.g. its execution segments on N
// machines) into one results directory, as if one runner had recorded every instance's samples:
//   - each instance's intervals (intervals.ndjson: exact HDR buckets) go into the merged interval whose time
//     slot they ended in, counted from the earliest instance's start: counters add, rates add their trues and
//     totals, histograms add bucket by bucket, so a percentile is over every sample (not an average of
//     percentiles), within the histograms' 3 significant digits;
//   - rates per second (counter rates, capacity, vendor routes) divide by the merged real span, from the
//     earliest start to the latest end;
//   - the scenario's thresholds are evaluated on the merged data (sliding windows over the merged intervals),
//     which k6 cannot do: each k6 instance judges its own share only;
//   - the ledger and fault events are the union (a row or event two instances both read from one shared target
//     counts once); each instance's own checks are kept, named by instance, and a failed one fails the merge.

export class MergeError extends Error {
  override name = "MergeError";
}

interface RunInput {
  dir: string;
  summary: RunSummary & Record<string, unknown>;
  ledger: LedgerSnapshot;
  faultEvents: FaultEventLine[];
  environment: RunEnvironment;
  intervals: IntervalLine[];
  intervalMs: number;
  t0: number;
}

export interface MergeOutcome {
  files: ResultFiles;
  exitCode: 0 | 99;
  /** The merged intervals, from t0 (written as the merge's own intervals.ndjson, so a merge merges again). */
  intervals: IntervalLine[];
  t0: number;
  intervalMs: number;
}

const optionsOf = (s: RunSummary) =>
  (s.scenario.options ?? {}) as { options?: { thresholds?: unknown }; ktv?: Record<string, unknown> };

function load(dir: string): RunInput {
  const r = readResults(dir);
  const iv = readIntervals(dir);
  return {
    dir,
    summary: r.summary as RunSummary & Record<string, unknown>,
    ledger: r.ledger,
    faultEvents: r.faultEvents,
    environment: r.environment as RunEnvironment,
    intervals: iv.intervals,
    intervalMs: iv.intervalMs,
    t0: iv.t0,
  };
}

const stable = (v: unknown): string =>
  JSON.stringify(v, (_k, x) =>
    x && typeof x === "object" && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b)))
      : x,
  );

/** The inputs must be instances of one scenario with one set of thresholds, their segments fitting together. */
function checkFit(inputs: RunInput[]): string | null {
  const first = inputs[0]!;
  for (const i of inputs.slice(1)) {
    if (i.summary.scenario.name !== first.summary.scenario.name) {
      throw new MergeError(
        `${i.dir} ran scenario "${i.summary.scenario.name}", ${first.dir} ran "${first.summary.scenario.name}": only instances of one scenario merge`,
      );
    }
    if (
      stable(optionsOf(i.summary).options?.thresholds) !==
      stable(optionsOf(first.summary).options?.thresholds)
    ) {
      throw new MergeError(
        `${i.dir} and ${first.dir} ran scenario "${first.summary.scenario.name}" with different thresholds: the merged verdict would mean neither`,
      );
    }
    if (i.intervalMs !== first.intervalMs)
      throw new MergeError(`${i.dir} has ${i.intervalMs} ms intervals, ${first.dir} ${first.intervalMs} ms`);
  }
  return checkSegments(
    inputs.map((i) => ({
      source: i.dir,
      segment: typeof i.summary.execution_segment === "string" ? i.summary.execution_segment : null,
      sequence:
        typeof i.summary.execution_segment_sequence === "string"
          ? i.summary.execution_segment_sequence
          : null,
    })),
  );
}

/** Each instance's intervals into slots of intervalMs from the earliest start; a slot ends at its latest member. */
export function mergeIntervals(
  runs: { intervals: IntervalLine[] }[],
  t0: number,
  intervalMs: number,
): IntervalLine[] {
  const slots = new Map<number, { set: MetricSet; t: number; vus: Map<number, number> }>();
  runs.forEach((run, r) => {
    for (const iv of run.intervals) {
      const k = Math.max(0, Math.ceil((iv.t - t0) / intervalMs) - 1);
      let slot = slots.get(k);
      if (!slot) {
        slot = { set: new MetricSet(), t: iv.t, vus: new Map() };
        slots.set(k, slot);
      }
      slot.set.mergeSet(iv.set);
      slot.t = Math.max(slot.t, iv.t);
      // An instance that flushed twice within one slot (a late interval) has its VUs counted once.
      slot.vus.set(r, Math.max(slot.vus.get(r) ?? 0, iv.vus));
    }
  });
  const out: IntervalLine[] = [];
  let prevT = t0;
  for (const k of [...slots.keys()].sort((a, b) => a - b)) {
    const s = slots.get(k)!;
    const vus = [...s.vus.values()].reduce((a, v) => a + v, 0);
    out.push({ start_t: prevT, t: s.t, vus, set: s.set });
    prevT = s.t;
  }
  return out;
}

function unionLedger(inputs: RunInput[]): LedgerSnapshot {
  const seen = new Set<string>();
  const rows: LedgerRowLine[] = [];
  for (const i of inputs) {
    for (const row of i.ledger.rows) {
      const key = `${i.environment.target}\u0000${row.id}`;
      if (seen.has(key)) continue;
      seen.add(key);
      rows.push(row);
    }
  }
  rows.sort((a, b) => a.time - b.time || a.id - b.id);
  return { rows, totals: totalsOf(rows), next_since_id: null };
}

function unionFaultEvents(inputs: RunInput[]): FaultEventLine[] {
  const seen = new Set<string>();
  const out: FaultEventLine[] = [];
  for (const i of inputs) {
    for (const e of i.faultEvents) {
      const key = `${i.environment.target}\u0000${JSON.stringify(e)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(e);
    }
  }
  return out.sort((a, b) => a.time - b.time);
}

export function mergeRunDirs(dirs: string[]): MergeOutcome {
  const inputs = dirs.map(load);
  const segment = checkFit(inputs);
  const first = inputs[0]!;
  const intervalMs = first.intervalMs;
  const t0 = Math.min(...inputs.map((i) => i.t0));
  const endT = Math.max(...inputs.map((i) => i.intervals.at(-1)?.t ?? i.t0));
  const durationS = Math.max(0, (endT - t0) / 1000);
  const intervals = mergeIntervals(inputs, t0, intervalMs);

  const { thresholds, errors } = parseThresholds(optionsOf(first.summary).options?.thresholds);
  if (errors.length > 0)
    throw new MergeError(`${first.dir}: its scenario's thresholds: ${errors.join("; ")}`);
  const book = new ThresholdBook(thresholds, intervalMs);
  const total = new MetricSet();
  const points: TimeseriesPoint[] = [];
  for (const iv of intervals) {
    total.mergeSet(iv.set);
    book.onInterval(iv.set, total, iv.t - t0);
    points.push(timeseriesPoint(iv.set, { t: iv.t, elapsedS: (iv.t - t0) / 1000, vus: iv.vus }));
  }

  const { options: scOptions, ktv, plan: _plan } = optionsOf(first.summary) as Record<string, unknown>;
  const scenario = {
    name: first.summary.scenario.name,
    description: first.summary.scenario.description,
    options: scOptions,
    ...(ktv as object),
  } as ResolvedScenario;
  const ledger = unionLedger(inputs);
  const checks: CheckResult[] = inputs.flatMap((i, n) =>
    (i.summary.checks ?? []).map((c) => ({ ...c, name: `${c.name} (instance ${n + 1}: ${i.dir})` })),
  );
  const hosts = [...new Set(inputs.map((i) => i.environment.hostname))];
  const environment: RunEnvironment = {
    ...first.environment,
    hostname: hosts.join(", "),
    started_at: new Date(t0).toISOString(),
    workers: inputs.reduce((a, i) => a + (i.environment.workers ?? 0), 0),
  };
  const interrupted = inputs.filter((i) => i.summary.interrupted);
  const summary = buildSummary({
    scenario,
    total,
    points,
    thresholds: book.final(total, durationS),
    aborts: [],
    ledger,
    t0,
    endT,
    stopReason:
      interrupted.length > 0
        ? interrupted.map((i) => `${i.dir}: ${i.summary.interrupt_reason ?? "interrupted"}`).join("; ")
        : null,
    environment,
    notes: inputs.flatMap((i) =>
      ((i.summary.conformance as unknown[] | undefined) ?? []).map((data) => ({ kind: "conformance", data })),
    ),
    checks,
  });
  summary.vendor_routes = vendorRouteLines(total, durationS);
  if (segment !== null) {
    // The whole test, and the sequence it was split by.
    summary.execution_segment = segment;
    const sequence = first.summary.execution_segment_sequence;
    if (typeof sequence === "string") summary.execution_segment_sequence = sequence;
  }
  summary.merged_from = inputs.map((i) => ({
    dir: i.dir,
    hostname: i.environment.hostname,
    started_at: i.summary.started_at,
    ended_at: i.summary.ended_at,
    execution_segment: i.summary.execution_segment ?? null,
    iterations: i.summary.counters.iterations,
    thresholds_ok: i.summary.thresholds.every((t) => t.ok),
  }));
  const failed = summary.thresholds.some((t) => !t.ok) || checks.some((c) => !c.ok);
  return {
    files: { summary, timeseries: points, ledger, faultEvents: unionFaultEvents(inputs), environment },
    exitCode: failed ? 99 : 0,
    intervals,
    t0,
    intervalMs,
  };
}
