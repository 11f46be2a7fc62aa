// Every metric a run records: its type (what aggregations a threshold may use), unit and meaning. Thresholds
// and the summary refer to these names; a threshold on a name not listed here is a validation error.
//
// Trends are HDR histograms (3 significant digits). Open-model scenarios also record the trends measured from
// each iteration's *intended* start under the tag {corrected:true}. Rates: `errors` is the share of
// iterations that failed, and a tag narrows only the numerator (errors{code:1017019} = iterations that failed
// with 1017019 / all iterations); `conformance` counts per rule (conformance{rule:X} = passes of X / runs of X).

export type MetricType = "trend" | "counter" | "rate";

export interface MetricInfo {
  type: MetricType;
  unit: "ms" | "us" | "count" | "bytes" | "ratio";
  description: string;
  /** Tags a threshold may filter on. */
  tags: readonly string[];
  /** Rates: what a tagged sub-metric divides by ("base": every sample of the metric; "series": its own). */
  denominator?: "base" | "series";
}

const trend = (
  unit: "ms" | "us" | "ratio" | "count",
  description: string,
  tags: readonly string[] = [],
): MetricInfo => ({
  type: "trend",
  unit,
  description,
  tags,
});
const counter = (unit: "count" | "bytes", description: string, tags: readonly string[] = []): MetricInfo => ({
  type: "counter",
  unit,
  description,
  tags,
});

export const METRICS = {
  ttfa_ms: trend(
    "ms",
    "time to first audio: the iteration's start (session start: login, init, search included) to the first published packet",
    ["corrected"],
  ),
  pick_to_first_packet_ms: trend(
    "ms",
    "the song pick (search done) to the first audio packet handed to the media socket, which carries the first mixed frame: request, download, load and start, what a user who tapped a song waits for (was pick_to_audio_ms)",
  ),
  login_ms: trend(
    "ms",
    "room login (the session start; a VU that keeps its login across songs records it once)",
  ),
  init_ms: trend("ms", "initCopyrightedMusic (with the login, once per session)"),
  pick_phase_ms: trend(
    "ms",
    "where pick_to_first_packet_ms goes: ms from the song pick to each phase (request, first_byte, playable, download_done, loaded, publishing, first_frame, first_packet)",
    ["phase"],
  ),
  search_ms: trend("ms", "song pick: search or chart or song info"),
  request_resource_ms: trend("ms", "requestResource / getSharedResource, all attempts"),
  download_ms: trend("ms", "download of the resource, all attempts"),
  load_ms: trend("ms", "media player load + standard pitch"),
  mix_lateness_ms: trend("ms", "start of each 10 ms mixer frame after its deadline"),
  mix_cost_us: trend("us", "CPU time of each 10 ms mixer frame"),
  e2e_latency_ms: trend(
    "ms",
    "capture timestamp (the packet's first 10 ms frame's deadline) to receipt at a listener, per packet; its floor is the 10 ms until the packet's second frame is mixed",
  ),
  iteration_duration_ms: trend("ms", "one whole iteration", ["corrected"]),
  iterations: counter("count", "iterations finished (successful or not)"),
  dropped_iterations: counter("count", "open model: arrivals that found no VU in time"),
  interrupted_iterations: counter("count", "iterations cut by the end of the run or an abort"),
  songs_started: counter("count", "iterations that got audio out (published or, for listeners, prepared)"),
  billable_requests: counter("count", "requestResource calls the vendor confirmed (each one ledger row)"),
  unconfirmed_requests: counter("count", "requestResource calls without a vendor answer (may have billed)"),
  shared_fetches: counter("count", "resources obtained with getSharedResource (free)"),
  bytes_downloaded: counter("bytes", "CDN body bytes received"),
  media_bytes_published: counter(
    "bytes",
    "audio frames sent to the media relay, header + payload of every packet as sent (any codec)",
  ),
  media_bytes_received: counter(
    "bytes",
    "audio frames the relay delivered to listeners, header + payload of every packet received",
  ),
  media_packets_received: counter("count", "audio packets listeners received (duplicates included)"),
  media_packets_lost: counter("count", "audio packets listeners never received, by sequence number"),
  media_packets_reordered: counter("count", "audio packets that reached a listener after a later one"),
  media_jitter_ms: trend("ms", "RFC 3550 interarrival jitter of each listened stream at the iteration's end"),
  mix_frames: counter("count", "mixer frames produced"),
  mix_late_frames: counter("count", "mixer frames that started a whole frame period or more late"),
  recoveries: counter("count", "recovery actions of the reference client", ["rule"]),
  // Lyrics (ktv.lyrics): singers only.
  lyrics_fetch_ms: trend("ms", "getKrcLyricByToken (and getLrcLyric after a fallback), per singer iteration"),
  lyric_drift_ms: trend(
    "ms",
    "per lyric line shown: the player's position (as lyric time) minus the line's begin; under 10 ms on a punctual 10 ms tick",
  ),
  lyric_lines_shown: counter("count", "lyric lines made current by playback reaching them"),
  lyric_lines_skipped: counter("count", "lyric lines passed within one frame behind another (late ticks)"),
  lyrics_unavailable: counter("count", "singer iterations with lyrics asked for and none to be had"),
  // Vocal scoring (ktv.scoring): singers only.
  score: trend(
    "count",
    "per singer iteration with a line scored: the average line score, 0-100 (reference/scoring)",
  ),
  scoring_cost_us: trend(
    "us",
    "per singer iteration: median µs per 10 ms frame in pitch detection + scoring (also inside mix_cost_us)",
  ),
  // Vendor requests by route (protocol/vendor-routes.ts), every attempt of the clients, retries included.
  vendor_requests: counter("count", "vendor request attempts, by route", ["route"]),
  vendor_request_errors: counter("count", "vendor attempts without a success answer, by route", ["route"]),
  vendor_requests_unanswered: counter("count", "vendor attempts without a whole answer, by route", ["route"]),
  vendor_request_ms: trend("ms", "one vendor attempt, to the end of its body, by route", ["route"]),
  // The server REST API (ktv.vu "backend"): per action, each call with its retries folded in.
  server_api_calls: counter("count", "server API calls (GET /?Action=), by action", ["action"]),
  server_api_retries: counter("count", "server API attempts after the first (320000002 / 320050002 / 5xx)", [
    "action",
  ]),
  server_api_ms: trend("ms", "one server API call, first attempt to answer, backoffs included, by action", [
    "action",
  ]),
  // ktv.mix: one run requests in several billing modes and vendors; the billing check compares each.
  billable_by_mode: counter("count", "billable_requests by the billing mode requested in", ["billing_mode"]),
  billable_by_vendor: counter("count", "billable_requests by the vendor requested from", ["vendor_id"]),
  unconfirmed_by_mode: counter("count", "unconfirmed_requests by billing mode", ["billing_mode"]),
  unconfirmed_by_vendor: counter("count", "unconfirmed_requests by vendor", ["vendor_id"]),
  player_pauses: counter("count", "ktv.player: media player pauses while publishing"),
  player_resumes: counter("count", "ktv.player: media player resumes after a pause"),
  player_seeks: counter("count", "ktv.player: media player seeks (back to a whole second of the song)"),
  player_paused_frames: counter("count", "ktv.player: 10 ms frames published while the player was paused"),
  player_link_drops: counter("count", "ktv.player: singers' network links dropped (each then reconnects)"),
  // The load generator's own health (scenarios/run/generator.ts), one sample per thread per second.
  generator_elu: trend("ratio", "event-loop utilisation of each worker thread, per second (0..1)"),
  generator_loop_delay_ms: trend("ms", "event-loop delay p99 of each worker thread, per second"),
  generator_clock_lag_ms: trend("ms", "lateness p99 of each worker's frame-period clock, per second"),
  generator_main_elu: trend("ratio", "event-loop utilisation of the runner's main thread, per second (0..1)"),
  generator_main_loop_delay_ms: trend("ms", "event-loop delay p99 of the runner's main thread, per second"),
  generator_main_clock_lag_ms: trend(
    "ms",
    "lateness p99 of the main thread's frame-period clock, per second",
  ),
  generator_cpu: trend("ratio", "CPU of the whole process as a share of all cores, per second (0..1)"),
  generator_thread_cpu: trend(
    "ratio",
    "user + system CPU of each worker thread as a share of one core, per second (0..1; Linux /proc): ELU near 1 with CPU well below it is a thread the OS did not run",
  ),
  target_cpu: trend(
    "ratio",
    "the embedded simulator thread's user + system CPU as a share of one core, per second (0..1; Linux /proc); embedded runs only",
  ),
  target_elu: trend(
    "ratio",
    "the embedded simulator thread's event-loop utilisation, per second (0..1): the target's own load, not the generator's; embedded runs only",
  ),
  errors: {
    type: "rate",
    unit: "ratio",
    description: "share of iterations that failed; {code:N} by the failure's code",
    tags: ["code"],
    denominator: "base",
  } as MetricInfo,
  conformance: {
    type: "rate",
    unit: "ratio",
    description: "conformance cases passed; {rule:NAME} per recovery rule",
    tags: ["rule"],
    denominator: "series",
  } as MetricInfo,
} satisfies Record<string, MetricInfo>;

