import type { TokenBucket } from "../cdn/token-bucket.ts";

// The one place where fault decisions are taken (issue: fault engine). Every vendor, CDN and media route asks
// `decide` once with a stable key; the resource and download surfaces then ask the follow-up questions below
// with that same key, so every random draw about a request stays a function of (seed, fault, key).

export interface FaultRequest {
  /** Route id, e.g. "POST /v1/music/extended", "GET /v1/music/download/:resource_id". */
  route: string;
  /** Extended command where the route has one. */
  command?: string;
  app_id?: number;
  user_id?: string;
  vendor_id?: number;
  song_id?: string;
  resource_type?: number;
  room_id?: string;
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
}

export const noFaults: FaultSeam = {
  decide: () => ({}),
  decideWithKey: () => ({ decision: {}, key: undefined }),
  issueTtl: () => undefined,
  decideDownload: () => NO_PLAN,
  downloadCut: () => {},
};
