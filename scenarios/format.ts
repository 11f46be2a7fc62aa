import type { Options, Threshold } from "k6/options";
import type { MediaCodec } from "../reference/codec/profile.ts";
import type { Duration } from "./load/duration.ts";
import type { ExpectData } from "./run/fault-check.ts";

// A scenario is a TypeScript module whose default export is data (`defineScenario({...})`): the load shape in
// k6's own option shape (`options`, exactly what a k6 script exports as `options`: vus/duration/iterations/
// stages shortcuts or `scenarios` with the six executors, plus `thresholds` in k6's grammar with our sliding
// windows), and the KTV data (`ktv`): who is in which room, what they sing, how they get it, which faults hit
// them and when. validate() (validate.ts) lists every problem at once; plan() (load/plan.ts) gives the
// schedule from this data alone, before anything runs.

/** The subset of k6's `options` that describes load and pass/fail; other k6 options are refused. */
export type LoadOptions = Pick<Options, "vus" | "duration" | "iterations" | "stages" | "scenarios"> & {
  /** k6 grammar (`p(95)<800`, `rate<0.01`, `{threshold, abortOnFail}`) plus windows: `p(95)<800 over 30s`. */
  thresholds?: Record<string, Threshold[]>;
};

/** Which user code one iteration runs: the reference pipeline, a bare music flow, the conformance cases. */
export type VuKind = "pipeline" | "music" | "conformance" | "backend";

export interface Population {
  /**
   * Rooms. Default: as many as the most VUs the load plans need (VU j sits in room ⌊j / usersPerRoom⌋), so
   * ramping VUs ramps rooms. When given, rooms are reused round-robin beyond rooms × usersPerRoom users.
   */
  rooms?: number;
  /** Default 2. */
  usersPerRoom?: number;
  /** The first `singersPerRoom` seats of a room sing (publish); the others listen. Default 1. */
  singersPerRoom?: number;
}

export interface SongChoiceData {
  /** Charts whose songs form the pool, e.g. ["8888", "6666"] (vendor 0/1 top ids). Default ["8888"]. */
  charts?: string[];
  /** Zipf exponent over the pool's chart rank (1 = classic popularity skew, 0 = uniform). Default 1. */
  zipf?: number;
  /** Songs taken from each chart (its first pages). Default 50. */
  poolSize?: number;
  /** Share of choices made by a search for the picked song's name instead of by its id (0..1). Default 0.2. */
  searchMix?: number;
}

export interface ResourceData {
  /** ResourceType: 0 song, 1 accompaniment (default), 2 clip, 3 segment. */
  type?: number;
  /** 0 normal (default), 1 hq, 2 sq. */
  quality?: number;
  /** VendorID 0 (default), 1, 2, 4. */
  vendorId?: number;
  /** BillingMode 0 count (default), 1 user, 2 room, 3 master (charged to the room's first singer). */
  billingMode?: number;
}

/**
 * A weighted mix of what the iterations request (issue 11: the whole vendor surface under load). Each key is a
 * value, each number its weight, e.g. `types: { "1": 3, "2": 1 }` makes three in four iterations accompaniments.
 * One draw per room and round (seed, room, round): every member of a room asks for the same variant in a round,
 * so listeners still find the singer's share. A field left out takes `resource`'s single value. Vendors are
 * drawn first, then a type among those the vendor offers (spec §2: clips on vendors 0/1, short segments on
 * 0/1/2, songs and accompaniments everywhere). Pipeline VUs only.
 */
export interface MixData {
  /** ResourceType weights: "0" song, "1" accompaniment, "2" clip, "3" segment. */
  types?: Record<string, number>;
  /** VendorID weights: "0", "1", "2", "4". */
  vendors?: Record<string, number>;
  /** SceneID weights: "0" (none) .. "4" (spec §2). The embedded simulator enables the scenes drawn. */
  scenes?: Record<string, number>;
  /** BillingMode weights: "0" count, "1" user, "2" room, "3" master (the room's first singer pays). */
  billingModes?: Record<string, number>;
}

/** Pause / resume / seek while singers publish (reference/pipeline/player-actions.ts). Pipeline VUs only. */
export interface PlayerData {
  /** Probability an iteration pauses once (0..1). Default 0. */
  pauseProb?: number;
  /** Probability an iteration seeks back once to a whole second of the song (0..1). Default 0. */
  seekProb?: number;
  /** How long a pause lasts, ms (multiple of 10). Default 1000. */
  pauseMs?: number;
  /** Probability a singer's network link drops once while publishing (it reconnects: media-reconnect). */
  dropProb?: number;
}

/**
 * Download cache behaviour: "cold" gives every iteration an empty cache (every song is downloaded); "vu" keeps
 * one cache per virtual user across its iterations (a repeated song is revalidated, not downloaded again);
 * "memory" is "cold" held in memory: every iteration downloads and verifies every byte, and nothing touches the
 * filesystem (load runs: per-VU temp-file I/O was the workers' top cost). Pipeline VUs only; with
 * `audio.shared` equal files are held once per worker, otherwise each running VU holds its whole file.
 */
export type CacheBehaviour = "cold" | "vu" | "memory";

/** How a worker's VUs produce their audio (pipeline VUs). Defaults: per-VU audio, as a real client does. */
export interface AudioData {
  /**
   * One decoded, resampled copy of each song per worker thread, read by every VU playing the same bytes, instead
   * of a file reader and resampler per VU. The published samples are the same. Default false.
   */
  shared?: boolean;
  /**
   * 0 (default): each VU's voice is synthesised from its own seed. K: each VU sings one of K voice profiles
   * (seed % K), rendered once per worker when `shared` is on.
   */
  voiceProfiles?: number;
}

