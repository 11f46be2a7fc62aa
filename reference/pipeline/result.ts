import { build, encodeIntoCompressedBase64, type Histogram } from "hdr-histogram-js";
import type { MediaCodec } from "../codec/profile.ts";
import type { ClockReport, Percentiles } from "../mixer/clock.ts";
import type { ScoreReport } from "../scoring/scored-mic.ts";
import type { PipelineEvent } from "./events.ts";
import type { PlayerActionReport } from "./player-actions.ts";
import type { RecoveryAction, RecoveryRule } from "./recovery.ts";

// What one run of the pipeline reports: per-stage time, the errors it met (recovered or not), billable
// requests, bytes, recoveries, the mixer clock's lateness and cost, and the listener's end-to-end latency.
// One Recorder per run collects it; nothing here is global, so any number of runs share a process.

export type StageName = "login" | "init" | "search" | "request" | "download" | "load" | "publish" | "listen";

export interface StageTimes {
  login_ms: number | null;
  init_ms: number | null;
  search_ms: number | null;
  /** requestResource / getSharedResource, summed over attempts (a re-request after expiry adds to it). */
  request_ms: number | null;
  /** Downloads, summed over attempts. */
  download_ms: number | null;
  /** loadCopyrightedMusicResourceWithPosition + getStandardPitch. */
  load_ms: number | null;
  /** Time to first audio: the intent (the run's start) to the first published packet. */
  ttfa_ms: number | null;
  /**
   * The song pick (the chosen song in hand, after search) to the first audio packet handed to the media socket:
   * what a user who has just tapped a song waits for (request, download, load, start), without the session start
   * (login, init). That packet carries the first two mixed 10 ms frames (a 20 ms packet), so it is the moment the
   * first frame is published: it leaves one frame after the first frame is mixed, the wait any 20 ms packetiser
   * has (phases.first_frame is the mix of the first frame, phases.first_packet this moment).
   */
  pick_to_first_packet_ms: number | null;
  /**
   * The same value under its former name, for clients written against it: a `--client` module that reports
   * only this is still recorded (scenarios/vu/pipeline.ts). The reference pipeline sets both.
   * @deprecated read pick_to_first_packet_ms.
   */
  pick_to_audio_ms?: number | null;
  /** The intent to the first packet heard from a listened stream. */
  first_heard_ms: number | null;
}

/**
 * Where time to first audio goes: each point in ms since the song pick (null when not reached). request: the
 * (last) requestResource / getSharedResource answered; first_byte: the first file bytes were written;
 * playable: the header and the pre-roll were in (with a pre-roll; else the whole verified file: download_done);
 * download_done: download() resolved; loaded: the player loaded the song (and the pitch line was in);
 * publishing: the media server accepted the stream; first_frame: the first 10 ms frame was mixed;
 * first_packet: the first packet (two frames) was handed to the media socket: pick_to_first_packet_ms.
 */
export type PhaseName =
  | "request"
  | "first_byte"
  | "playable"
  | "download_done"
  | "loaded"
  | "publishing"
  | "first_frame"
  | "first_packet";

export type PickPhases = Record<PhaseName, number | null>;

export function emptyPhases(): PickPhases {
  return {
    request: null,
    first_byte: null,
    playable: null,
    download_done: null,
    loaded: null,
    publishing: null,
    first_frame: null,
    first_packet: null,
  };
}

export interface SongOutcome {
  song_id: string;
  song_name: string;
  singer_name: string;
  resource_id: string;
  resource_type: number;
  via: "request" | "shared";
}

/**
 * The HDR histograms behind `mix` and `listen.latency_ms`, one value per frame or packet, so a runner can merge
 * runs exactly (percentiles of runs cannot be merged). Each is hdr-histogram-js `encodeIntoCompressedBase64`
 * (decode with `decodeFromCompressedBase64`), values integers in `unit`; null when the run had none.
 */
export interface PipelineHistograms {
  unit: "us";
  /** Start of each 10 ms publish frame after its deadline. */
  mix_lateness: string | null;
  /** Duration of each publish frame's tick. */
  mix_cost: string | null;
  /** Capture timestamp -> receipt at the listener, per packet. */
  listen_latency: string | null;
}

