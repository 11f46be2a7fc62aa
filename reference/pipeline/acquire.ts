import type { CopyrightedMusicEvents, ZegoCopyrightedMusic } from "../music/copyrighted-music.ts";
import type { RequestResourceResult } from "../music/types.ts";
import type { Candidate } from "./pick-song.ts";
import { isRevocation, provablyFailed, shouldFallBackToRequest, shouldRequestAgain } from "./recovery.ts";
import type { Recorder } from "./result.ts";

// Steps two and three of the flow: get a resource for a song (the room's share first when asked, else a
// billable request) and download it, applying the recovery rules of recovery.ts:
//   shared 1017050/1017051          -> requestResource instead                        (shouldFallBackToRequest)
//   download 1017019                -> requestResource again, once                    (shouldRequestAgain)
//   1017030/1017031 or revoked cut  -> skip to the next candidate, reason recorded    (isRevocation)
//   requestResource without answer  -> report, never repeat (it may have billed)      (provablyFailed)
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
}

export interface Acquired {
  song: Candidate;
  resourceID: string;
  via: "request" | "shared";
  size: number;
}

export type Failure = { ok: false; stage: string; code: number; message: string };
export type AcquireOutcome = { ok: true; acquired: Acquired } | Failure;

type Obtained =
  | { kind: "ok"; resourceID: string; via: "request" | "shared"; size: number }
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
    const code = await download(ctx, obtained.resourceID);
    if (code === 0) {
      const { resourceID, via, size } = obtained;
      return { kind: "acquired", acquired: { song, resourceID, via, size } };
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
  return { kind: "ok", resourceID: entry.resource_id, via, size: entry.size };
}

/** Downloads with progress events; an abort cancels it (1017016). Returns the SDK's code. */
async function download(ctx: AcquireContext, resourceID: string): Promise<number> {
  const { music, rec, signal } = ctx;
  const onProgress = (id: string, progress: number) => {
    if (id === resourceID) rec.event({ type: "download", resource_id: id, progress });
  };
  const onAbort = () => music.cancelDownload(resourceID);
  music.on("onDownloadProgressUpdate", onProgress);
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    const r = await rec.stage("download", () => music.download(resourceID));
    rec.error(r.errorCode);
    return r.errorCode;
  } finally {
    music.off("onDownloadProgressUpdate", onProgress);
    signal.removeEventListener("abort", onAbort);
  }
}
