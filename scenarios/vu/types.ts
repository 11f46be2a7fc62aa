import type { ThreadAudio } from "../../reference/audio/index.ts";
import type { MediaCodec } from "../../reference/codec/profile.ts";
import type { PipelineConfig, SongChoice } from "../../reference/pipeline/config.ts";
import type { PipelineResult } from "../../reference/pipeline/result.ts";
import type { TokenAuth } from "./token-auth.ts";

// What the runner hands a virtual user for one iteration and what it gets back. A VU kind (vu/index.ts) turns
// an IterationSpec into calls on the system under test and records what it measured through the Recorder;
// the runner adds the iteration-level metrics (iterations, errors, duration, and the open model's corrected
// values) from the outcome.

export type Role = "singer" | "listener";

export interface Seat {
  room: number;
  /** Seat within the room: seats below singersPerRoom sing. */
  slot: number;
  role: Role;
}

export interface IterationSpec {
  /** The k6 scenario this iteration belongs to. */
  scenario: string;
  /** Global VU number (unique across scenarios and workers). */
  vu: number;
  /** This VU's iteration count (closed model), or the arrival's number (open model). */
  iteration: number;
  userID: string;
  roomID: string;
  seat: Seat;
  /** The stream a listener plays (the room's first singer), or null. */
  listenTo: string | null;
  /**
   * The room's owner, its first singer (this user when it is the first): who pays under billing mode 3
   * (Master, spec §7: each fetch charged to masterID + roomID).
   */
  masterID: string;
  song: SongChoice;
  resource: { type: number; quality: number; vendorId: number; billingMode: number };
  /** SceneID sent with requestResource (ktv.mix.scenes); absent: none. */
  sceneId?: number;
  /** Pause / resume / seek while publishing (ktv.player); absent: none. */
  player?: { pauseProb: number; seekProb: number; pauseMs: number; dropProb: number };
  preferShared: boolean;
  /** Seconds of audio to publish (singer) or listen to (listener). */
  seconds: number;
  /** Songs a pipeline VU runs on one room login (scenario `ktv.songsPerLogin`); absent: one. */
  songsPerLogin?: number;
  /** How a singer publishes (the scenario's media.codec). */
  codec: MediaCodec;
  /** Seed for the VU's synthetic voice. */
  seed: number;
  /** Download cache: a directory kept for the VU (cache "vu"), or undefined for a fresh one each time. */
  cacheDir: string | undefined;
  /**
   * How the VU makes its audio (scenario `cache: "memory"` and `ktv.audio`); absent: per-VU audio, downloads on
   * disk.
   */
  audio?: { memoryCache: boolean; shared: boolean; voiceProfiles: number };
  /** token04 login (scenario `ktv.auth`); absent: the app sign. */
  auth?: TokenAuth;
  /** Lyrics a singer fetches and follows (scenario `ktv.lyrics`); absent: none. */
  lyrics?: "krc" | "lrc";
  /** Vocal scoring a singer runs (scenario `ktv.scoring`); absent: none. */
  scoring?: { level: number; pitchValueInterval: number; singers: string[] };
}

/** Where a VU records what it measured (names from metrics/catalog.ts). */
export interface Recorder {
  /** A trend sample in the metric's unit. */
  record(metric: string, value: number, count?: number): void;
  add(counter: string, n?: number): void;
  /** An error code met, recovered or not. */
  error(code: number | string, n?: number): void;
  /** A rate sample (conformance{rule:...}). */
  rate(key: string, hit: boolean): void;
  /** A record for summary.json beside the metrics (e.g. one conformance verdict). */
  note(kind: string, data: unknown): void;
}

/**
 * The client under test: the reference pipeline's signature (reference/pipeline/run.ts). `ktv run --client
 * module.ts` swaps in a partner's own implementation behind the same contract.
 */
export type ClientFn = (config: PipelineConfig, signal: AbortSignal) => Promise<PipelineResult>;

export interface IterationOutcome {
  ok: boolean;
  /** Why it failed (a vendor or SDK code, or a name such as "exception"); 0 when ok. */
  code: number | string;
  /** Ms from the iteration's start to its first audio, when it got there. */
  ttfaMs: number | null;
  /** Cut by an abort (end of run, ramp-down, SIGINT): counted as interrupted, not as an iteration. */
  aborted: boolean;
  /** Free-form detail for the conformance log. */
  detail?: Record<string, unknown>;
}

export interface VuContext {
  target: string;
  /** Reach the target's media WebSocket over this Unix domain socket (embedded simulator), not TCP. */
  mediaSocket?: string;
  appID: number;
  appSign: string;
  /** The app's 32-char server secret, for token04 login (`ktv.auth`); absent: token mode is unavailable. */
  tokenSecret?: string;
  rec: Recorder;
  client: ClientFn;
  /**
   * The worker thread's shared audio, used when an iteration asks for it (`audio.shared`). Absent: the
   * pipeline VU uses its module's per-thread instance (vu/pipeline.ts `threadAudio()`).
   */
  audio?: ThreadAudio;
}

export interface Vu {
  iteration(spec: IterationSpec, signal: AbortSignal): Promise<IterationOutcome>;
  close(): Promise<void>;
}

export type VuFactory = (ctx: VuContext) => Vu;
