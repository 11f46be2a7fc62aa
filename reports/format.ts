// The results directory a run writes and every report reads: the contract between `ktv run` (scenarios/) and
// `ktv report` / `ktv compare` (reports/). Reports read these files only; they never import the runner.
//
// <results-dir>/
//   summary.json          RunSummary (below)
//   timeseries.ndjson     one TimeseriesPoint per line, one per second of the run (per interval)
//   ledger.json           the simulator's GET /admin/ledger `data` at the end of the run
//   fault-events.ndjson   the simulator's GET /admin/faults/events at the end of the run
//   environment.json      Environment (also embedded in summary.json)
//   intervals.ndjson      (added by `ktv merge`, which reads it; reports do not) every interval's samples with
//                         its HDR histograms whole, scenarios/run/intervals.ts
//   k6.json               (optional, `ktv run --k6-json`) the samples in k6's JSON output format

export const RESULTS_FORMAT = "ktv-results/1";

/** The files of a results directory, as the runner writes them and the reports read them. */
export const RESULT_FILES = {
  summary: "summary.json",
  timeseries: "timeseries.ndjson",
  ledger: "ledger.json",
  faultEvents: "fault-events.ndjson",
  environment: "environment.json",
} as const;

/** Latency-like metric in its unit (ms or µs, named by the metric: ttfa_ms, mix_cost_us ...). */
export interface MetricSummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
  /** Open model only: the same metric measured from each iteration's intended start (coordinated omission). */
  corrected?: Omit<MetricSummary, "corrected">;
}

export interface ThresholdResult {
  metric: string;
  /** k6 grammar, e.g. "p(95)<800", "rate<0.01", or a sliding window "p(95)<800 over 30s". */
  expression: string;
  ok: boolean;
  /** The value compared, e.g. the p95 in ms; null when the metric had no samples (which fails). */
  observed: number | null;
  abortOnFail: boolean;
  /** For sliding windows: when it first broke (seconds since start), else null. */
  first_breach_s?: number | null;
}

export interface CapacityModel {
  /** Billable requests per hour, extrapolated from the run's rate. */
  billable_per_hour: { total: number; by_mode: Record<string, number>; by_vendor: Record<string, number> };
  cdn_egress_mbps: number;
  media_relay_mbps: number;
  per_user: { billable_per_hour: number; cdn_mbps: number; media_mbps: number };
  per_room: { billable_per_hour: number; cdn_mbps: number; media_mbps: number };
  /** Human-readable formulas with the numbers plugged in, e.g. "cdn_egress_mbps = bytes*8/duration_s/1e6". */
  formulas: string[];
  /**
   * Capacity scenarios: the load at which the first threshold broke, else null. Null too when the load
   * generator was already saturated at that moment (`knee_limited_by: "generator"`): a breach the harness may
   * have caused is never reported as the target's knee.
   */
  knee?: Knee | null;
  /**
   * Optional (added with the generator's self-watch): "generator" when the knee is withheld (or no knee could be
   * reached) because the load generator saturated first (summary.generator.reasons say how); null otherwise.
   */
  knee_limited_by?: "generator" | null;
  /** With knee_limited_by: the first threshold breach, withheld from `knee` (it may be the harness's), or null. */
  withheld_knee?: Knee | null;
  /** With knee_limited_by: the load when the generator first saturated, i.e. the harness's own limit. */
  generator_limit?: { vus: number; rooms: number; at_s: number } | null;
}

export interface Knee {
  vus: number;
  rooms: number;
  metric: string;
  expression: string;
  at_s: number;
}

/**
 * summary.json `generator` (optional, added with the generator's self-watch; scenarios/run/saturation.ts has
 * the rules and why): the load generator's own health, per thread, maxima over the run's per-second samples.
 */
export interface GeneratorReport {
  /** Cores process_cpu is a share of. */
  cores: number;
  /** Whole process (every thread), user + system CPU over wall time, as a share of the cores. */
  process_cpu: { mean: number; max: number };
  main: ThreadFigures;
  workers: (ThreadFigures & { worker: number })[];
  /** How the worker threads loaded: one esbuild bundle for the run, or TypeScript compiled by tsx in each. */
  worker_loader?: "bundle" | "tsx";
  /** Intervals the runner flushed a whole interval or more late (its main thread was blocked or starved). */
  late_intervals: number;
  /**
   * Optional (added with per-thread CPU): the embedded simulator thread's user + system CPU over the run, s
   * (null: not embedded, or no /proc).
   */
  simulator_cpu_s?: number | null;
  /** Optional: the nice value the worker threads ran at (`ktv run --worker-nice`); absent: 0. */
  worker_nice?: number;
  /** The limits the reasons compare against. */
  rules: {
    elu: number;
    loop_delay_p99_ms: number;
    clock_lag_p50_ms: number;
    clock_lag_p99_ms: number;
    stall_ms: number;
    process_cpu: number;
    sustain_s: number;
  };
  /** When the generator first saturated (start of the earliest tripped streak, s since start), or null. */
  saturated_from_s: number | null;
  /** Every rule that tripped, once per thread and figure; empty when not saturated. */
  reasons: SaturationReason[];
}

