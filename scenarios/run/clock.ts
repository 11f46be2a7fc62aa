import { setMaxListeners } from "node:events";

// Time for the runner: epoch milliseconds with sub-millisecond resolution (performance.timeOrigin is the
// thread's start on the epoch, so every worker thread reads the same time base), and waits that end early
// when their signal aborts.

export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

// Every waiting VU and every iteration watches one of a few shared signals (the worker's stop, an executor's
// hard end). EventTarget keeps listeners in a list and removeEventListener searches it, so n waiters that each
// stop listening cost O(n^2): ~300 ms of one busy stretch at a 500-VU ramp start (CPU profile). One listener
// per signal and a Set of callbacks make adding and removing O(1).
const watchers = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Calls `fn` once when `signal` aborts (at once if it already has); returns the function that stops watching.
 * O(1) to add and to remove, however many watch the same signal.
 */
export function onAbort(signal: AbortSignal, fn: () => void): () => void {
  if (signal.aborted) {
    fn();
    return () => {};
  }
  let set = watchers.get(signal);
  if (!set) {
    const fresh = new Set<() => void>();
    set = fresh;
    watchers.set(signal, fresh);
    signal.addEventListener(
      "abort",
      () => {
        watchers.delete(signal);
        for (const f of fresh) f();
        fresh.clear();
      },
      { once: true },
    );
  }
  // A wrapper per call: the same function may watch twice and be removed once.
  const entry = () => fn();
  set.add(entry);
  const own = set;
  return () => {
    own.delete(entry);
  };
}

/** Resolves at `epochMs` or as soon as `signal` aborts, whichever is first (never rejects). */
export function sleepUntil(epochMs: number, signal: AbortSignal): Promise<void> {
  const ms = epochMs - epochNow();
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      stop();
      resolve();
    };
    const timer = setTimeout(done, ms);
    const stop = onAbort(signal, done);
  });
}

/** An AbortController that aborts by itself at `epochMs` (and whenever `parent` does). */
export function deadlineController(epochMs: number, parent: AbortSignal, reason: string): AbortController {
  const c = unboundedController();
  let stop = () => {};
  const abort = () => {
    clearTimeout(timer);
    stop();
    if (!c.signal.aborted) c.abort(new Error(reason));
  };
  // No timer for "never" (setTimeout turns delays past 2^31 ms into 1 ms).
  const timer = Number.isFinite(epochMs) ? setTimeout(abort, Math.max(0, epochMs - epochNow())) : undefined;
  timer?.unref?.();
  stop = onAbort(parent, abort);
  c.signal.addEventListener("abort", () => {
    clearTimeout(timer);
    stop();
  });
  return c;
}

/** An AbortController whose signal may have any number of listeners (one per VU and iteration is normal). */
export function unboundedController(): AbortController {
  const c = new AbortController();
  setMaxListeners(0, c.signal);
  return c;
}
