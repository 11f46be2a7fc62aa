import { isEnvelope } from "../../protocol/envelope.ts";
import { DOWNLOAD_ROUTE } from "../../protocol/vendor-routes.ts";
import type { CacheKey, CacheMeta, PartialResource, ResourceCache } from "./cache.ts";
import type { HttpAnswer } from "./http.ts";
import { backoffDelay, parseRetryAfter, type RetryPolicy } from "./retry.ts";
import {
  ATTEMPT_ERROR,
  ATTEMPT_NO_ANSWER,
  ATTEMPT_OK,
  type AttemptOutcome,
  errorText,
  isTransient,
  reportVendorAttempt,
  TOKEN_EXPIRED,
  type VendorTransport,
} from "./transport.ts";

// One resource download: streamed to a partial file (on disk, never held in memory; or, with a MemoryCache,
// into one buffer of the announced size), resumed with
// `Range: bytes=<have>-` + `If-Range: <etag>` after a cut, verified, then renamed into the cache.
//
//   - Cut mid-body (reset, idle stall, early end): resume from the bytes on disk, after a backoff.
//   - 200 to a resume (the ETag changed, so If-Range failed) or a 206 that does not continue our bytes:
//     the file changed; start again from 0.
//   - A cached copy is revalidated with If-None-Match: 304 = done without transferring the file.
//   - 410 / 1017019 expired (request the song again), 403 / 1017030 revoked, 404 / 1017018 unknown id and
//     other vendor errors end the download with that code; 429 / 5xx / 1017097 / 1017098 are retried.
//   - The final length must equal the announced total (Content-Length / Content-Range) and the size the
//     vendor gave for the resource; otherwise 1017015 (corrupt) and nothing enters the cache.
// Attempts are bounded by the policy; cancellation (the signal) ends it with 1017016 at any await.

export interface DownloadJob {
  transport: VendorTransport;
  session: string;
  resourceID: string;
  /** resources[].size from the vendor, when known. */
  expectedSize?: number;
  cache: ResourceCache;
  key: CacheKey;
  /** Aborted by cancelDownload. */
  signal: AbortSignal;
  onProgress(rate: number): void;
  retry: RetryPolicy;
  /** Longest silence (no headers, no bytes) before an attempt counts as cut. */
  idleTimeoutMs: number;
  /**
   * Each piece as it arrives, at its file offset, just before it is written to the partial file (after the
   * length checks: never past the announced size; a restart from byte 0 starts again at offset 0). For playing
   * while downloading: the bytes are unverified until the download resolves 0.
   */
  onData?(data: Uint8Array, offset: number): void;
  /** Called with the partial file's path once it exists (clearCache must leave it alone). */
  onTempFile?(path: string | null): void;
}

export type DownloadOutcome = { errorCode: 0; meta: CacheMeta; path: string } | { errorCode: number };

/** Ends the download with a vendor code, no retry. */
class Final extends Error {
  constructor(
    readonly code: number,
    readonly why: string,
  ) {
    super(why);
  }
}

/** A failed attempt worth retrying after a backoff: from the bytes on disk, or from 0 when `restart`. */
class Cut extends Error {
  constructor(
    readonly why: string,
    readonly retryAfterMs?: number,
    readonly restart = false,
  ) {
    super(why);
  }
}

const CONTENT_RANGE = /^bytes (\d+)-(\d+)\/(\d+)$/;

/** Progress that only moves forward, reported in steps of at least 1% (a restart from 0 stays silent). */
class Progress {
  private last = -1;
  constructor(private readonly emit: (rate: number) => void) {}
  report(done: number, total: number | undefined): void {
    if (!total) return;
    const rate = Math.min(done / total, 1);
    // 1.0 is reserved for the verified, committed file.
    if (rate >= 1 || rate < this.last + 0.01) return;
    this.last = rate;
    this.emit(rate);
  }
  finish(): void {
    this.last = 1;
    this.emit(1);
  }
}

