import type { RetryPolicy } from "../music/retry.ts";
import type { RequestResourceResult } from "../music/types.ts";

// The recovery rules of the careful app (issue 5, item 6), one small function each, so the pipeline's control
// flow reads as the rules and each rule has one place to test (recovery.test.ts) and to link from the README.

export type RecoveryRule =
  | "transient-backoff"
  | "expired-rerequest"
  | "revoked-skip"
  | "shared-fallback"
  // Token mode (token.ts): renewed on the room's warning; re-minted after an expired-token refusal.
  | "token-renew"
  | "token-remint"
  // Lyrics (../lyrics/fetch.ts shouldFallBackToLrc): the KRC could not be had, the song's LRC is shown.
  | "lyrics-fallback"
  | "vendor-unavailable"
  | "media-reconnect"
  // A song revoked while it played (downloading as it played): the player stops at once and the user is told
  // (1017030 / 1017031); skipping to another song is for revocations before playback (revoked-skip).
  | "revoked-stop";

export interface RecoveryAction {
  rule: RecoveryRule;
  /** The stage that failed: search, request, download... */
  stage: string;
  /** The code that triggered it (a vendor code, or an HTTP status for transport failures). */
  code: number;
  song_id?: string;
  detail: string;
  /** ms since the pipeline started. */
  at_ms: number;
}

export const NO_COPYRIGHT = 1017030;
export const LISTEN_ONLY = 1017031;
export const RESOURCE_EXPIRED = 1017019;
export const NOT_SHARED = 1017050;
export const SHARE_USED = 1017051;
export const NETWORK_ERROR = 1017098;
export const REQUEST_FAILED = 1017010;

/**
 * Rule "transient errors -> bounded exponential backoff with jitter". 1017097 busy, 1017098 network, 429 and
 * 5xx are retried by the music module's transport (vendor calls) and its downloads (resumed with Range), at
 * most `maxAttempts` times, each wait drawn from [0, min(cap, base·2^n)] (full jitter) or the server's
 * Retry-After. This is the policy the pipeline hands them; each backoff is reported and recorded as a
 * recovery action (traffic.ts `retryObserver`).
 */
export function transientRetryPolicy(over: Partial<RetryPolicy> = {}): Partial<RetryPolicy> {
  return { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 2_000, maxRetryAfterMs: 10_000, ...over };
}

export const SYSTEM_BUSY = 1017097;

/** The codes the transport backs off on: busy, network error, HTTP 429 and 5xx. */
export function isTransient(code: number): boolean {
  return code === SYSTEM_BUSY || code === NETWORK_ERROR || code === 429 || (code >= 500 && code <= 599);
}

/**
 * Rule "an outage -> back off, then a clear error": when a stage still fails with a transient code after the
 * transport's retries (transient-backoff), the vendor is down for longer than the retry budget. The run stops
 * there with that code and says so ("the vendor is unavailable after N retries"), rather than carrying on
 * with a half-obtained song; the give-up is recorded as this rule so a scenario can tell an outage the client
 * rode out (backoffs only) from one it surfaced (backoffs, then this).
 */
export function isVendorUnavailable(code: number, backoffs: number): boolean {
  return isTransient(code) && backoffs > 0;
}

/**
 * Rule "media socket lost while publishing -> reconnect and publish again" (engine/room-session.ts does it:
 * log in again with backoff, re-publish and re-play the streams). Each completed reconnect is recorded as this
 * rule after the publish, from the engine's count.
 */
export const MEDIA_RECONNECT = "media-reconnect" as const;

/**
 * Rule "revoked song -> skip to the next song and surface the reason": 1017030 (no copyright at all) and
 * 1017031 (listen only: no accompaniment rights) from requestResource / getSharedResource, or a download cut
 * because the song was revoked meanwhile (the CDN answers 403 + 1017030 to the resume).
 */
export function isRevocation(code: number): boolean {
  return code === NO_COPYRIGHT || code === LISTEN_ONLY;
}

/**
 * Rule "1017019 on download -> requestResource again (once, then report)": an expired resource can never be
 * downloaded, so a fresh request is the only way on; a second expiry in a row is reported, not chased.
 */
export function shouldRequestAgain(downloadCode: number, requestedAgain: boolean): boolean {
  return downloadCode === RESOURCE_EXPIRED && !requestedAgain;
}

/**
 * Rule "getSharedResource when a room member already requested it; requestResource when not": 1017050 (nobody
 * in the room requested it, or the share expired) and 1017051 (this user already took its free fetch) mean the
 * share cannot serve this user, so the user pays for their own request.
 */
export function shouldFallBackToRequest(sharedCode: number): boolean {
  return sharedCode === NOT_SHARED || sharedCode === SHARE_USED;
}

/**
 * Rule "never two billable requests for one user intent unless the first provably failed". A requestResource
 * failed provably when the SDK refused it locally or the vendor answered it with an error code (the vendor
 * bills only what it issues). Without a vendor answer (1017098: reset or timeout after sending; 1017010: a
 * reply that was not the vendor's envelope) it may have billed; and a success envelope whose data was
 * unusable did bill. Those are reported and never repeated automatically.
 */
export function provablyFailed(r: Pick<RequestResourceResult, "errorCode" | "resource">): boolean {
  if (r.errorCode === 0) return false;
  if (r.resource === "") return r.errorCode !== NETWORK_ERROR && r.errorCode !== REQUEST_FAILED;
  const code = envelopeCode(r.resource);
  return code !== undefined && code !== 0;
}

function envelopeCode(text: string): number | undefined {
  try {
    const code = (JSON.parse(text) as { code?: unknown }).code;
    return typeof code === "number" ? code : undefined;
  } catch {
    return undefined;
  }
}

/** A requestResource that may have been billed without our knowing (see provablyFailed). */
export function mayHaveBilled(r: Pick<RequestResourceResult, "errorCode" | "resource">): boolean {
  return r.errorCode === 0 || !provablyFailed(r);
}