export interface ThreadFigures {
  samples: number;
  /** Event-loop utilisation: mean (weighted by time) and the worst sample. */
  elu_mean: number;
  elu_max: number;
  /** Event-loop delay: the worst per-sample p99, and the longest single delay. */
  loop_delay_p99_ms: number;
  loop_delay_max_ms: number;
  /** Lateness of the thread's frame-period clock: the worst per-sample p50 and p99, the longest (null: none). */
  clock_lag_p50_ms: number | null;
  clock_lag_p99_ms: number | null;
  clock_lag_max_ms: number | null;
  /** Optional (added with per-thread CPU): the thread's user + system CPU over its samples, s (null: no /proc). */
  cpu_s?: number | null;
}

export interface SaturationReason {
  /** "worker N", "main" or "process". */
  thread: string;
  figure:
    | "elu"
    | "loop_delay_p99_ms"
    | "loop_delay_max_ms"
    | "clock_lag_p50_ms"
    | "clock_lag_p99_ms"
    | "clock_lag_max_ms"
    | "process_cpu";
  /** The worst value while over the limit. */
  observed: number;
  limit: number;
  /** How long it had to hold (0: one sample is enough, e.g. a stall). */
  sustained_s: number;
  /** From when to when (s since the run's start) the figure stayed at or over the limit. */
  from_s: number;
  to_s: number;
}

export interface Environment {
  ktv_version: string;
  node: string;
  platform: string;
  arch: string;
  cpus: { model: string; count: number };
  memory_bytes: number;
  hostname: string;
  git_commit: string | null;
  seed: number;
  started_at: string;
  target: string;
}

/** One input of `ktv merge`: a `ktv run` results directory, or a k6 JSON output file. */
export interface MergedInstance {
  dir?: string;
  file?: string;
  hostname?: string;
  started_at?: string;
  ended_at?: string;
  execution_segment?: string | null;
  iterations?: number;
  /** The instance's own verdict; a merged breach can fail where every instance alone passed. */
  thresholds_ok?: boolean;
}

export interface RunSummary {
  format: typeof RESULTS_FORMAT;
  scenario: { name: string; description: string; options: unknown };
  started_at: string;
  ended_at: string;
  duration_s: number;
  /**
   * Optional (added by scenarios/): the execution segment this run was (`ktv run --execution-segment`), in
   * k6's canonical text, e.g. "1/2:1"; "0:1" for a whole run. Absent in results written before segments.
   */
  execution_segment?: string;
  /**
   * Optional (added by scenarios/): the sequence the segment is one of, filled to cover [0, 1], e.g.
   * "0,1/2,1"; "0,1" for a whole run. Runs merged into one must share it and their segments must cover it.
   */
  execution_segment_sequence?: string;
  /**
   * Optional (written by `ktv merge`): the instances this result was merged from, one entry each: a run
   * directory (its host, span, segment, iterations and own threshold verdict) or a k6 JSON file (its path only).
   */
  merged_from?: MergedInstance[];
  /** True when SIGINT/SIGTERM or abortOnFail ended the run early; the files are still complete. */
  interrupted: boolean;
  interrupt_reason: string | null;
  /** At least ttfa_ms, request_resource_ms, download_ms, mix_lateness_ms, mix_cost_us, e2e_latency_ms. */
  metrics: Record<string, MetricSummary>;
  counters: {
    iterations: number;
    dropped_iterations: number;
    songs_started: number;
    errors_by_code: Record<string, number>;
    /** Equals the ledger's row count for the run. */
    billable_requests: number;
    bytes_downloaded: number;
    /**
     * Others, e.g. (added by reports/, optional) `mix_frames` and `mix_late_frames`: mixer frames produced, and
     * those that started mix_frame_ms or more after their deadline (the frame clock's late_frames); (added by
     * scenarios/, optional) `failed_iterations` and `failed_iterations_by_code`: iterations that failed, in all
     * and by the code they failed with. A code in errors_by_code that failed no iteration was handled (a
     * share not there, so a request; a song without a pitch line).
     */
    [name: string]: number | Record<string, number>;
  };
  thresholds: ThresholdResult[];
  capacity: CapacityModel;
  environment: Environment;
  /**
   * Optional (added by reports/): bucketed distributions for the report's distribution plots, e.g. ttfa_ms and
   * mix_lateness_ms, exported from the run's merged HDR histograms. Without them the report draws the TTFA CDF
   * from the percentiles above and says the lateness histogram was not recorded.
   */
  histograms?: Record<string, HistogramBuckets>;
  /** Optional (added by reports/): the mixer's frame period; a frame that starts this late or later missed it. */
  mix_frame_ms?: number;
  /** Optional (added with the generator's self-watch): the load generator's own health (GeneratorReport). */
  generator?: GeneratorReport;
  /**
   * Optional (added with the generator's self-watch): true when the load generator was a bottleneck at some
   * point of the run (generator.reasons say where and when); its figures from then on may be the harness's.
   */
  generator_saturated?: boolean;
  /**
   * Optional (added by scenarios/): the run's own checks beside the thresholds, e.g. "billing" (the clients'
   * billable requests against the vendor's ledger). A failed check fails the run (exit 99) like a threshold.
   * Absent in results written before checks existed: read as no checks.
   */
  checks?: CheckResult[];
  /**
   * Optional (added by scenarios/): vendor requests by route as the clients made them, every attempt (retries
   * included), in VENDOR_ROUTES order (protocol/vendor-routes.ts); routes without requests are left out.
   * The "vendor_routes" check compares them with the simulator's own counts.
   */
  vendor_routes?: VendorRouteLine[];
  /**
   * Optional (added with the server REST API): per action of the vendor's server API that backend VUs called,
   * the calls, their rate over the run, the retries and the call latency (ms, backoffs included).
   * Absent when the run made no server API call.
   */
  server_api?: Record<string, ServerApiActionLine>;
  /**
   * Optional (added with the runner's target watch): whether the target answered its /healthz probe once per
   * interval, and the spans in which it did not (killed, crashed, restarting). Absent in older results.
   */
  target?: TargetAvailability;
}

