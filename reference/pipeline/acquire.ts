import type { CopyrightedMusicEvents, ZegoCopyrightedMusic } from "../music/copyrighted-music.ts";
import type { RequestResourceResult } from "../music/types.ts";
import { ProgressiveFile } from "../player/progressive-file.ts";
import { bytesToPlay } from "../player/progressive-playback.ts";
import type { Candidate } from "./pick-song.ts";
import { isRevocation, provablyFailed, shouldFallBackToRequest, shouldRequestAgain } from "./recovery.ts";
import type { Recorder } from "./result.ts";

// Steps two and three of the flow: get a resource for a song (the room's share first when asked, else a
// billable request) and download it, applying the recovery rules of recovery.ts:
//   shared 1017050/1017051          -> requestResource instead                        (shouldFallBackToRequest)
//   download 1017019                -> requestResource again, once                    (shouldRequestAgain)
//   1017030/1017031 or revoked cut  -> skip to the next candidate, reason recorded    (isRevocation)
//   requestResource without answer  -> report, never repeat (it may have billed)      (provablyFailed)
// With a pre-roll (`prerollMs`), acquisition ends as soon as the file's header and that much audio past the
// start position have arrived: the song is playable while the rest downloads (`Acquired.stream`). A download
// that ends before that point (an error, a cache revalidation) is handled as above; one that fails after it
// is the caller's to handle (the player stops with the code, the run fails at stage "download").
// Transient failures never reach this level as such: the music module retries them (transientRetryPolicy);
// what it gives up on is reported here.

/** What acquisition needs of ZegoCopyrightedMusic (tests script it). */
export interface MusicApi
  extends Pick<
    ZegoCopyrightedMusic,
    "requestResource" | "getSharedResource" | "download" | "cancelDownload"
  > {
  on(
    event: "onDownloadProgressUpdate",
    listener: CopyrightedMusicEvents["onDownloadProgressUpdate"],
  ): unknown;
  off(
    event: "onDownloadProgressUpdate",
    listener: CopyrightedMusicEvents["onDownloadProgressUpdate"],
  ): unknown;
}

export interface AcquireSettings {
  roomID: string;
  vendorID: number;
  resourceType: number;
  quality: number;
  billingMode: number;
  masterID?: string;
  /** Sent with requestResource when set (spec §2 sceneID). */
  sceneID?: number;
  preferShared: boolean;
  /** Playable after this much audio past `startPositionMs` arrived; null: after the whole verified file. */
  prerollMs: number | null;
  startPositionMs: number;
}

/** A download still running when the song became playable. */
export interface Streaming {
  file: ProgressiveFile;
  /** The download's code once it ended (0: complete and verified; `file` is then complete too). */
  done: Promise<number>;
}

export interface Acquired {
  song: Candidate;
  resourceID: string;
  via: "request" | "shared";
  size: number;
  /** The CDN tier of the file (fixes channels per track). */
  quality: "normal" | "hq" | "sq";
  /** Set when the song is playable before its download ended. */
  stream?: Streaming;
}

export type Failure = { ok: false; stage: string; code: number; message: string };
export type AcquireOutcome = { ok: true; acquired: Acquired } | Failure;

type Obtained =
  | {
      kind: "ok";
      resourceID: string;
      via: "request" | "shared";
      size: number;
      quality: "normal" | "hq" | "sq";
    }
  | { kind: "revoked"; stage: string; code: number }
  | { kind: "failed"; stage: string; code: number; message: string };

type SongOutcome =
  | { kind: "acquired"; acquired: Acquired }
  | { kind: "revoked"; stage: string; code: number }
  | { kind: "failed"; stage: string; code: number; message: string };

const QUALITY_NAMES = ["normal", "hq", "sq"];

export interface AcquireContext {
  music: MusicApi;
  rec: Recorder;
  settings: AcquireSettings;
  signal: AbortSignal;
  /** Called with each resource id obtained, before its download (e.g. to fetch its pitch line meanwhile). */
  onObtained?: (resourceID: string, song: Candidate) => void;
}

