// TypeBox schemas of the results files (format.ts), checked when a report or a compare reads a directory, so a
// malformed or foreign file is named with the path of its first problems instead of failing half-way through a
// plot. Extra properties are allowed: the format grows additively.

import { type TSchema, Type } from "@sinclair/typebox";
import { type TypeCheck, TypeCompiler } from "@sinclair/typebox/compiler";

const Num = Type.Number();
const Counts = Type.Record(Type.String(), Num);

const MetricCore = {
  count: Num,
  min: Num,
  mean: Num,
  p50: Num,
  p90: Num,
  p95: Num,
  p99: Num,
  p999: Num,
  max: Num,
};

export const MetricSummarySchema = Type.Object({
  ...MetricCore,
  corrected: Type.Optional(Type.Object(MetricCore)),
});

const Shares = Type.Object({ billable_per_hour: Num, cdn_mbps: Num, media_mbps: Num });

export const EnvironmentSchema = Type.Object({
  ktv_version: Type.String(),
  node: Type.String(),
  platform: Type.String(),
  arch: Type.String(),
  cpus: Type.Object({ model: Type.String(), count: Num }),
  memory_bytes: Num,
  hostname: Type.String(),
  git_commit: Type.Union([Type.String(), Type.Null()]),
  seed: Num,
  started_at: Type.String(),
  target: Type.String(),
});

export const RunSummarySchema = Type.Object({
  format: Type.Literal("ktv-results/1"),
  scenario: Type.Object({ name: Type.String(), description: Type.String() }),
  started_at: Type.String(),
  ended_at: Type.String(),
  duration_s: Type.Number({ minimum: 0 }),
  interrupted: Type.Boolean(),
  interrupt_reason: Type.Union([Type.String(), Type.Null()]),
  metrics: Type.Record(Type.String(), MetricSummarySchema),
  counters: Type.Object({
    iterations: Num,
    dropped_iterations: Num,
    songs_started: Num,
    errors_by_code: Counts,
    billable_requests: Num,
    bytes_downloaded: Num,
  }),
  thresholds: Type.Array(
    Type.Object({
      metric: Type.String(),
      expression: Type.String(),
      ok: Type.Boolean(),
      observed: Type.Union([Num, Type.Null()]),
      abortOnFail: Type.Boolean(),
      first_breach_s: Type.Optional(Type.Union([Num, Type.Null()])),
    }),
  ),
  capacity: Type.Object({
    billable_per_hour: Type.Object({ total: Num, by_mode: Counts, by_vendor: Counts }),
    cdn_egress_mbps: Num,
    media_relay_mbps: Num,
    per_user: Shares,
    per_room: Shares,
    formulas: Type.Array(Type.String()),
    knee: Type.Optional(
      Type.Union([
        Type.Object({ vus: Num, rooms: Num, metric: Type.String(), expression: Type.String(), at_s: Num }),
        Type.Null(),
      ]),
    ),
  }),
  environment: EnvironmentSchema,
  histograms: Type.Optional(
    Type.Record(Type.String(), Type.Object({ bounds: Type.Array(Num), counts: Type.Array(Num) })),
  ),
  mix_frame_ms: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  // k6's canonical text ("1/2:1", "0,1/2,1"); checked as text here, as a segment by scenarios/segments.
  execution_segment: Type.Optional(Type.String({ pattern: "^\\d+(/\\d+)?:\\d+(/\\d+)?$" })),
  execution_segment_sequence: Type.Optional(Type.String({ pattern: "^\\d+(/\\d+)?(,\\d+(/\\d+)?)+$" })),
  merged_from: Type.Optional(
    Type.Array(
      Type.Object({
        dir: Type.Optional(Type.String()),
        file: Type.Optional(Type.String()),
        hostname: Type.Optional(Type.String()),
        started_at: Type.Optional(Type.String()),
        ended_at: Type.Optional(Type.String()),
        execution_segment: Type.Optional(Type.Union([Type.String(), Type.Null()])),
        iterations: Type.Optional(Num),
        thresholds_ok: Type.Optional(Type.Boolean()),
      }),
    ),
  ),
  checks: Type.Optional(
    Type.Array(
      Type.Object({
        name: Type.String(),
        ok: Type.Boolean(),
        detail: Type.String(),
        data: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
      }),
    ),
  ),
  target: Type.Optional(
    Type.Object({
      probes: Num,
      failed_probes: Num,
      unreachable_s: Num,
      outages: Type.Array(
        Type.Object({
          from_s: Num,
          until_s: Type.Union([Num, Type.Null()]),
          failed_probes: Num,
          error: Type.String(),
        }),
      ),
    }),
  ),
  vendor_routes: Type.Optional(
    Type.Array(
      Type.Object({
        route: Type.String(),
        requests: Num,
        rate_per_s: Num,
        errors: Num,
        unanswered: Num,
        p50_ms: Num,
        p95_ms: Num,
        p99_ms: Num,
        max_ms: Num,
      }),
    ),
  ),
});

export const TimeseriesPointSchema = Type.Object({
  t: Num,
  elapsed_s: Num,
  vus: Num,
  iterations: Num,
  errors: Num,
  errors_by_code: Counts,
  bytes_downloaded: Num,
  billable_requests: Num,
  mix_frames: Type.Optional(Num),
  mix_late_frames: Type.Optional(Num),
  metrics: Type.Record(Type.String(), Type.Object({ count: Num, p50: Num, p95: Num, p99: Num, max: Num })),
});

export const LedgerSnapshotSchema = Type.Object({
  rows: Type.Array(Type.Object({ id: Num, time: Num, billing_mode: Num, vendor_id: Num })),
  totals: Type.Object({ billable: Num, by_mode: Counts, by_vendor: Counts }),
});

export const FaultEventLineSchema = Type.Object({
  time: Num,
  fault_id: Type.String(),
  kind: Type.String(),
  request_key: Type.String(),
  effect: Type.Record(Type.String(), Type.Unknown()),
});

// Compiled once per schema: an hour-long run has thousands of time-series lines and up to 100,000 fault events.
const compiled = new WeakMap<TSchema, TypeCheck<TSchema>>();

/** The first few problems of `value` against `schema`, as "path: message" strings; empty when it conforms. */
export function schemaProblems(schema: TSchema, value: unknown, max = 3): string[] {
  let check = compiled.get(schema);
  if (!check) {
    check = TypeCompiler.Compile(schema);
    compiled.set(schema, check);
  }
  if (check.Check(value)) return [];
  const out: string[] = [];
  for (const e of check.Errors(value)) {
    out.push(`${e.path || "/"}: ${e.message}`);
    if (out.length >= max) break;
  }
  return out;
}
