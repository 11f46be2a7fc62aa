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
export type VuKind = "pipeline" | "music" | "conformance";

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
}

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
  /** How singers publish their audio (reference/codec/profile.ts). */
  media?: MediaData;
  faults?: FaultData;
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
