import { setMaxListeners } from "node:events";

// Time for the runner: epoch milliseconds with sub-millisecond resolution (performance.timeOrigin is the
// thread's start on the epoch, so every worker thread reads the same time base), and waits that end early
// when their signal aborts.

export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

/** Resolves at `epochMs` or as soon as `signal` aborts, whichever is first (never rejects). */
export function sleepUntil(epochMs: number, signal: AbortSignal): Promise<void> {
  const ms = epochMs - epochNow();
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/** An AbortController that aborts by itself at `epochMs` (and whenever `parent` does). */
export function deadlineController(epochMs: number, parent: AbortSignal, reason: string): AbortController {
  const c = unboundedController();
  const abort = () => {
    clearTimeout(timer);
    parent.removeEventListener("abort", abort);
    if (!c.signal.aborted) c.abort(new Error(reason));
  };
  // No timer for "never" (setTimeout turns delays past 2^31 ms into 1 ms).
  const timer = Number.isFinite(epochMs) ? setTimeout(abort, Math.max(0, epochMs - epochNow())) : undefined;
  timer?.unref?.();
  if (parent.aborted) abort();
  else parent.addEventListener("abort", abort, { once: true });
  c.signal.addEventListener("abort", () => {
    clearTimeout(timer);
    parent.removeEventListener("abort", abort);
  });
  return c;
}

/** An AbortController whose signal may have any number of listeners (one per VU and iteration is normal). */
export function unboundedController(): AbortController {
  const c = new AbortController();
  setMaxListeners(0, c.signal);
  return c;
}
