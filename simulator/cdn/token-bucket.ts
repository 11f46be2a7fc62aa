// Bandwidth shaping. A bucket refills at `rate` bytes/s up to a small burst; a sender reserves the bytes it
// is about to write and waits the returned time. Reservations may drive the level negative, so concurrent
// senders on a shared (global) bucket queue behind each other in arrival order rather than racing.

export interface TokenBucket {
  /** Bytes per second; 0 = unlimited. */
  readonly rate: number;
  /** Reserves n bytes; returns how long (ms) to wait before sending them. */
  reserve(n: number): number;
}

export function createTokenBucket(rate: number, now: () => number = () => performance.now()): TokenBucket {
  if (!(rate > 0)) return { rate: 0, reserve: () => 0 };
  // 50 ms worth of burst: smooth enough to hold the cap over short windows, big enough for one piece.
  const burst = Math.max(1, rate / 20);
  let level = burst;
  let last = now();
  return {
    rate,
    reserve(n) {
      const t = now();
      level = Math.min(burst, level + ((t - last) * rate) / 1000);
      last = t;
      level -= n;
      return level >= 0 ? 0 : (-level / rate) * 1000;
    },
  };
}

/** Resolves after ms, or rejects as soon as the signal aborts (a download cancelled mid-wait). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Largest piece to send at once under the caps: ~1/20 s of the tightest cap, between 1 and 64 KiB. */
export function pieceBytes(...rates: number[]): number {
  const caps = rates.filter((r) => r > 0);
  if (caps.length === 0) return 64 * 1024;
  return Math.max(1024, Math.min(64 * 1024, Math.floor(Math.min(...caps) / 20)));
}