export async function runDownload(job: DownloadJob): Promise<DownloadOutcome> {
  const { transport, cache, key, signal } = job;
  const log = transport.logger;
  const onBytes = transport.onDownloadBytes;
  const progress = new Progress(job.onProgress);
  const url = transport.url(`/v1/music/download/${encodeURIComponent(job.resourceID)}`);
  // The cache lookup and the free-space check are independent file-system calls: issued together, they wait
  // once in the thread pool's queue instead of twice (measured at smoke load: 20-40 ms each).
  const free = job.expectedSize !== undefined ? cache.freeBytes() : Promise.resolve(Number.POSITIVE_INFINITY);
  free.catch(() => {});
  const cached = await cache.lookup(key);
  // Asserted, not narrowed: openPart assigns it from a callback.
  let part = null as PartialResource | null;
  /** The partial file being created (see `openPart`), so that an early exit still finds and removes it. */
  let opening: Promise<PartialResource> | null = null;
  let total = job.expectedSize;
  // Created while the request is in flight, not after its answer: the file-system calls overlap the network.
  const openPart = (): Promise<PartialResource> => {
    opening ??= cache.begin(key, total).then(
      (p) => {
        part = p;
        job.onTempFile?.(p.name);
        return p;
      },
      (err: unknown) => {
        // The next attempt tries again (a full disk ends the download in the catch below).
        opening = null;
        throw err;
      },
    );
    opening.catch(() => {});
    return opening;
  };
  let offset = 0;
  let etag: string | undefined;
  let stalls = 0;
  let renewed = false;
  /** Whether the partial file holds bytes of an earlier attempt. */
  let written = false;
  /** Bytes from 0 (or the resume offset) known to be in the partial file. */
  let durable = 0;

  const cancelled = (): DownloadOutcome => ({ errorCode: 1017016 });
  try {
    if (!cached && job.expectedSize !== undefined && (await free) < job.expectedSize) {
      return { errorCode: 1017011 };
    }
    for (let attempt = 0; ; attempt++) {
      if (signal.aborted) return cancelled();
      const headers = await transport.headers(job.session);
      if (offset > 0 && etag) {
        headers.range = `bytes=${offset}-`;
        headers["if-range"] = etag;
      } else if (cached) {
        headers["if-none-match"] = cached.etag;
      }
      const before = offset;
      const idle = new AbortController();
      const timer = setTimeout(
        () => idle.abort(new Error(`no data for ${job.idleTimeoutMs} ms`)),
        job.idleTimeoutMs,
      );
      const attemptSignal = AbortSignal.any([signal, idle.signal]);
      let cut: Cut;
      // Reported per attempt (transport.ts VendorAttemptObserver): answered only once the whole body is in.
      let outcome: AttemptOutcome = ATTEMPT_NO_ANSWER;
      const t0 = performance.now();
      try {
        // Without a cached copy to revalidate, a body is the expected answer: its file is made meanwhile.
        if (!cached && !part) openPart();
        const res = await transport.http(url, { method: "GET", headers, signal: attemptSignal });
        timer.refresh();
        if (res.status === 304 && cached) {
          outcome = ATTEMPT_OK;
          discard(res);
          progress.finish();
          return { errorCode: 0, meta: cached, path: cache.filePath(key) };
        }
        // A vendor envelope where audio was expected (an outage answers 200 + JSON on every vendor route, the
        // download too) is the vendor's error, not the file: judged by its code below, never written to disk.
        const envelope = /^application\/json/i.test(res.header("content-type") ?? "");
        if ((res.status === 200 || res.status === 206) && !envelope) {
          const start = startOf(res, offset, etag);
          if (start === null) {
            // A 206 that does not continue our bytes, or a changed file: begin again from byte 0.
            discard(res);
            throw new Cut("range answer does not continue the partial file", undefined, true);
          }
          const announced = totalOf(res);
          if (announced !== undefined && job.expectedSize !== undefined && announced !== job.expectedSize) {
            throw new Final(1017015, `served ${announced} bytes, the vendor announced ${job.expectedSize}`);
          }
          total = announced ?? total;
          etag = res.header("etag") ?? undefined;
          if (start === 0 && offset > 0) log.warn({ resource_id: job.resourceID }, "file changed: restart");
          offset = start;
          durable = start;
          // The partial file may still be opening (its create waits in the thread pool's queue behind other
          // downloads' writes): the first piece reaches the player without waiting for it, only its write waits.
          const file: Promise<PartialResource> = part ? Promise.resolve(part) : openPart();
          // A restart from byte 0 empties what an earlier attempt wrote; a fresh file is empty already.
          if (offset === 0 && written) await (await file).truncate();
          const reader = res.reader();
          // Cancelling the reader settles a pending read at once, whether or not the HTTP implementation
          // ties its signal to the body (fetch interceptors and some polyfills do not).
          const stop = () => reader.cancel(attemptSignal.reason);
          attemptSignal.addEventListener("abort", stop, { once: true });
          let drained = false;
          // One write in flight while the next piece is read: a piece reaches the player (onData) without
          // waiting for the previous one's disk write (5-10 ms each at smoke load).
          let writing: Promise<void> = Promise.resolve();
          try {
            for (;;) {
              const value = await reader.read();
              drained = value === null;
              if (value === null) break;
              timer.refresh();
              const n = value.byteLength;
              onBytes?.(n);
              if (total !== undefined && offset + n > total) {
                throw new Final(1017015, `more than the announced ${total} bytes`);
              }
              // The player may read the bytes while they are written (a write error fails the download).
              job.onData?.(value, offset);
              await writing;
              const at = offset;
              const end = at + n;
              writing = file
                .then((f) => f.write(value, at))
                .then(() => {
                  durable = end;
                });
              // Awaited before the next write and below; this only keeps an early exit from leaving it unhandled.
              writing.catch(() => {});
              written = true;
              offset = end;
              progress.report(offset, total);
            }
          } finally {
            attemptSignal.removeEventListener("abort", stop);
            // Leaving early (corrupt length, disk error): release the connection.
            if (!drained) stop();
            // The last write settles before anything else happens; its error (a full disk) is the outcome.
            await writing;
          }
          // An empty body wrote nothing: the file must exist all the same.
          await file;
          if (attemptSignal.aborted) throw new Cut(errorText(attemptSignal.reason));
          if (total === undefined || offset === total) {
            outcome = ATTEMPT_OK;
            break;
          }
          outcome = ATTEMPT_ERROR;
          throw new Cut(`body ended at ${offset} of ${total} bytes`);
        }
        const failure = await failureOf(res);
        outcome = ATTEMPT_ERROR;
        throw failure;
      } catch (err) {
        if (signal.aborted) return cancelled();
        // 401 + 1002078, the token ran out while the song was fetched: the app renews it once (the transport's
        // onTokenExpired, as for vendor calls) and the download goes on from the bytes on disk.
        if (err instanceof Final && err.code === TOKEN_EXPIRED && !renewed) {
          renewed = true;
          if (await transport.renewAfterExpiry(err.code)) {
            offset = Math.min(offset, durable);
            attempt--; // the credentials expired, not the CDN: no attempt of the budget used
            continue;
          }
        }
        if (err instanceof Final) throw err;
        if (isNoSpace(err)) throw new Final(1017011, errorText(err));
        cut = err instanceof Cut ? err : new Cut(errorText(err));
        // Resume after the bytes really written, not the ones counted (a write may have failed).
        offset = Math.min(offset, durable);
      } finally {
        clearTimeout(timer);
        reportVendorAttempt(DOWNLOAD_ROUTE, outcome, performance.now() - t0);
      }
      if (cut.restart) {
        offset = 0;
        durable = 0;
        etag = undefined;
      }
      // A cut after progress is a new problem: the backoff starts over, the attempt budget does not.
      stalls = offset > before ? 0 : stalls + 1;
      const delay =
        attempt + 1 < job.retry.maxAttempts ? backoffDelay(stalls, job.retry, cut.retryAfterMs) : null;
      log.warn(
        {
          resource_id: job.resourceID,
          attempt: attempt + 1,
          have: offset,
          total,
          why: cut.why,
          delay_ms: delay,
        },
        delay === null ? "download failed" : "download cut, resuming",
      );
      if (delay === null) return { errorCode: 1017098 };
      try {
        await job.retry.sleep(delay, signal);
      } catch {
        return cancelled();
      }
    }
    // Verify what is on disk (or in the buffer), not what we counted.
    if (!part) throw new Final(1017015, "no file");
    const size = await part.finish();
    if (size !== offset || (total !== undefined && size !== total)) {
      throw new Final(1017015, `file has ${size} bytes, expected ${total ?? offset}`);
    }
    if (job.expectedSize !== undefined && size !== job.expectedSize) {
      throw new Final(1017015, `file has ${size} bytes, the vendor announced ${job.expectedSize}`);
    }
    const meta = await cache.commit(key, part, { etag: etag ?? "", size });
    part = null;
    progress.finish();
    return { errorCode: 0, meta, path: cache.filePath(key) };
  } catch (err) {
    if (err instanceof Final) {
      log.warn({ resource_id: job.resourceID, code: err.code, why: err.why }, "download failed");
      return { errorCode: err.code };
    }
    if (isNoSpace(err)) return { errorCode: 1017011 };
    throw err;
  } finally {
    // A partial file still being created when the download ended is removed once it exists.
    if (opening && !part) await (opening as Promise<PartialResource>).catch(() => null);
    if (part) await part.discard().catch(() => {});
    job.onTempFile?.(null);
  }
}