/** The first candidate that can be obtained and downloaded; revoked ones are skipped with their reason. */
export async function acquireFirstUsable(
  ctx: AcquireContext,
  candidates: Candidate[],
): Promise<AcquireOutcome> {
  let lastRevoked: { stage: string; code: number } | null = null;
  for (const song of candidates) {
    ctx.signal.throwIfAborted();
    const r = await acquireSong(ctx, song);
    if (r.kind === "acquired") return { ok: true, acquired: r.acquired };
    if (r.kind === "failed") return { ok: false, stage: r.stage, code: r.code, message: r.message };
    lastRevoked = r;
    const reason = r.code === 1017031 ? "no accompaniment rights (listen only)" : "no copyright (revoked)";
    ctx.rec.skipped.push({ song_id: song.song_id, code: r.code, reason });
    ctx.rec.recover("revoked-skip", r.stage, r.code, `skipped ${song.song_id}: ${reason}`, song.song_id);
  }
  return {
    ok: false,
    stage: lastRevoked?.stage ?? "request",
    code: lastRevoked?.code ?? 1017030,
    message: `all ${candidates.length} candidate songs were revoked`,
  };
}

async function acquireSong(ctx: AcquireContext, song: Candidate): Promise<SongOutcome> {
  let obtained = await obtain(ctx, song, ctx.settings.preferShared);
  let requestedAgain = false;
  for (;;) {
    if (obtained.kind !== "ok") return obtained;
    ctx.signal.throwIfAborted();
    ctx.onObtained?.(obtained.resourceID, song);
    const { code, stream } = await download(ctx, song, obtained, requestedAgain);
    if (code === 0) {
      const { resourceID, via, size, quality } = obtained;
      return {
        kind: "acquired",
        acquired: { song, resourceID, via, size, quality, ...(stream ? { stream } : {}) },
      };
    }
    if (isRevocation(code)) return { kind: "revoked", stage: "download", code };
    if (!shouldRequestAgain(code, requestedAgain)) {
      return {
        kind: "failed",
        stage: "download",
        code,
        message: `download of ${obtained.resourceID} failed`,
      };
    }
    requestedAgain = true;
    ctx.rec.recover(
      "expired-rerequest",
      "download",
      code,
      `${obtained.resourceID} expired: requesting again`,
      song.song_id,
    );
    ctx.signal.throwIfAborted();
    // A share cannot be fetched twice (1017051): the fresh resource is always the user's own request.
    obtained = await obtain(ctx, song, false);
  }
}

async function obtain(ctx: AcquireContext, song: Candidate, shareFirst: boolean): Promise<Obtained> {
  const { music, rec, settings: s } = ctx;
  if (shareFirst) {
    const r = await rec.stage("request", () =>
      music.getSharedResource({
        songID: song.song_id,
        vendorID: s.vendorID,
        roomID: s.roomID,
        resourceType: s.resourceType,
      }),
    );
    if (r.errorCode === 0) {
      rec.shared++;
      return fromResult(ctx, song, r, "shared");
    }
    rec.error(r.errorCode);
    if (isRevocation(r.errorCode)) return { kind: "revoked", stage: "request", code: r.errorCode };
    if (!shouldFallBackToRequest(r.errorCode)) {
      return {
        kind: "failed",
        stage: "request",
        code: r.errorCode,
        message: failedCall("getSharedResource", r),
      };
    }
    rec.recover(
      "shared-fallback",
      "request",
      r.errorCode,
      "nothing shared for this user: requesting",
      song.song_id,
    );
    ctx.signal.throwIfAborted();
  }
  const r = await rec.stage("request", () =>
    music.requestResource({
      songID: song.song_id,
      mode: s.billingMode,
      ...(s.masterID !== undefined ? { masterID: s.masterID } : {}),
      ...(s.sceneID !== undefined ? { sceneID: s.sceneID } : {}),
      vendorID: s.vendorID,
      roomID: s.roomID,
      resourceType: s.resourceType,
      resourceQualityType: s.quality,
    }),
  );
  if (r.errorCode === 0) {
    rec.billable++;
    return fromResult(ctx, song, r, "request");
  }
  rec.error(r.errorCode);
  if (!provablyFailed(r)) {
    rec.unconfirmed++;
    return {
      kind: "failed",
      stage: "request",
      code: r.errorCode,
      message: "requestResource got no usable vendor answer: it may have billed, so it is not repeated",
    };
  }
  if (isRevocation(r.errorCode)) return { kind: "revoked", stage: "request", code: r.errorCode };
  return { kind: "failed", stage: "request", code: r.errorCode, message: failedCall("requestResource", r) };
}

/** "<call> failed", with the vendor's own explanation when it answered one. */
function failedCall(call: string, r: RequestResourceResult): string {
  try {
    const message = (JSON.parse(r.resource) as { message?: unknown }).message;
    if (typeof message === "string" && message !== "") return `${call} failed (the vendor says: ${message})`;
  } catch {
    // no vendor answer
  }
  return `${call} failed`;
}

