// Bounded exponential backoff with full jitter (delay = random in [0, min(cap, base·2^attempt)]), so a crowd of
// clients that failed together does not retry together. A server's Retry-After wins over the jitter, but a
// wait longer than `maxRetryAfterMs` is not waited for: the caller gets the error instead, keeping every call
// bounded in time as well as in attempts.

export interface RetryPolicy {
  /** Attempts in all, the first included (1 = never retry). */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Longest Retry-After honoured; a longer one ends the retries. */
  maxRetryAfterMs: number;
  /** Uniform [0, 1); injectable so tests can pin the jitter. */
  random: () => number;
  /** Waits `ms` unless `signal` aborts first (then rejects with the signal's reason). */
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 4,
  baseDelayMs: 100,
  maxDelayMs: 2_000,
  maxRetryAfterMs: 10_000,
  random: Math.random,
  sleep: abortableSleep,
};

export function retryPolicy(over: Partial<RetryPolicy> = {}): RetryPolicy {
  const p = { ...DEFAULT_RETRY, ...over };
  if (!Number.isInteger(p.maxAttempts) || p.maxAttempts < 1 || p.maxAttempts > 20) {
    throw new RangeError(`retry: maxAttempts must be an integer in 1..20, got ${p.maxAttempts}`);
  }
  for (const k of ["baseDelayMs", "maxDelayMs", "maxRetryAfterMs"] as const) {
    if (!Number.isFinite(p[k]) || p[k] < 0) throw new RangeError(`retry: ${k} must be >= 0, got ${p[k]}`);
  }
  return p;
}

/**
 * How long to wait before retry number `attempt` (0 = the first retry), or null when the server asked for a
 * longer wait than the policy allows.
 */
export function backoffDelay(attempt: number, p: RetryPolicy, retryAfterMs?: number): number | null {
  if (retryAfterMs !== undefined) return retryAfterMs > p.maxRetryAfterMs ? null : retryAfterMs;
  const ceiling = Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** Math.min(attempt, 30));
  return Math.floor(p.random() * ceiling);
}

/** Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP-date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, nowMs = Date.now()): number | undefined {
  if (value == null) return undefined;
  const v = value.trim();
  if (/^\d{1,9}$/.test(v)) return Number(v) * 1000;
  // Every HTTP-date form names a day or month; Date.parse alone would read "-1" as a year.
  if (!/[A-Za-z]{3}/.test(v)) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
