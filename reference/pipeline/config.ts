import type { FrameHeader } from "../../protocol/media.ts";
import type { ThreadAudio } from "../audio/index.ts";
import { isMediaCodec, MEDIA_CODECS, type MediaCodec } from "../codec/profile.ts";
import type { MediaSocketTuning } from "../engine/types.ts";
import type { RetryPolicy } from "../music/retry.ts";
import type { Logger } from "../music/transport.ts";
import { parseSinger } from "../scoring/singer.ts";
import type { PipelineEvent } from "./events.ts";
import { checkPlayerActions, type PlayerActionOptions } from "./player-actions.ts";
import type { PipelineSession } from "./run.ts";

// What one virtual user does: which song, how it is obtained (its own billable request, or the room's share
// first), whether the mix is published and for how long, which streams it listens to. Plain data plus a few
// observer callbacks, so a scenario can build thousands of these; `checkPipelineConfig` lists every problem at
// once, and `withDefaults` fills in the rest.

/** How the song is picked: a search (the first singable hit), a chart, or a known song id. */
export type SongChoice = { query: string } | { topID: string } | { songID: string };

export interface PipelineConfig {
  /**
   * Keep the login across runs (run.ts PipelineSession): the run logs in and initialises only when the session
   * holds no usable login, and leaves its login there after a clean song. Absent: one login per run.
   */
  session?: PipelineSession;
  /** The simulator's base URL, e.g. http://127.0.0.1:7400. */
  target: string;
  /** The media WebSocket over this Unix domain socket the simulator also serves (`ktv sim --socket`). */
  mediaSocketPath?: string;
  /** The engine's media socket tuning (ZegoEngineProfile.mediaSocket: a load generator's framing and reading). */
  mediaSocket?: MediaSocketTuning;
  appID: number;
  /** 64 hex chars; or `token`. */
  appSign?: string;
  /** token04 for `userID` (token mode: used for the room login and every vendor call). */
  token?: string;
  /**
   * Token mode: where a fresh token comes from when the room warns that the current one expires (the app's
   * token server). Without it a run longer than the token's life is kicked with 1002056.
   */
  renewToken?: () => Promise<string>;
  roomID: string;
  userID: string;
  userName?: string;
  song: SongChoice;
  /** VendorID 0, 1, 2 or 4 (default 0). */
  vendorID?: number;
  /** ResourceType (default 1, accompaniment; 2 clip and 3 segment are shorter; 0 is the original song). */
  resourceType?: number;
  /** Quality 0 normal (default), 1 hq, 2 sq. */
  quality?: number;
  /** BillingMode (default 0, count). */
  billingMode?: number;
  /** Who pays under BillingMode 3 (Master); required there (the vendor answers 1017073 without it). */
  masterID?: string;
  /** Try getSharedResource first (a listener or second singer), requestResource when nobody shared it. */
  preferShared?: boolean;
  /** Publish accompaniment + voice (default true); false prepares the song (download, load) and listens. */
  publish?: boolean;
  /** Default `<userID>_main`. */
  streamID?: string;
  /** Streams of other room members to play. */
  listen?: string[];
  /**
   * How long to publish, in seconds of audio (a whole number of 10 ms frames); default: until the song ends.
   * Without publishing, how long to listen (default 10 s).
   */
  seconds?: number;
  /** Song position to start at, ms (default 0). */
  startPositionMs?: number;
  /** Seed of the synthetic voice (same seed, same song, same published samples). Default 1. */
  seed?: number;
  /** The player's publish volume, SDK scale 0..200 (default 60, the SDK's default). */
  accompanimentVolume?: number;
  /** The voice's capture volume 0..200 (default 100). */
  voiceVolume?: number;
  /** Songs to try when some are revoked (default 3). */
  maxSongs?: number;
  /** Transient vendor and download failures: bounded exponential backoff with jitter (see recovery.ts). */
  retry?: Partial<RetryPolicy>;
  /** Media socket reconnect policy. */
  reconnect?: Partial<RetryPolicy>;
  /** Download cache; default a fresh directory removed at the end (every virtual user downloads). */
  cacheDir?: string;
  /**
   * Keep the download in memory instead of a directory: nothing touches the filesystem (load runs). The VU
   * still downloads and verifies every byte; with `sharedAudio` equal files are held once per thread (without
   * it, the VU holds its whole file in memory until the run ends).
   */
  memoryCache?: boolean;
  /**
   * The worker thread's shared audio (reference/audio, `createThreadAudio()`): the player reads the song
   * decoded and resampled once per thread for equal bytes, and voice profiles are rendered once. Without it
   * every VU has its own reader, resampler and voice, as before. The samples published are the same.
   */
  sharedAudio?: ThreadAudio;
  /**
   * 0 (default): the voice is a VoiceSource seeded with `seed`, synthesised per VU. K >= 1: the VU sings profile
   * `seed % K` of K (reference/audio/shared-voice.ts: a VoiceSource seed and detune), rendered once per thread
   * and (pitch line, profile, start) when `sharedAudio` is given.
   */
  voiceProfiles?: number;
  /**
   * Play while downloading: the song starts once its header and this many ms of audio past the start position
   * have arrived, and the rest downloads meanwhile (the download is still verified; when it fails, playing
   * stops and the run fails at stage "download" with its code). null: play only the whole verified file (the
   * SDK's rule). Default 200 ms; null with `sharedAudio`, whose shared rendering needs the whole file.
   */
  prerollMs?: number | null;
  /** Write what was published to this WAV file (48 kHz stereo s16). */
  outPath?: string;
  /** Progress, stages, recoveries and a mixing report every `statusIntervalMs` (for a CLI or a runner). */
  onEvent?: (event: PipelineEvent) => void;
  /**
   * How the mix is published: "pcm" (default), "opus" (a live encoder per stream, Karaoke profile) or
   * "opus-preencoded" (shared pre-encoded packets of the same sizes and cadence: load runs).
   */
  codec?: MediaCodec;
  /**
   * Received audio of listened streams (buffers are reused: copy what you keep). Setting it makes the listener
   * decode Opus; leave it out of load runs.
   */
  onReceivedAudio?: (streamID: string, pcm: Int16Array, header: Readonly<FrameHeader>) => void;
  /**
   * Every received packet's header, before any decoding (latency, bytes: `FRAME_HEADER_BYTES + payloadBytes`),
   * and its arrival time (µs, epoch time base: the receiver's one clock read for the packet, so a latency needs
   * no second read).
   */
  onReceivedPacket?: (streamID: string, header: Readonly<FrameHeader>, arrivalUs: number) => void;
  /** Default 500 ms; 0 turns the periodic mixing events off. */
  statusIntervalMs?: number;
  /**
   * Keep this run's own HDR histograms: the mix clock's lateness/cost (result `mix`, `histograms.mix_*`) and the
   * listener's latency (`listen.latency_ms`, `histograms.listen_latency`); default true. A load worker running
   * many pipelines in one thread turns it off: it reads the thread's frame ticker once per flush and records
   * each packet's latency itself (onReceivedPacket). Measured in a 500-VU worker: summarising the per-run
   * listener histogram alone (four passes over a minute-range histogram, per listener iteration) was 11% of
   * the worker's CPU while iterations turned over.
   */
  histograms?: boolean;
  logger?: Logger;
  // ---- Lyrics (issue 11 item 3) ----
  /**
   * Fetch the song's lyrics once it is acquired and follow them with the player while publishing: "krc"
   * (word-timed, by the resource's krc_token; the song's LRC when the KRC cannot be had) or "lrc". Default:
   * none. The lines advance on the publish clock's existing 10 ms tick (reference/lyrics/follower.ts).
   */
  lyrics?: "krc" | "lrc";

