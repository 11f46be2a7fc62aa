// Per-app request rate limit (AppConfig.rate_limit_rps): a token bucket per app that refills at rps tokens/s
// and holds up to a burst of 2 s worth (at least 1), so a client that paces itself at the contracted rate never
// sees a refusal, while a load generator that exceeds it gets 429s at a steady rate instead of all-or-nothing.
// Time comes from the simulator clock (ms), so tests move it by hand.

export interface RequestBucket {
  readonly rps: number;
  readonly burst: number;
  /** Takes one token: 0 when admitted, else how many ms until a token is available (nothing is taken). */
  take(nowMs: number): number;
}

export const BURST_SECONDS = 2;

export function createRequestBucket(rps: number, startMs: number): RequestBucket {
  const burst = Math.max(1, Math.ceil(rps * BURST_SECONDS));
  let tokens = burst;
  let last = startMs;
  return {
    rps,
    burst,
    take(nowMs) {
      // A clock set backwards (tests, admin) refills nothing rather than draining or overflowing.
      if (nowMs > last) {
        tokens = Math.min(burst, tokens + ((nowMs - last) * rps) / 1000);
        last = nowMs;
      }
      if (tokens >= 1) {
        tokens -= 1;
        return 0;
      }
      return Math.max(1, Math.ceil(((1 - tokens) * 1000) / rps));
    },
  };
}

export interface RateLimits {
  /** 0 when the app may make this request now, else ms until it may retry. Apps without a limit: always 0. */
  admit(appId: number, rps: number | undefined, nowMs: number): number;
  /** Forgets every bucket (admin reset): all apps start with a full burst again. */
  reset(): void;
}

export function createRateLimits(): RateLimits {
  const buckets = new Map<number, RequestBucket>();
  return {
    admit(appId, rps, nowMs) {
      if (!rps || rps <= 0) return 0;
      let b = buckets.get(appId);
      if (!b || b.rps !== rps) {
        b = createRequestBucket(rps, nowMs);
        buckets.set(appId, b);
      }
      return b.take(nowMs);
    },
    reset: () => buckets.clear(),
  };
}
