import type { Socket } from "node:net";
import type { TokenBucket } from "../cdn/token-bucket.ts";
import type { DownloadPlan } from "./seam.ts";

// Carrying out a download's fault plan (seam.ts DownloadPlan) in the CDN's body stream: where the next stall or
// reset falls, which stalls are due, which fault caps still hold. Once the plan's signal aborts (its fault was
// removed or disabled) the plan is spent: no more stalls, no reset, caps lifted.

export class DownloadShaping {
  private nextStall = 0;

  constructor(private readonly plan: DownloadPlan) {}

  get signal(): AbortSignal {
    return this.plan.signal;
  }

  private get live(): boolean {
    return !this.plan.signal.aborted;
  }

  /** Body bytes that may go out after `sent` before the next stall or reset (Infinity: no limit). */
  room(sent: number): number {
    if (!this.live) return Number.POSITIVE_INFINITY;
    const stall = this.plan.stalls[this.nextStall];
    const edge = Math.min(this.plan.resetAfterBytes, stall ? stall.afterBytes : Number.POSITIVE_INFINITY);
    return Math.max(0, edge - sent);
  }

  /** Whether the connection must close now that `sent` body bytes went out. */
  resetDue(sent: number): boolean {
    return this.live && sent >= this.plan.resetAfterBytes;
  }

  /** The stall time due now that `sent` bytes went out (0: none); each stall is taken once. */
  takeStall(sent: number): number {
    let ms = 0;
    const { stalls } = this.plan;
    while (this.nextStall < stalls.length && stalls[this.nextStall]!.afterBytes <= sent) {
      ms += stalls[this.nextStall++]!.ms;
    }
    return this.live ? ms : 0;
  }

  /** The fault caps still in force. */
  buckets(): readonly TokenBucket[] {
    return this.live ? this.plan.buckets : [];
  }
}

/**
 * Waits `ms`; resolves early when `release` aborts (the fault went away), rejects with the reason when `stop`
 * aborts (the download itself ended). No timer or listener outlives the wait.
 */
export function holdFor(ms: number, stop: AbortSignal, release: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (stop.aborted) return reject(stop.reason);
    if (release.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      stop.removeEventListener("abort", onStop);
      release.removeEventListener("abort", done);
      resolve();
    };
    const onStop = () => {
      clearTimeout(timer);
      release.removeEventListener("abort", done);
      reject(stop.reason);
    };
    const timer = setTimeout(done, ms);
    stop.addEventListener("abort", onStop, { once: true });
    release.addEventListener("abort", done, { once: true });
  });
}

/** Holds the response headers `ms` (a slow first byte); false when the client went away meanwhile. */
export function holdHeaders(socket: Socket, ms: number, release: AbortSignal): Promise<boolean> {
  if (socket.destroyed) return Promise.resolve(false);
  const gone = new AbortController();
  const onClose = () => gone.abort(new Error("client went away"));
  socket.once("close", onClose);
  return holdFor(ms, gone.signal, release).then(
    () => {
      socket.off("close", onClose);
      return true;
    },
    () => false,
  );
}