  // ---- The rest of the vendor surface (issue 11): scene ids, player actions ----
  /**
   * SceneID sent with requestResource (spec §2: 1 voice chat room, 2 live-room KTV, 3 live-room background
   * music, 4 grab-the-mic; it must be enabled for the app, else 1017076). Absent: not sent (the vendor's 0).
   */
  sceneID?: number;
  /** Pause / resume / seek while publishing (player-actions.ts); default none. */
  player?: PlayerActionOptions;

  // ---- Vocal scoring (issue 14 item 3, reference/scoring) ----
  /**
   * Score the singer against the pitch line (startScore after Playing and startPublishingStream): the level
   * (setScoringLevel 0..4, default 4) and the pitchValueInterval (ms, default 50). Absent: no scoring.
   */
  scoring?: { level?: number; pitchValueInterval?: number };
  /**
   * Singer profiles (reference/scoring/singer.ts: "in-tune", "off:<cents>", "late:<ms>", "silent"); the VU
   * sings profile `seed % singers.length`. Absent: the voice as before (in tune).
   */
  singers?: string[];
}

/** Fields that stay optional after defaults are filled in. */
type OptionalKeys =
  | "scoring"
  | "singers"
  | "masterID"
  | "mediaSocketPath"
  | "mediaSocket"
  | "appSign"
  | "token"
  | "renewToken"
  | "userName"
  | "cacheDir"
  | "sharedAudio"
  | "outPath"
  | "onEvent"
  | "onReceivedAudio"
  | "onReceivedPacket"
  | "logger"
  | "seconds"
  | "lyrics"
  | "sceneID"
  | "player"
  | "prerollMs"
  | "session";

