import { FRAME_MS } from "../../reference/mixer/frame.ts";
import type {
  CapacityModel,
  CheckResult,
  GeneratorReport,
  LedgerSnapshot,
  RunSummary,
  ThresholdResult,
} from "../../reports/format.ts";
import { RESULTS_FORMAT } from "../../reports/format.ts";
import { bucketize, linearBounds, logBounds } from "../metrics/buckets.ts";
import type { MetricSet } from "../metrics/set.ts";
import { planOf, type ResolvedScenario } from "../resolve.ts";
import type { Breach } from "../thresholds/evaluate.ts";
import { capacityModel } from "./capacity.ts";
import type { RunEnvironment } from "./environment.ts";
import { extraCounters, summaryMetrics } from "./series.ts";
import { serverApiSummary } from "./server-api-summary.ts";
import type { LoadPoint } from "./timeseries-writer.ts";

// summary.json from a finished run's merged samples (reports/format.ts RunSummary, plus additive fields:
// counters.failed_iterations, failed_iterations_by_code and ledger_rows, capacity.extrapolated, checks,
// conformance verdicts, execution_segment and execution_segment_sequence, and the generator's self-watch: `generator`, `generator_saturated`, and a capacity knee
// withheld when the generator may have caused it, kneeVerdict below).

export interface SummaryInput {
  scenario: ResolvedScenario;
  total: MetricSet;
  /** Each interval's time and VU count (the run's timeseries points, or just these two fields of them). */
  points: LoadPoint[];
  thresholds: ThresholdResult[];
  /** abortOnFail thresholds that stopped the run. */
  aborts: Breach[];
  ledger: LedgerSnapshot;
  /** The run's start and end, epoch ms. */
  t0: number;
  endT: number;
  stopReason: string | null;
  environment: RunEnvironment;
  notes: { kind: string; data: unknown }[];
  /** The generator's health (saturation.ts); absent in callers that do not watch it. */
  generator?: GeneratorReport;
  /** The run's checks beside the thresholds (billing ...); a failed one fails the run. */
  checks?: CheckResult[];
}

export function buildSummary(i: SummaryInput): RunSummary & Record<string, unknown> {
  const { scenario: s, total } = i;
  const durationS = Math.max(0, (i.endT - i.t0) / 1000);
  const plan = planOf(s);
  const { name, description, options, ...ktv } = s;
  const conformance = i.notes.filter((n) => n.kind === "conformance").map((n) => n.data);
  return {
    format: RESULTS_FORMAT,
    scenario: {
      name,
      description,
      options: {
        options,
        ktv,
        plan: plan.scenarios.map((p) => ({ name: p.name, executor: p.executor, description: p.description })),
      },
    },
    // Which share of a distributed run this is (k6's canonical text; "0:1" / "0,1" for a whole run): the
    // merge of N results checks that their segments are one sequence's and cover [0, 1] exactly once.
    execution_segment: s.segment.segment,
    execution_segment_sequence: s.segment.sequence,
    started_at: new Date(i.t0).toISOString(),
    ended_at: new Date(i.endT).toISOString(),
    duration_s: Math.round(durationS * 1000) / 1000,
    interrupted: i.stopReason !== null,
    interrupt_reason: i.stopReason,
    metrics: summaryMetrics(
      total,
      plan.scenarios.some((p) => p.model === "open"),
    ),
    counters: {
      ...extraCounters(total),
      iterations: total.counter("iterations"),
      dropped_iterations: total.counter("dropped_iterations"),
      songs_started: total.counter("songs_started"),
      errors_by_code: Object.fromEntries(total.errorsByCode),
      billable_requests: total.counter("billable_requests"),
      bytes_downloaded: total.counter("bytes_downloaded"),
      failed_iterations: total.rates.get("errors")?.trues ?? 0,
      failed_iterations_by_code: failedByCode(total),
      ledger_rows: i.ledger.rows.length,
    },
    thresholds: i.thresholds,
    capacity: withVerdict(
      capacityModel({
        durationS,
        ledger: i.ledger.totals,
        bytesDownloaded: total.counter("bytes_downloaded"),
        mediaBytes: total.counter("media_bytes_published") + total.counter("media_bytes_received"),
        vusSeries: i.points.map((p) => p.vus),
        usersPerRoom: s.population.usersPerRoom,
        extrapolateRooms: s.extrapolateRooms,
        knee: kneeOf(i.thresholds, i.aborts, i.points, s.population.usersPerRoom),
      }),
      i.generator
        ? (knee) => kneeVerdict(knee, i.generator!.saturated_from_s, i.points, s.population.usersPerRoom)
        : null,
    ),
    environment: i.environment,
    histograms: histogramsOf(total),
    ...serverApiSummary(total, durationS),
    mix_frame_ms: FRAME_MS,
    checks: i.checks ?? [],
    ...(conformance.length > 0 ? { conformance } : {}),
    ...(i.generator ? { generator: i.generator, generator_saturated: i.generator.reasons.length > 0 } : {}),
  };
}