/**
 * Where this answer's body starts in the file, or null when it cannot continue what we have: a 206 must start
 * exactly at our offset with our ETag; a 200 is the whole file from 0.
 */
function startOf(res: HttpAnswer, offset: number, etag: string | undefined): number | null {
  if (res.status === 200) return 0;
  const m = CONTENT_RANGE.exec(res.header("content-range") ?? "");
  if (!m || Number(m[1]) !== offset || offset === 0) return null;
  if (etag !== undefined && res.header("etag") !== etag) return null;
  return offset;
}

/** The whole file's size this answer announces. */
function totalOf(res: HttpAnswer): number | undefined {
  if (res.status === 206) {
    const m = CONTENT_RANGE.exec(res.header("content-range") ?? "");
    return m ? Number(m[3]) : undefined;
  }
  const len = res.header("content-length");
  return len !== null && /^\d+$/.test(len) ? Number(len) : undefined;
}

/** An error answer: a Final vendor code, or a Cut to retry. */
async function failureOf(res: HttpAnswer): Promise<Final | Cut> {
  let code: number | undefined;
  try {
    const body: unknown = JSON.parse(await res.text());
    if (isEnvelope(body)) code = body.code;
  } catch {
    // not an envelope: judged by status alone
  }
  if (res.status === 410 || code === 1017019) return new Final(1017019, `HTTP ${res.status}`);
  if (isTransient(res.status, code ?? 0)) {
    return new Cut(`HTTP ${res.status} ${code ?? ""}`.trim(), parseRetryAfter(res.header("retry-after")));
  }
  // Our partial file is at least as long as the file now is: it changed, so start over.
  if (res.status === 416) return new Cut("range not satisfiable: the file changed", undefined, true);
  if (code !== undefined && code !== 0) return new Final(code, `HTTP ${res.status}`);
  const byStatus: Record<number, number> = { 404: 1017018, 403: 1017030, 400: 1017040 };
  return new Final(byStatus[res.status] ?? 1017010, `HTTP ${res.status} without a vendor envelope`);
}

/** Drops an unread body (not awaited: some fetch implementations never settle a cancel). */
function discard(res: HttpAnswer): void {
  res.discard();
}

function isNoSpace(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { code?: unknown }).code === "ENOSPC";
}