export interface PipelineResult {
  ok: boolean;
  aborted: boolean;
  /** Why the run stopped early, when it did. */
  failure: { stage: string; code: number; message: string } | null;
  user_id: string;
  room_id: string;
  song: SongOutcome | null;
  /** Songs passed over (revoked) with the reason. */
  skipped: { song_id: string; code: number; reason: string }[];
  stages: StageTimes;
  /** The phases of pick_to_first_packet_ms (ms since the pick; the first time each was reached); optional for other clients. */
  phases?: PickPhases;
  /** Every error code met, recovered or not (key: vendor code, or HTTP status for transport failures). */
  errors: Record<string, number>;
  /** requestResource calls the vendor answered with success: each is one ledger row. */
  billable_requests: number;
  /** requestResource calls without a vendor answer: each may or may not have billed. */
  unconfirmed_requests: number;
  shared_fetches: number;
  /** Audio body bytes received from the CDN (resumes included). */
  bytes_downloaded: number;
  recovery: RecoveryAction[];
  publish: {
    stream_id: string;
    seconds: number;
    frames_mixed: number;
    packets_sent: number;
    packets_dropped: number;
    /** "pcm", "opus" or "opus-preencoded". */
    codec: MediaCodec;
    /** Whole frames (header + payload) the media socket took: the measured wire bytes. */
    bytes_sent: number;
    reconnects: number;
  } | null;
  /** The publish clock: lateness (ms) and mix cost (µs) per 10 ms frame. */
  mix: ClockReport | null;
  /** Pause / resume / seek done while publishing (config `player`); absent without them. */
  player?: PlayerActionReport;
  listen: {
    streams: Record<
      string,
      {
        frames: number;
        /** Whole frames received (header + payload). */
        bytes: number;
        lost: number;
        reordered: number;
        /** RFC 3550 interarrival jitter at the end of the run. */
        jitter_ms: number;
        discontinuities: number;
      }
    >;
    /** Capture timestamp -> receipt at the listener, ms. */
    latency_ms: (Percentiles & { count: number }) | null;
  } | null;
  histograms: PipelineHistograms;
  elapsed_ms: number;
  /** With `lyrics` configured (singers): what was fetched and how it was followed; absent or null otherwise. */
  lyrics?: LyricsReport | null;
  /** With `scoring` configured (singers): the scores (0-100 per line) and the scorer's CPU; absent otherwise. */
  score?: ScoreReport | null;
}

/** Lyrics fetched after the pick and followed with the player's position (../lyrics). */
export interface LyricsReport {
  /** What was shown: "krc", or "lrc" (asked for, or the fallback); null when no lyrics could be had. */
  kind: "krc" | "lrc" | null;
  /** The fetch (KRC, and LRC after a fallback), ms. */
  fetch_ms: number;
  /** The KRC code that made it fall back to LRC, or null. */
  fell_back_from: number | null;
  /** The failure code when no lyrics could be had, else 0 (the song still plays). */
  code: number;
  lines: number;
  /** Lines made current by playback reaching them while publishing. */
  lines_shown: number;
  /** Lines passed within one frame behind another (late ticks). */
  lines_skipped: number;
  /** Per shown line: player position (as lyric time) minus the line's begin when it was shown, ms. */
  drift_ms: number[];
}

/** Stage times before anything ran: every stage not reached stays null. */
export function emptyStages(): StageTimes {
  return {
    login_ms: null,
    init_ms: null,
    search_ms: null,
    request_ms: null,
    download_ms: null,
    load_ms: null,
    ttfa_ms: null,
    pick_to_first_packet_ms: null,
    pick_to_audio_ms: null,
    first_heard_ms: null,
  };
}

export class Recorder {
  readonly t0 = performance.now();
  readonly stages: StageTimes = emptyStages();
  readonly phases: PickPhases = emptyPhases();
  readonly errors: Record<string, number> = {};
  readonly recovery: RecoveryAction[] = [];
  readonly skipped: PipelineResult["skipped"] = [];
  billable = 0;
  unconfirmed = 0;
  shared = 0;
  bytes = 0;
  /** When the song was picked (ms since the run's start), or null before. */
  pickedAt: number | null = null;
  /**
   * Listener latency, µs: made on the first value. A run that keeps no histograms of its own (a load worker's
   * VU, `histograms: false`, whose packets are recorded into the worker's one trend) never makes it: one was
   * 68 KB (17,408 Int32 counts for 60 s at 3 significant digits) of every load VU, a third of what a VU held.
   */
  private latencyUs: Histogram | null = null;

