import { FRAME_HEADER_BYTES } from "../../protocol/media.ts";
import { createThreadAudio, type ThreadAudio } from "../../reference/audio/index.ts";
import type { PipelineConfig } from "../../reference/pipeline/config.ts";
import { emptyPhases, type PhaseName, type PipelineResult } from "../../reference/pipeline/result.ts";
import { PipelineSession } from "../../reference/pipeline/run.ts";
import { seriesKey } from "../metrics/catalog.ts";
import { encodedValues } from "../metrics/hdr.ts";
import { ReloginBackoff, type ReloginPolicy } from "./relogin-backoff.ts";
import { tokenConfig } from "./token-auth.ts";
import type { IterationOutcome, IterationSpec, Recorder, Vu, VuContext } from "./types.ts";

// The "pipeline" VU: one iteration is one run of the reference client's whole flow (reference/pipeline):
// a singer logs in, picks the song, gets it (share or billable request), downloads, loads, mixes accompaniment
// and voice and publishes for `seconds`; a listener does the same without publishing and plays the room's
// singer, each packet's capture-to-receipt latency recorded here (e2e_latency_ms).

let shared: ThreadAudio | null = null;

/**
 * This thread's shared audio (songs, voices, downloaded bytes), made on first use. A module-level singleton on
 * purpose: each worker thread of `ktv run` has its own module instances, so this is one set per worker, shared
 * by that worker's VUs; song bytes and renderings live in the run's audio arena when the runner gave the worker
 * one (useProcessAudio), so across threads they exist once per process.
 */
export function threadAudio(): ThreadAudio {
  shared ??= createThreadAudio();
  return shared;
}

/**
 * A pipeline VU. With `songsPerLogin` > 1 it keeps its room login across that many songs (a PipelineSession in
 * the run's config, as a real app logs in once and sings many songs): the session start (engine, media socket,
 * login, init) is paid once per N songs instead of once per song. A failed or aborted song, a change of room or
 * user, or a client that does not keep logins (a `--client` module ignores `session`) logs in per song as before.
 * After a login the media server refused for overload, or an iteration that found the target unreachable, the
 * next iteration first waits (relogin-backoff.ts).
 */
export function createPipelineVu(ctx: VuContext, relogin: Partial<ReloginPolicy> = {}): Vu {
  let session: PipelineSession | null = null;
  const backoff = new ReloginBackoff(relogin);
  const run = async (spec: IterationSpec, signal: AbortSignal): Promise<IterationOutcome> => {
    if (!(await backoff.wait(signal))) {
      return { ok: false, code: 0, ttfaMs: null, aborted: true, detail: { backoff: "aborted" } };
    }
    const n = spec.songsPerLogin ?? 1;
    if (n <= 1) return pipelineIteration(ctx, spec, signal, undefined, backoff);
    session ??= new PipelineSession();
    const out = await pipelineIteration(ctx, spec, signal, session, backoff);
    if (session.songsOnLogin >= n) await session.close();
    return out;
  };
  return {
    iteration: run,
    close: async () => {
      await session?.close();
    },
  };
}

/** How a pipeline VU's engine writes and reads its media socket (ZegoEngineProfile.mediaSocket). */
export const LOAD_MEDIA_SOCKET = Object.freeze({ framedWrites: true, readPackets: true });

