import { Readable } from "node:stream";
import { setImmediate as nextTurn } from "node:timers/promises";
import type { VendorError } from "../errors.ts";
import { type DownloadShaping, holdFor } from "../faults/download-shaping.ts";
import { type AudioFile, isCached, slice } from "./audio-file.ts";
import type { ChunkCache } from "./chunk-cache.ts";
import { sleep, type TokenBucket } from "./token-bucket.ts";
import { charge, turnWithBudget } from "./turn-budget.ts";

// The body of one download: bytes [start, end) of a virtual file, one piece per read, so Node's stream
// backpressure decides the pace when the client is slow and the token buckets decide it when the cap is.
// Holds nothing but the piece in flight; checks between pieces whether the download must be cut.

export interface DownloadStreamOptions {
  file: AudioFile;
  /** First byte. */
  start: number;
  /** One past the last byte. */
  end: number;
  /** Largest piece pushed at once. */
  pieceBytes: number;
  /** Per-connection and global buckets (either may be unlimited). */
  buckets: readonly TokenBucket[];
  cache?: ChunkCache;
  /**
   * Why the download must stop now (revoked song 1017030, force-expired resource 1017019), or null to go on.
   * A vendor error so that a cut before the first byte still answers the right envelope.
   */
  cutReason(): VendorError | null;
  /** Bytes handed to the socket. */
  onBytes(n: number): void;
  /** Fault effects on this body (stalls, a reset, extra caps), from the fault engine's download plan. */
  faults?: DownloadShaping;
}

export class DownloadStream extends Readable {
  private pos: number;
  private readonly abort = new AbortController();
  /** A reset fault ended the body early: the route closes the connection once the bytes before it are out. */
  cutShort = false;

  constructor(private readonly o: DownloadStreamOptions) {
    super({ highWaterMark: o.pieceBytes });
    this.pos = o.start;
  }

  override _read(): void {
    this.pump().catch((err: unknown) => {
      if (!this.destroyed) this.destroy(err instanceof Error ? err : new Error(String(err)));
    });
  }

  private async pump(): Promise<void> {
    const { o } = this;
    if (this.pos >= o.end) {
      this.push(null);
      return;
    }
    const sent = this.pos - o.start;
    // One piece per event-loop turn. On loopback the socket takes each write at once and its drain comes
    // back on the next tick, so without this a whole file is rendered and written in a single turn (measured:
    // 170-400 ms with 8 downloads of 1 MB) while every other socket of the simulator, the media relay's
    // included, waits. The first piece waits a turn too when it must be rendered: the request's turn already
    // composed the song, and the first rendering of a song also arranges it (each up to ~20 ms on a loaded
    // machine).
    // A piece already in the cache renders nothing, so it never waits for the turn's rendering budget; and a
    // first piece in the cache (warm.ts renders it when the resource is issued) goes out with the headers in the
    // request's own turn. Behind the budget, the first piece of a download at `ktv run smoke`'s start waited
    // 27-126 ms for other downloads' renders while its bytes sat in the cache (traced): the user's first byte.
    const cached = isCached(o.file, this.pos, o.cache);
    if (sent > 0 || !cached) await nextTurn();
    if (!cached) await turnWithBudget();
    if (this.destroyed) return;
    const faults = o.faults;
    if (faults?.resetDue(sent)) {
      this.cutShort = true;
      this.push(null);
      return;
    }
    const stall = faults?.takeStall(sent) ?? 0;
    if (stall > 0) {
      await holdFor(stall, this.abort.signal, faults!.signal);
      if (this.destroyed) return;
    }
    this.checkCut();
    const room = faults?.room(sent) ?? Number.POSITIVE_INFINITY;
    const t0 = performance.now();
    const piece = slice(o.file, this.pos, Math.min(o.end, this.pos + o.pieceBytes, this.pos + room), o.cache);
    charge(performance.now() - t0);
    let wait = 0;
    for (const b of o.buckets) wait = Math.max(wait, b.reserve(piece.length));
    // A fault's cap lifts the moment the fault goes, so its part of the wait is released separately.
    let faultWait = 0;
    for (const b of faults?.buckets() ?? []) faultWait = Math.max(faultWait, b.reserve(piece.length));
    if (wait > 0 || faultWait > 0) {
      if (wait > 0) await sleep(wait, this.abort.signal);
      if (faultWait > wait && !this.destroyed)
        await holdFor(faultWait - wait, this.abort.signal, faults!.signal);
      if (this.destroyed) return;
      // The wait may have been long: a revocation during it must not let one more piece out.
      this.checkCut();
    }
    this.pos += piece.length;
    o.onBytes(piece.length);
    this.push(piece);
  }

  private checkCut(): void {
    const reason = this.o.cutReason();
    if (reason) throw reason;
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    this.abort.abort(err ?? new Error("download stream closed"));
    cb(err);
  }
}