export type ResolvedConfig = Required<Omit<PipelineConfig, OptionalKeys>> &
  Pick<PipelineConfig, OptionalKeys>;

export const DEFAULT_LISTEN_SECONDS = 10;
/** Audio that must have arrived before a downloading song starts: a few 10 ms frames of slack. */
export const DEFAULT_PREROLL_MS = 200;

/** Every problem with `c`, as "field: why"; empty when it can run. */
export function checkPipelineConfig(c: PipelineConfig): string[] {
  const errors: string[] = [];
  const need = (ok: boolean, why: string) => {
    if (!ok) errors.push(why);
  };
  try {
    const u = new URL(c.target);
    need(
      u.protocol === "http:" || u.protocol === "https:",
      `target: must be an http(s) URL, got ${c.target}`,
    );
  } catch {
    errors.push(`target: not a URL: ${JSON.stringify(c.target)}`);
  }
  need(
    Number.isInteger(c.appID) && c.appID > 0 && c.appID <= 0xffffffff,
    "appID: must be a uint32 other than 0",
  );
  need(Boolean(c.appSign) || Boolean(c.token), "appSign or token: one is required");
  need(typeof c.roomID === "string" && c.roomID !== "", "roomID: must be a non-empty string");
  need(typeof c.userID === "string" && c.userID !== "", "userID: must be a non-empty string");
  const s = c.song as Record<string, unknown> | undefined;
  const choices = s
    ? ["query", "topID", "songID"].filter((k) => typeof s[k] === "string" && s[k] !== "")
    : [];
  need(choices.length === 1, "song: give exactly one of query, topID or songID (a non-empty string)");
  const intIn = (name: string, v: number | undefined, min: number, max: number) =>
    need(
      v === undefined || (Number.isInteger(v) && v >= min && v <= max),
      `${name}: must be an integer in ${min}..${max}`,
    );
  intIn("vendorID", c.vendorID, 0, 4);
  intIn("resourceType", c.resourceType, 0, 3);
  intIn("quality", c.quality, 0, 2);
  intIn("billingMode", c.billingMode, 0, 3);
  need(
    c.billingMode !== 3 || (typeof c.masterID === "string" && c.masterID !== ""),
    "masterID: required with billingMode 3 (Master)",
  );
  intIn("startPositionMs", c.startPositionMs, 0, 24 * 3_600_000);
  intIn("seed", c.seed, 0, 0xffffffff);
  intIn("accompanimentVolume", c.accompanimentVolume, 0, 200);
  intIn("voiceVolume", c.voiceVolume, 0, 200);
  intIn("maxSongs", c.maxSongs, 1, 20);
  intIn("statusIntervalMs", c.statusIntervalMs, 0, 60_000);
  intIn("voiceProfiles", c.voiceProfiles, 0, 4096);
  need(
    !(c.memoryCache && c.cacheDir !== undefined),
    "memoryCache: keeps downloads in memory, so it cannot be combined with cacheDir",
  );
  need(
    c.seconds === undefined || (Number.isFinite(c.seconds) && c.seconds > 0 && c.seconds <= 24 * 3600),
    "seconds: must be a positive number of seconds",
  );
  need(c.codec === undefined || isMediaCodec(c.codec), `codec: must be one of ${MEDIA_CODECS.join(", ")}`);
  if (c.streamID !== undefined)
    need(/^[A-Za-z0-9_-]{1,256}$/.test(c.streamID), "streamID: letters, digits, '-' and '_'");
  need(
    c.lyrics === undefined || c.lyrics === "krc" || c.lyrics === "lrc",
    `lyrics: must be "krc" or "lrc", got ${JSON.stringify(c.lyrics)}`,
  );
  if (c.prerollMs !== undefined && c.prerollMs !== null) {
    need(Number.isInteger(c.prerollMs) && c.prerollMs >= 0, "prerollMs: a whole number of ms >= 0, or null");
  }
  for (const [i, id] of (c.listen ?? []).entries()) {
    need(typeof id === "string" && /^[A-Za-z0-9_-]{1,256}$/.test(id), `listen[${i}]: not a stream id`);
  }
  intIn("sceneID", c.sceneID, 0, 4);
  if (c.scoring !== undefined) {
    intIn("scoring.level", c.scoring.level, 0, 4);
    intIn("scoring.pitchValueInterval", c.scoring.pitchValueInterval, 10, 60_000);
  }
  for (const [i, spec] of (c.singers ?? []).entries()) {
    try {
      parseSinger(spec);
    } catch (e) {
      errors.push(`singers[${i}]: ${(e as Error).message}`);
    }
  }
  need(
    c.singers === undefined || c.singers.length > 0,
    "singers: give at least one profile, or leave it out",
  );
  errors.push(...checkPlayerActions(c.player));
  return errors;
}

