import { messageFor } from "../../protocol/codes.ts";
import type { PipelineResult } from "../pipeline/result.ts";

// `ktv sing`'s results: the one JSON object of --json (stage timings at the top level, ttfa_ms among them),
// the human summary, and the one-line error for a run that failed.

const round = (v: number | null | undefined, digits = 1) =>
  v === null || v === undefined ? null : Math.round(v * 10 ** digits) / 10 ** digits;

export function singJson(r: PipelineResult, out: string | null): Record<string, unknown> {
  const s = r.stages;
  return {
    ok: r.ok,
    aborted: r.aborted,
    failure: r.failure,
    user_id: r.user_id,
    room_id: r.room_id,
    song_id: r.song?.song_id ?? null,
    song_name: r.song?.song_name ?? null,
    singer_name: r.song?.singer_name ?? null,
    resource_id: r.song?.resource_id ?? null,
    via: r.song?.via ?? null,
    login_ms: round(s.login_ms),
    init_ms: round(s.init_ms),
    search_ms: round(s.search_ms),
    request_ms: round(s.request_ms),
    download_ms: round(s.download_ms),
    load_ms: round(s.load_ms),
    ttfa_ms: round(s.ttfa_ms),
    first_heard_ms: round(s.first_heard_ms),
    publish_seconds: r.publish?.seconds ?? null,
    packets_sent: r.publish?.packets_sent ?? null,
    packets_dropped: r.publish?.packets_dropped ?? null,
    reconnects: r.publish?.reconnects ?? null,
    mix_frames: r.mix?.frames ?? null,
    mix_late_frames: r.mix?.late_frames ?? null,
    mix_lateness_ms: r.mix?.lateness_ms ?? null,
    mix_cost_us: r.mix?.mix_cost_us ?? null,
    listen_latency_ms: r.listen?.latency_ms ?? null,
    billable_requests: r.billable_requests,
    unconfirmed_requests: r.unconfirmed_requests,
    shared_fetches: r.shared_fetches,
    bytes_downloaded: r.bytes_downloaded,
    errors: r.errors,
    recovery: r.recovery,
    skipped: r.skipped,
    elapsed_ms: round(r.elapsed_ms),
    out,
    // Scores 0-100 per line; total out of full (reference/scoring). Only with --score.
    ...(r.score !== undefined ? { score: r.score } : {}),
  };
}

export function summary(r: PipelineResult, out: string | null): string {
  const lines: string[] = [];
  const s = r.stages;
  const t = (v: number | null) => (v === null ? "-" : `${round(v)} ms`);
  if (r.song)
    lines.push(`sang "${r.song.song_name}" by ${r.song.singer_name} (${r.song.song_id}, via ${r.song.via})`);
  lines.push(
    `stages: search ${t(s.search_ms)}, request ${t(s.request_ms)}, download ${t(s.download_ms)}, load ${t(s.load_ms)}; time to first audio ${t(s.ttfa_ms)}`,
  );
  if (r.publish && r.mix) {
    const l = r.mix.lateness_ms;
    lines.push(
      `published ${r.publish.seconds} s (${r.publish.packets_sent} packets, ${r.publish.packets_dropped} dropped); ` +
        `mixer lateness p50 ${round(l.p50, 2)} ms, p99 ${round(l.p99, 2)} ms, max ${round(l.max, 2)} ms; late frames ${r.mix.late_frames}`,
    );
  }
  if (r.score) {
    const sc = r.score;
    lines.push(
      `score (${sc.singer}, level ${sc.level}): average ${sc.average} of 100 over ${sc.lines_scored} lines, total ${sc.total} of ${sc.full}; scoring ${sc.cost_us} µs/frame`,
    );
  }
  if (r.listen?.latency_ms) {
    const l = r.listen.latency_ms;
    lines.push(
      `heard ${l.count} packets; end-to-end latency p50 ${round(l.p50, 2)} ms, p99 ${round(l.p99, 2)} ms`,
    );
  }
  lines.push(
    `billable requests ${r.billable_requests}, shared fetches ${r.shared_fetches}, downloaded ${r.bytes_downloaded} bytes` +
      (r.recovery.length > 0 ? `, recoveries ${r.recovery.map((a) => a.rule).join(", ")}` : ""),
  );
  if (out) lines.push(`wrote ${out}`);
  return `${lines.join("\n")}\n`;
}

/** One line that says what went wrong and, where it helps, what to check. */
export function failureLine(r: PipelineResult, target: string): string {
  const f = r.failure;
  if (!f) return r.aborted ? "interrupted" : "";
  const code = `${messageFor(f.code)} (${f.code})`;
  if (f.code === 1002030)
    return `cannot reach the simulator at ${target}: ${code}; is \`ktv sim\` running there?`;
  if (f.code >= 1001000 && f.code < 1002000) return `the app credentials were refused: ${code}`;
  if (f.stage === "login") return `room login failed: ${code}`;
  if (f.stage === "search") return `${f.message} (${f.code})`;
  return `${f.stage} failed: ${f.message}: ${code}`;
}