function fromResult(
  ctx: AcquireContext,
  song: Candidate,
  r: RequestResourceResult,
  via: "request" | "shared",
): Obtained {
  const resources = r.data?.resources ?? [];
  const want = QUALITY_NAMES[ctx.settings.quality];
  const entry = resources.find((e) => e.quality === want) ?? resources[0];
  if (!entry)
    return { kind: "failed", stage: "request", code: 1017010, message: "the answer lists no resources" };
  ctx.rec.event({
    type: "resource",
    song_id: song.song_id,
    resource_id: entry.resource_id,
    via,
    size: entry.size,
  });
  const quality = QUALITY_NAMES.includes(entry.quality)
    ? (entry.quality as "normal" | "hq" | "sq")
    : ((QUALITY_NAMES[ctx.settings.quality] ?? "normal") as "normal" | "hq" | "sq");
  return { kind: "ok", resourceID: entry.resource_id, via, size: entry.size, quality };
}

/** One download() call with progress events; an abort cancels it (1017016). `into` gets its bytes as they arrive. */
function downloadInto(
  ctx: AcquireContext,
  resourceID: string,
  into: ProgressiveFile | null,
): Promise<number> {
  const { music, rec, signal } = ctx;
  const onProgress = (id: string, progress: number) => {
    if (id === resourceID) rec.event({ type: "download", resource_id: id, progress });
  };
  const onAbort = () => music.cancelDownload(resourceID);
  music.on("onDownloadProgressUpdate", onProgress);
  signal.addEventListener("abort", onAbort, { once: true });
  const onData = into
    ? (data: Uint8Array, offset: number) => {
        rec.phase("first_byte");
        into.write(data, offset);
      }
    : undefined;
  return rec
    .stage("download", () => music.download(resourceID, onData ? { onData } : {}))
    .then((r) => {
      rec.error(r.errorCode);
      return r.errorCode;
    })
    .finally(() => {
      music.off("onDownloadProgressUpdate", onProgress);
      signal.removeEventListener("abort", onAbort);
    });
}

/**
 * Downloads `obtained`. Resolves with the SDK's code once the download ended, or, with a pre-roll, with code 0
 * and the running download once the song is playable.
 */
async function download(
  ctx: AcquireContext,
  song: Candidate,
  obtained: Extract<Obtained, { kind: "ok" }>,
  requestedAgain: boolean,
): Promise<{ code: number; stream?: Streaming }> {
  const { rec, settings } = ctx;
  const { resourceID, size } = obtained;
  if (settings.prerollMs === null || !Number.isSafeInteger(size) || size <= 0) {
    return { code: await downloadInto(ctx, resourceID, null) };
  }
  const file = new ProgressiveFile(size);
  const first = downloadInto(ctx, resourceID, file);
  let ended = false;
  void first.then(() => {
    ended = true;
  });
  // The header first (its layout says how many bytes the pre-roll is), then the pre-roll.
  for (;;) {
    const need = bytesToPlay(file, settings.startPositionMs, settings.prerollMs);
    if (need !== null && file.available >= need) break;
    await Promise.race([file.whenAvailable(need ?? file.available + 1), first]);
    // Ended before it was playable: handled as a whole-file download (recovery rules, the cached copy).
    if (ended || file.state !== "downloading") return { code: await first };
  }
  rec.phase("playable");
  const done = finishStreaming(ctx, song, file, first, requestedAgain)
    .catch(() => 1017099)
    .then((code) => {
      if (code === 0) file.complete();
      else file.fail(code);
      return file.state === "failed" ? file.code || 1017015 : 0;
    });
  return { code: 0, stream: { file, done } };
}

/**
 * The rest of a download that is playing. An expiry (1017019) is recovered as before playing: one new
 * request, whose download feeds the same file (its bytes must equal those already played, or the file fails
 * with 1017015); any other failure is the outcome, and the player stops with it.
 */
async function finishStreaming(
  ctx: AcquireContext,
  song: Candidate,
  file: ProgressiveFile,
  first: Promise<number>,
  requestedAgain: boolean,
): Promise<number> {
  const code = await first;
  if (code === 0 || ctx.signal.aborted || !shouldRequestAgain(code, requestedAgain)) return code;
  ctx.rec.recover(
    "expired-rerequest",
    "download",
    code,
    "expired while playing: requesting again",
    song.song_id,
  );
  const again = await obtain(ctx, song, false);
  if (again.kind !== "ok") return again.code;
  if (again.size !== file.size) return 1017015;
  return downloadInto(ctx, again.resourceID, file);
}