export function withDefaults(c: PipelineConfig): ResolvedConfig {
  return {
    ...c,
    vendorID: c.vendorID ?? 0,
    resourceType: c.resourceType ?? 1,
    quality: c.quality ?? 0,
    billingMode: c.billingMode ?? 0,
    preferShared: c.preferShared ?? false,
    publish: c.publish ?? true,
    streamID: c.streamID ?? `${c.userID.replace(/[^A-Za-z0-9_-]/g, "_")}_main`,
    listen: c.listen ?? [],
    startPositionMs: c.startPositionMs ?? 0,
    seed: c.seed ?? 1,
    accompanimentVolume: c.accompanimentVolume ?? 60,
    voiceVolume: c.voiceVolume ?? 100,
    maxSongs: c.maxSongs ?? 3,
    retry: c.retry ?? {},
    reconnect: c.reconnect ?? {},
    statusIntervalMs: c.statusIntervalMs ?? 500,
    codec: c.codec ?? "pcm",
    histograms: c.histograms ?? true,
    memoryCache: c.memoryCache ?? false,
    voiceProfiles: c.voiceProfiles ?? 0,
    prerollMs: c.prerollMs !== undefined ? c.prerollMs : c.sharedAudio ? null : DEFAULT_PREROLL_MS,
  };
}