export type MetricName = keyof typeof METRICS;

/** The trends summary.json always carries (count 0 when a scenario never exercised them). */
export const SUMMARY_TRENDS = [
  "ttfa_ms",
  "login_ms",
  "init_ms",
  "pick_to_first_packet_ms",
  // Where pick_to_first_packet_ms goes (reference/pipeline/result.ts PhaseName), in order.
  "pick_phase_ms{phase:request}",
  "pick_phase_ms{phase:first_byte}",
  "pick_phase_ms{phase:playable}",
  "pick_phase_ms{phase:download_done}",
  "pick_phase_ms{phase:loaded}",
  "pick_phase_ms{phase:publishing}",
  "pick_phase_ms{phase:first_frame}",
  "pick_phase_ms{phase:first_packet}",
  "search_ms",
  "request_resource_ms",
  "download_ms",
  "load_ms",
  "mix_lateness_ms",
  "mix_cost_us",
  // Vocal scoring (ktv.scoring): each scored iteration's average line score, and the scorer's CPU per frame.
  "score",
  "scoring_cost_us",
  "e2e_latency_ms",
  "media_jitter_ms",
  "iteration_duration_ms",
  "target_elu",
] as const;

export const TRENDS_WITH_CORRECTION = ["ttfa_ms", "iteration_duration_ms"] as const;

export function metricInfo(name: string): MetricInfo | undefined {
  return (METRICS as Record<string, MetricInfo>)[name];
}

/** The series key of a metric with tags: name{a:1,b:2}, tags sorted, so equal filters give equal keys. */
export function seriesKey(name: string, tags: Record<string, string> = {}): string {
  const keys = Object.keys(tags).sort();
  if (keys.length === 0) return name;
  return `${name}{${keys.map((k) => `${k}:${tags[k]}`).join(",")}}`;
}