/** A span in which the target did not answer the runner's probes. */
export interface TargetOutage {
  /** Seconds since t0 of the first probe that failed. */
  from_s: number;
  /** Seconds since t0 of the first probe that was answered again; null if it never was before the end. */
  until_s: number | null;
  failed_probes: number;
  /** What the first failed probe met (e.g. "fetch failed: connect ECONNREFUSED 127.0.0.1:7400"). */
  error: string;
}

/** The runner's probes of the target over the run. */
export interface TargetAvailability {
  probes: number;
  failed_probes: number;
  /** Sum of the outages' lengths (an outage still open at the end counts to the last probe). */
  unreachable_s: number;
  outages: TargetOutage[];
}

/** One action of the server REST API (`/?Action=...`) in a run. */
export interface ServerApiActionLine {
  calls: number;
  /** calls / duration_s (the run's real duration). */
  per_s: number;
  retries: number;
  /** Call latency, ms, backoffs between retries included. */
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** One vendor route of a run: the SDK call, or the command of sendExtendedRequest ("/search/song"). */
export interface VendorRouteLine {
  route: string;
  /** Attempts, retries included. */
  requests: number;
  /** requests / duration_s (the run's real duration). */
  rate_per_s: number;
  /** Attempts that did not end in a success answer (an error status or vendor code, or no answer). */
  errors: number;
  /** Of the errors, attempts without a whole answer (timeout, reset, cut body): they may not have arrived. */
  unanswered: number;
  /** Attempt latency to the end of the body, ms. */
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  max_ms: number;
}

/** One check of a run that is not a metric threshold: something the run must prove, with what it found. */
export interface CheckResult {
  /** Short stable name, e.g. "billing". */
  name: string;
  ok: boolean;
  /** One sentence: what was compared and what was found (the reason when it failed). */
  detail: string;
  /** The figures behind the verdict, for a reader or a tool. */
  data?: Record<string, unknown>;
}

/**
 * counts[i] = samples v with bounds[i-1] < v <= bounds[i] (bounds[-1] = -infinity); counts has one more entry
 * than bounds: the last counts samples above the last bound. Bounds ascend, in the metric's unit.
 */
export interface HistogramBuckets {
  bounds: number[];
  counts: number[];
}

/** One interval (normally 1 s) of the run. Histograms are per interval, not cumulative. */
export interface TimeseriesPoint {
  /** Interval end, ms since epoch. */
  t: number;
  elapsed_s: number;
  vus: number;
  iterations: number;
  errors: number;
  errors_by_code: Record<string, number>;
  bytes_downloaded: number;
  billable_requests: number;
  /** Optional (added by reports/): mixer frames produced in this interval, and how many missed their deadline. */
  mix_frames?: number;
  mix_late_frames?: number;
  /** Per-interval summaries of each metric that had samples in this interval. */
  metrics: Record<string, Pick<MetricSummary, "count" | "p50" | "p95" | "p99" | "max">>;
}

/** ledger.json: the `data` of GET /admin/ledger (rows in id order, totals keyed by the enum ints as strings). */
export interface LedgerSnapshot {
  rows: LedgerRowLine[];
  totals: { billable: number; by_mode: Record<string, number>; by_vendor: Record<string, number> };
  next_since_id?: number | null;
}

/** The fields of a ledger row the reports use (the simulator's LedgerRow has more). */
export interface LedgerRowLine {
  id: number;
  /** ms since epoch */
  time: number;
  billing_mode: number;
  vendor_id: number;
  [field: string]: unknown;
}

export interface FaultEventLine {
  time: number;
  fault_id: string;
  kind: string;
  request_key: string;
  effect: Record<string, unknown>;
  route?: string;
  seq?: number;
}