  constructor(private readonly observe?: (e: PipelineEvent) => void) {}

  sinceStart(): number {
    return performance.now() - this.t0;
  }

  /** Marks phase `name` now (ms since the pick), the first time only; nothing before the pick. */
  phase(name: PhaseName): void {
    if (this.pickedAt === null || this.phases[name] !== null) return;
    this.phases[name] = this.sinceStart() - this.pickedAt;
  }

  event(e: PipelineEvent): void {
    if (!this.observe) return;
    try {
      this.observe(e);
    } catch {
      // An observer's bug must not break the run it observes.
    }
  }

  /** Times `fn` as `stage` (added to the stage's total) and reports it. */
  async stage<T>(stage: StageName, fn: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await fn();
    } finally {
      const ms = performance.now() - start;
      const key = `${stage}_ms` as keyof StageTimes;
      if (key in this.stages) this.stages[key] = (this.stages[key] ?? 0) + ms;
      this.event({ type: "stage", stage, ms });
      // The last request counts (a re-request after an expired download starts the wait over).
      if (stage === "request" && this.pickedAt !== null)
        this.phases.request = this.sinceStart() - this.pickedAt;
      if (stage === "download") this.phase("download_done");
    }
  }

  error(code: number | string): void {
    if (code === 0) return;
    const k = String(code);
    this.errors[k] = (this.errors[k] ?? 0) + 1;
  }

  recover(rule: RecoveryRule, stage: string, code: number, detail: string, songID?: string): void {
    const action: RecoveryAction = {
      rule,
      stage,
      code,
      detail,
      at_ms: Math.round(this.sinceStart()),
      ...(songID !== undefined ? { song_id: songID } : {}),
    };
    this.recovery.push(action);
    this.event({ type: "recovery", action });
  }

  /** One received packet's capture -> receipt latency, µs (negatives, a clock step, count as 0). */
  recordLatency(us: number): void {
    this.latencyUs ??= build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: 60_000_000,
      numberOfSignificantValueDigits: 3,
    });
    this.latencyUs.recordValue(us > 0 ? Math.floor(us) : 0);
  }

  /** Latencies recorded so far. */
  get latencyCount(): number {
    return this.latencyUs?.totalCount ?? 0;
  }

  /** Whether this run made its latency histogram (it does on its first value). */
  get hasLatencyHistogram(): boolean {
    return this.latencyUs !== null;
  }

  /** The median latency so far, ms (0 before any). */
  latencyP50Ms(): number {
    const h = this.latencyUs;
    return h && h.totalCount > 0 ? h.getValueAtPercentile(50) / 1000 : 0;
  }

  /** The listener latency histogram, encoded (µs), or null when nothing was heard. */
  latencyHistogram(): string | null {
    const h = this.latencyUs;
    return h === null || h.totalCount === 0 ? null : encodeIntoCompressedBase64(h);
  }

  latencySummary(): (Percentiles & { count: number }) | null {
    const h = this.latencyUs;
    if (h === null || h.totalCount === 0) return null;
    return {
      count: h.totalCount,
      p50: h.getValueAtPercentile(50) / 1000,
      p90: h.getValueAtPercentile(90) / 1000,
      p99: h.getValueAtPercentile(99) / 1000,
      max: h.maxValue / 1000,
      mean: h.mean / 1000,
    };
  }
}

/**
 * Called on every mixed publish frame with the packets published so far: on the first frame that finds one
 * (the mixed-audio handler runs after the frame's packet went out, engine/capture.ts), marks time to first
 * audio and pick_to_first_packet_ms and the first_packet phase, all the same instant; returns true that once.
 * Frame 0 is mixed before any packet exists, so it never ends the measure: the end is the first packet sent.
 */
export function markFirstPacket(rec: Recorder, publishedPackets: number): boolean {
  if (rec.stages.ttfa_ms !== null || publishedPackets === 0) return false;
  const at = rec.sinceStart();
  rec.stages.ttfa_ms = at;
  if (rec.pickedAt !== null) {
    const sincePick = at - rec.pickedAt;
    rec.stages.pick_to_first_packet_ms = sincePick;
    rec.stages.pick_to_audio_ms = sincePick;
    rec.phases.first_packet ??= sincePick;
  }
  rec.event({ type: "first_audio", ttfa_ms: at });
  return true;
}
