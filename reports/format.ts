// The results directory a run writes and every report reads: the contract between `ktv run` (scenarios/) and
// `ktv report` / `ktv compare` (reports/). Reports read these files only; they never import the runner.
//
// <results-dir>/
//   summary.json          RunSummary (below)
//   timeseries.ndjson     one TimeseriesPoint per line, one per second of the run (per interval)
//   ledger.json           the simulator's GET /admin/ledger `data` at the end of the run
//   fault-events.ndjson   the simulator's GET /admin/faults/events at the end of the run
//   environment.json      Environment (also embedded in summary.json)

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
  /** Capacity scenarios: the load at which the first threshold broke, else null. */
  knee?: { vus: number; rooms: number; metric: string; expression: string; at_s: number } | null;
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

export interface RunSummary {
  format: typeof RESULTS_FORMAT;
  scenario: { name: string; description: string; options: unknown };
  started_at: string;
  ended_at: string;
  duration_s: number;
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
  /**
   * Optional (added by scenarios/): the run's own checks beside the thresholds, e.g. "billing" (the clients'
   * billable requests against the vendor's ledger). A failed check fails the run (exit 99) like a threshold.
   * Absent in results written before checks existed: read as no checks.
   */
  checks?: CheckResult[];
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