export interface MediaData {
  /**
   * "pcm" (default): 48 kHz stereo s16, 1.5 Mbit/s per stream; "opus": a live libopus encoder per singer at
   * the Karaoke profile (128 kbit/s, 20 ms packets), for fidelity runs; "opus-preencoded": packets of one Opus
   * encoding shared per worker thread, same sizes and cadence without the encoder's CPU, for load runs.
   */
  codec?: MediaCodec;
  /**
   * How VUs reach the embedded simulator's media WebSocket: "unix" (default) over a Unix domain socket the
   * simulator also serves, "tcp" over loopback TCP like an external target. A loopback TCP send also runs the
   * receiver's TCP input, so the relay's cost per packet is ~1.8x higher on TCP (simulator/local-socket.ts).
   * Ignored with --target (always the target's URL).
   */
  transport?: MediaTransport;
}

export type MediaTransport = "unix" | "tcp";

/** A change of the simulator's fault profile at `at` after the run's start (PUT /admin/faults). */
export interface FaultStep {
  at: Duration;
  /** The profile JSON (simulator/faults/examples/README.md); null removes every fault. */
  profile: unknown | null;
}

export interface FaultData {
  /** Applied before the first iteration starts; null or absent: none. */
  profile?: unknown | null;
  timeline?: FaultStep[];
}

/**
 * How VUs authenticate (pipeline VUs). "appsign" (default): the app sign. "token04": no app sign; each
 * iteration logs in with a token04 minted for its user (the app's token server: the run's app secret), and
 * renews it the careful app's way (reference/pipeline/token.ts).
 */
export interface AuthData {
  mode: "appsign" | "token04";
  /**
   * token04: each token's lifetime, s (default 3600). The vendor warns 30 s before expiry, so it must be more
   * than 30; an iteration longer than `ttlSeconds - 30` renews mid-session.
   */
  ttlSeconds?: number;
  /**
   * token04: share of iterations (0..1, default 0) that start with a cached token that already expired (an
   * app back from the background): the login answers 1002078 and the client must re-mint and retry once.
   */
  staleShare?: number;
}

export interface KtvData {
  vu?: VuKind;
  population?: Population;
  songs?: SongChoiceData;
  /** Share of listeners that try the room's share (getSharedResource) before their own request. Default 1. */
  shareRatio?: number;
  cache?: CacheBehaviour;
  audio?: AudioData;
  resource?: ResourceData;
  /** Audio a singer publishes per iteration, and a listener listens to. Default 5 s. */
  singSeconds?: number;
  /**
   * Songs (iterations) a pipeline VU sings or listens to on one room login, as a real app does: it logs in and
   * initialises once, then song after song (reference/pipeline/run.ts PipelineSession). A failed or aborted
   * iteration ends the login early; token login (auth) always logs in per song. Default 1: a login per song.
   */
  songsPerLogin?: number;
  /** How singers publish their audio (reference/codec/profile.ts). */
  media?: MediaData;
  faults?: FaultData;
  /** A weighted mix of resource types, vendors, scenes and billing modes per room and round. */
  mix?: MixData;
  /** Pause / resume / seek during playback. */
  player?: PlayerData;
  /**
   * What the faults must be seen to do (scenarios/run/fault-check.ts): which faults must fire, which recovery
   * rules must run and which codes each keeps from users. Default: every declared fault must fire.
   */
  expect?: ExpectData;
  /** Hard limit of the run (default: the plan's length plus its graceful stops); `--duration` overrides it. */
  duration?: Duration;
  /**
   * Open model: how long an arrival may wait for a free VU before it is dropped (dropped_iterations). While it
   * waits its latency clock runs (corrected values). "0s" is k6's behaviour: drop at once. Default "5s".
   */
  maxStartDelay?: Duration;
  /** Embedded simulator settings (ignored with --target). */
  simulator?: {
    catalogSize?: number;
    resourceTtlMs?: number;
    shareTtlMs?: number;
    cdnGlobalBytesPerSec?: number;
  };
  /** Populations (rooms) to extrapolate the capacity model to, e.g. [1000, 5000]. */
  extrapolateRooms?: number[];
  /** token04 login with expiry and renewal (pipeline VUs). Default: app sign. */
  auth?: AuthData;
  /**
   * Singers fetch the song's lyrics after the pick and follow them with playback (pipeline VUs): "krc" (by the
   * resource's krc_token; LRC when the KRC cannot be had) or "lrc". Default: no lyrics.
   */
  lyrics?: "krc" | "lrc";
  /**
   * Singers score their voice against the pitch line (pipeline VUs; reference/scoring): setScoringLevel 0..4
   * (default 4), pitchValueInterval ms (default 50), and the singer profiles VUs sing, by seed ("in-tune",
   * "off:<cents>", "late:<ms>", "silent"; default in tune). Metrics `score` and `scoring_cost_us`.
   */
  scoring?: { level?: number; pitchValueInterval?: number; singers?: string[] };
}

export interface ScenarioDefinition {
  name: string;
  description: string;
  options: LoadOptions;
  ktv?: KtvData;
}

/** Identity with a type: `export default defineScenario({...})` gets completion and checks in an editor. */
export function defineScenario(s: ScenarioDefinition): ScenarioDefinition {
  return s;
}