/**
 * The knee stands only if the first threshold broke before the load generator first saturated (the start of
 * its earliest tripped streak, saturation.ts): by then the generator was still healthy, so the breach is the
 * target's. Otherwise the knee is null, `knee_limited_by: "generator"`, the breach is kept aside as
 * `withheld_knee`, and `generator_limit` is the load the harness saturated at. A run whose generator never
 * saturated carries `knee_limited_by: null` (and a non-capacity caller without a watch nothing at all).
 */
export function kneeVerdict(
  knee: NonNullable<CapacityModel["knee"]> | null,
  saturatedFromS: number | null,
  points: LoadPoint[],
  usersPerRoom: number,
): Pick<CapacityModel, "knee" | "knee_limited_by" | "withheld_knee" | "generator_limit"> {
  if (saturatedFromS === null) return { knee, knee_limited_by: null };
  if (knee !== null && knee.at_s < saturatedFromS) return { knee, knee_limited_by: null };
  const vus = loadAt(points, saturatedFromS);
  return {
    knee: null,
    knee_limited_by: "generator",
    withheld_knee: knee,
    generator_limit: { vus, rooms: Math.ceil(vus / usersPerRoom), at_s: saturatedFromS },
  };
}

function withVerdict<C extends CapacityModel>(
  c: C,
  verdict: ((knee: NonNullable<CapacityModel["knee"]> | null) => Partial<CapacityModel>) | null,
): C {
  return verdict ? { ...c, ...verdict(c.knee ?? null) } : c;
}

/** Active VUs in the interval that contains `atS` (the last one when past the end). */
function loadAt(points: LoadPoint[], atS: number): number {
  return (points.find((p) => p.elapsed_s >= atS - 1e-6) ?? points.at(-1))?.vus ?? 0;
}

/** Iterations that failed, by the code they failed with (the rest of errors_by_code were handled). */
function failedByCode(total: MetricSet): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, r] of total.rates) {
    const m = /^errors\{code:(.+)\}$/.exec(key);
    if (m && r.trues > 0) out[m[1]!] = r.trues;
  }
  return out;
}

/** Distributions for the report's plots: TTFA and end-to-end latency linear, mixer lateness logarithmic. */
function histogramsOf(total: MetricSet): NonNullable<RunSummary["histograms"]> {
  const out: NonNullable<RunSummary["histograms"]> = {};
  const linear = ["ttfa_ms", "e2e_latency_ms"];
  for (const name of [...linear, "mix_lateness_ms"]) {
    const h = total.trends.get(name);
    if (!h || h.totalCount === 0) continue;
    const max = h.maxValue / 1000;
    out[name] = bucketize(h, linear.includes(name) ? linearBounds(max) : logBounds(0.01, max));
  }
  return out;
}

/** The load at the first threshold breach (a window's first failure, or an abortOnFail stop), else null. */
export function kneeOf(
  results: ThresholdResult[],
  aborts: Breach[],
  points: LoadPoint[],
  usersPerRoom: number,
): RunSummary["capacity"]["knee"] {
  const candidates: { at: number; metric: string; expression: string }[] = [];
  for (const r of results) {
    if (!r.ok && typeof r.first_breach_s === "number") {
      candidates.push({ at: r.first_breach_s, metric: r.metric, expression: r.expression });
    }
  }
  for (const b of aborts)
    candidates.push({ at: b.atS, metric: b.threshold.metric.key, expression: b.threshold.source });
  if (candidates.length === 0) return null;
  candidates.sort((a, b) => a.at - b.at);
  const first = candidates[0]!;
  const vus = loadAt(points, first.at);
  return {
    vus,
    rooms: Math.ceil(vus / usersPerRoom),
    metric: first.metric,
    expression: first.expression,
    at_s: first.at,
  };
}