export function pipelineConfig(ctx: VuContext, spec: IterationSpec): PipelineConfig {
  const singer = spec.seat.role === "singer";
  return {
    target: ctx.target,
    ...(ctx.mediaSocket ? { mediaSocketPath: ctx.mediaSocket } : {}),
    // The load generator's media socket: packets written pre-framed with a zero masking key and relayed ones
    // read before ws (reference/engine/media-socket.ts: cheaper for both this process and the simulator).
    mediaSocket: LOAD_MEDIA_SOCKET,
    appID: ctx.appID,
    appSign: ctx.appSign,
    roomID: spec.roomID,
    userID: spec.userID,
    song: spec.song,
    vendorID: spec.resource.vendorId,
    resourceType: spec.resource.type,
    quality: spec.resource.quality,
    billingMode: spec.resource.billingMode,
    ...(spec.resource.billingMode === 3 ? { masterID: spec.masterID } : {}),
    ...(spec.sceneId !== undefined ? { sceneID: spec.sceneId } : {}),
    ...(spec.player && singer ? { player: spec.player } : {}),
    preferShared: spec.preferShared,
    publish: singer,
    listen: !singer && spec.listenTo ? [spec.listenTo] : [],
    seconds: spec.seconds,
    seed: spec.seed,
    statusIntervalMs: 0,
    // No per-run histograms: the worker records every publisher's frames from the thread's frame ticker once
    // per flush (ticker-metrics.ts), and each received packet's latency below.
    histograms: false,
    ...(spec.cacheDir && !spec.audio?.memoryCache ? { cacheDir: spec.cacheDir } : {}),
    ...(spec.audio?.memoryCache ? { memoryCache: true } : {}),
    ...(spec.audio?.shared ? { sharedAudio: ctx.audio ?? threadAudio() } : {}),
    ...(spec.audio?.voiceProfiles ? { voiceProfiles: spec.audio.voiceProfiles } : {}),
    // Only a singer publishes: a listener's engine need not build the thread's pre-encoded packets.
    codec: singer ? spec.codec : "pcm",
    // Headers only: nothing is decoded, and the bytes are the frames' own (header + payload, any codec).
    onReceivedPacket: (_id, header, arrivalUs) => {
      ctx.rec.record("e2e_latency_ms", (arrivalUs - header.captureUs) / 1000);
      ctx.rec.add("media_bytes_received", FRAME_HEADER_BYTES + header.payloadBytes);
    },
    // token04 login and lyrics (issue 11 item 3).
    ...(spec.auth ? tokenConfig(ctx, spec, spec.auth) : {}),
    ...(spec.lyrics ? { lyrics: spec.lyrics } : {}),
    // Vocal scoring (issue 14 item 3): singers only.
    ...(spec.scoring && singer
      ? {
          scoring: { level: spec.scoring.level, pitchValueInterval: spec.scoring.pitchValueInterval },
          singers: spec.scoring.singers,
        }
      : {}),
  };
}

async function pipelineIteration(
  ctx: VuContext,
  spec: IterationSpec,
  signal: AbortSignal,
  session: PipelineSession | undefined,
  backoff: ReloginBackoff,
): Promise<IterationOutcome> {
  const config = pipelineConfig(ctx, spec);
  const result = await ctx.client(session ? { ...config, session } : config, signal);
  backoff.record(result.failure);
  recordResult(ctx.rec, result, spec.seat.role === "singer");
  recordVariant(ctx.rec, result, spec);
  const code = result.failure?.code ?? 0;
  return {
    ok: result.ok,
    code: result.ok ? 0 : code,
    ttfaMs: result.stages.ttfa_ms,
    aborted: result.aborted,
    detail: { failure: result.failure, song: result.song?.song_id ?? null, via: result.song?.via ?? null },
  };
}

/** Each pick_to_first_packet phase's series (made once, not per iteration). */
const PHASE_KEYS = (Object.keys(emptyPhases()) as PhaseName[]).map(
  (name) => [name, seriesKey("pick_phase_ms", { phase: name })] as const,
);

