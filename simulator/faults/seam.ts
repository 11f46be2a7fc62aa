import type { TokenBucket } from "../cdn/token-bucket.ts";

// The one place where fault decisions are taken (issue: fault engine). Every vendor and CDN route asks
// `decide` once with a stable key; the resource and download surfaces then ask the follow-up questions below
// with that same key, so every random draw about a request stays a function of (seed, fault, key). The media
// relay opens one `mediaStream` per publication and asks it about each frame by sequence number.

export interface FaultRequest {
  /** Route id, e.g. "POST /v1/music/extended", "GET /v1/music/download/:resource_id". */
  route: string;
  /** Extended command where the route has one. */
  command?: string;
  /** Server REST API action (GET /?Action=). */
  action?: string;
  app_id?: number;
  user_id?: string;
  vendor_id?: number;
  song_id?: string;
  resource_type?: number;
  room_id?: string;
  /** Media: the stream a frame belongs to (its publisher is `user_id`). */
  stream_id?: string;
}

/** What to do to this request. An empty decision means "serve it normally". */
export interface FaultDecision {
  /** Delay before handling, ms. */
  delayMs?: number;
  /** Answer with this vendor code (HTTP 200 envelope) or HTTP status instead of handling. */
  vendorCode?: number;
  httpStatus?: number;
  /** Destroy the connection without answering. */
  dropConnection?: boolean;
}

/** A decision plus the request key that follow-up questions about the same request pass back. */
export interface KeyedDecision {
  decision: FaultDecision;
  /** Undefined for routes faults never apply to (admin, ops). */
  key: string | undefined;
}

/** A resource as fault selectors see it (being issued, swept, or downloaded). */
export interface ResourceSubject {
  app_id: number;
  user_id: string;
  vendor_id: number;
  song_id: string;
  resource_type: number;
  room_id: string | null;
}

/** A stored resource the engine may force-expire (ResourceRecord satisfies it). */
export interface ExpirableResource extends ResourceSubject {
  resource_id: string;
  forced_expired: boolean;
  via_share: boolean;
}

/**
 * What faults do to one download. Positions count body bytes of this response (a Range answer counts from its
 * first byte). Every effect is released as soon as `signal` aborts: a fault behind the plan was removed or
 * disabled, so waits end early and caps lift.
 */
export interface DownloadPlan {
  /** A fault expired the resource just now: answer 410 + 1017019 instead of serving. */
  expired: boolean;
  /** Wait before the response headers, ms. */
  firstByteDelayMs: number;
  /** Pause `ms` once `afterBytes` body bytes were sent, ascending by afterBytes. */
  stalls: readonly { afterBytes: number; ms: number }[];
  /** Close the connection once this many body bytes were sent (Infinity: never). */
  resetAfterBytes: number;
  /** Extra bandwidth caps; a global cap's bucket is shared by every download that fault hits. */
  buckets: readonly TokenBucket[];
  signal: AbortSignal;
}

const never = new AbortController().signal;

export const NO_PLAN: DownloadPlan = Object.freeze({
  expired: false,
  firstByteDelayMs: 0,
  stalls: Object.freeze([]),
  resetAfterBytes: Number.POSITIVE_INFINITY,
  buckets: Object.freeze([]),
  signal: never,
});

/** A published media stream as fault selectors see it. */
export interface MediaSubject {
  app_id: number;
  room_id: string;
  /** The publisher. */
  user_id: string;
  stream_id: string;
}

/** What faults do to one media frame. */
export interface FrameFate {
  drop: boolean;
  /** Extra copies sent right after the frame. */
  duplicates: number;
  /** Wait before the frame (and its copies) go out, ms. */
  delayMs: number;
  /** Go out only after this many later frames of the stream went out (reordering); 0: in turn. */
  holdFrames: number;
  /** Close the publisher's connection now (the frame is not relayed): the `disconnect` kind. */
  disconnect: boolean;
}

/** The fault view of one published stream, from its first frame until it stops being published. */
export interface MediaStreamFaults {
  /** The stream key every decision about its frames is made under (engine.ts). */
  readonly key: string;
  /** The fate of the frame numbered `seq`, arriving now. Reused: read it before the next call. */
  frame(seq: number): Readonly<FrameFate>;
  /** The stream stopped being published: its pending aggregates go to the event log. Idempotent. */
  close(): void;
}

export interface FaultSeam {
  decide(req: FaultRequest): FaultDecision;
  /** Like decide, also handing back the request key for the questions below. */
  decideWithKey(req: FaultRequest): KeyedDecision;
  /** Validity (ms) of a resource the request `key` is about to be issued, or undefined for the default. */
  issueTtl(key: string | undefined, route: string, res: ResourceSubject): number | undefined;
  /** What faults do to this download (request `key`) of `res`, decided once before the answer starts. */
  decideDownload(key: string | undefined, route: string, res: ExpirableResource): DownloadPlan;
  /** A download in flight was cut with `code`: records it against the fault that caused it, if one did. */
  downloadCut(key: string | undefined, res: ExpirableResource, code: number): void;
  /**
   * Opens the fault view of a stream that starts being published. `release` is called whenever a fault that
   * shaped its frames goes away (removed, disabled, window over): what the caller holds back goes out then.
   */
  mediaStream(subject: MediaSubject, release: () => void): MediaStreamFaults;
}

const IN_TURN: Readonly<FrameFate> = Object.freeze({
  drop: false,
  duplicates: 0,
  delayMs: 0,
  holdFrames: 0,
  disconnect: false,
});

/** Every frame in turn, untouched. */
export const NO_MEDIA_FAULTS: MediaStreamFaults = Object.freeze({
  key: "",
  frame: () => IN_TURN,
  close: () => {},
});

export const noFaults: FaultSeam = {
  decide: () => ({}),
  decideWithKey: () => ({ decision: {}, key: undefined }),
  issueTtl: () => undefined,
  decideDownload: () => NO_PLAN,
  downloadCut: () => {},
  mediaStream: () => NO_MEDIA_FAULTS,
};