/** Everything a pipeline run measured, into the run's metrics (the runner adds ttfa and the iteration's own). */
export function recordResult(rec: Recorder, r: PipelineResult, singer: boolean): void {
  const s = r.stages;
  if (s.login_ms !== null) rec.record("login_ms", s.login_ms);
  if (s.init_ms !== null) rec.record("init_ms", s.init_ms);
  if (s.search_ms !== null) rec.record("search_ms", s.search_ms);
  // A client written before the rename reports only pick_to_audio_ms: the same measure.
  const pickToFirstPacket = s.pick_to_first_packet_ms ?? s.pick_to_audio_ms ?? null;
  if (pickToFirstPacket !== null) rec.record("pick_to_first_packet_ms", pickToFirstPacket);
  if (s.request_ms !== null) rec.record("request_resource_ms", s.request_ms);
  if (s.download_ms !== null) rec.record("download_ms", s.download_ms);
  if (s.load_ms !== null) rec.record("load_ms", s.load_ms);
  if (r.phases) {
    for (const [name, key] of PHASE_KEYS) {
      const ms = r.phases[name];
      if (ms !== null) rec.record(key, ms);
    }
  }
  for (const [code, n] of Object.entries(r.errors)) rec.error(code, n);
  rec.add("billable_requests", r.billable_requests);
  rec.add("unconfirmed_requests", r.unconfirmed_requests);
  rec.add("shared_fetches", r.shared_fetches);
  rec.add("bytes_downloaded", r.bytes_downloaded);
  for (const a of r.recovery) rec.add(`recoveries{rule:${a.rule}}`);
  if (r.publish) rec.add("media_bytes_published", r.publish.bytes_sent);
  for (const s of Object.values(r.listen?.streams ?? {})) {
    rec.add("media_packets_received", s.frames);
    rec.add("media_packets_lost", s.lost);
    rec.add("media_packets_reordered", s.reordered);
    if (s.frames > 1) rec.record("media_jitter_ms", s.jitter_ms);
  }
  if (r.mix) recordMixClock(rec, r);
  if (r.lyrics) recordLyrics(rec, r.lyrics);
  if (r.score && r.score.lines_scored > 0) {
    rec.record("score", r.score.average);
    rec.record("scoring_cost_us", r.score.cost_us);
  }
  const started = singer ? (r.publish?.packets_sent ?? 0) > 0 : r.song !== null && r.failure === null;
  if (started) rec.add("songs_started");
}

/** Lyrics: the fetch, the lines shown and each one's drift from the player's position. */
function recordLyrics(rec: Recorder, l: NonNullable<PipelineResult["lyrics"]>): void {
  rec.record("lyrics_fetch_ms", l.fetch_ms);
  if (l.kind === null) rec.add("lyrics_unavailable");
  rec.add("lyric_lines_shown", l.lines_shown);
  rec.add("lyric_lines_skipped", l.lines_skipped);
  for (const d of l.drift_ms) rec.record("lyric_drift_ms", d);
}

/**
 * The billable counts by billing mode and vendor (the billing check compares each with its ledger rows: with
 * ktv.mix one run requests in several), and what the player actions did.
 */
export function recordVariant(rec: Recorder, r: PipelineResult, spec: IterationSpec): void {
  const { billingMode: m, vendorId: v } = spec.resource;
  if (r.billable_requests > 0) {
    rec.add(`billable_by_mode{billing_mode:${m}}`, r.billable_requests);
    rec.add(`billable_by_vendor{vendor_id:${v}}`, r.billable_requests);
  }
  if (r.unconfirmed_requests > 0) {
    rec.add(`unconfirmed_by_mode{billing_mode:${m}}`, r.unconfirmed_requests);
    rec.add(`unconfirmed_by_vendor{vendor_id:${v}}`, r.unconfirmed_requests);
  }
  const p = r.player;
  if (p) {
    rec.add("player_pauses", p.pauses);
    rec.add("player_resumes", p.resumes);
    rec.add("player_seeks", p.seeks);
    rec.add("player_paused_frames", p.paused_frames);
    rec.add("player_link_drops", p.drops);
  }
}

/** The publish clock's frames, each one's lateness and cost from the run's own histograms (µs). */
function recordMixClock(rec: Recorder, r: PipelineResult): void {
  if (!r.mix || r.mix.frames <= 0) return;
  rec.add("mix_frames", r.mix.frames);
  rec.add("mix_late_frames", r.mix.late_frames);
  const h = r.histograms;
  for (const { value, count } of h.mix_lateness ? encodedValues(h.mix_lateness) : []) {
    rec.record("mix_lateness_ms", value / 1000, count);
  }
  for (const { value, count } of h.mix_cost ? encodedValues(h.mix_cost) : []) {
    rec.record("mix_cost_us", value, count);
  }
}
