import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { vendorRouteIndex } from "../../protocol/vendor-routes.ts";
import { ZegoCopyrightedMusic } from "../../reference/music/copyrighted-music.ts";
import { defaultRequest, type HttpRequest } from "../../reference/music/http.ts";
import {
  ATTEMPT_ERROR,
  ATTEMPT_NO_ANSWER,
  ATTEMPT_OK,
  type AttemptOutcome,
  reportVendorAttempt,
} from "../../reference/music/transport.ts";
import { pickSongs } from "../../reference/pipeline/pick-song.ts";
import { provablyFailed, shouldFallBackToRequest } from "../../reference/pipeline/recovery.ts";
import { ReloginBackoff, type ReloginPolicy } from "./relogin-backoff.ts";
import type { IterationOutcome, IterationSpec, Vu, VuContext } from "./types.ts";

// The "music" VU: the copyrighted-music half of the flow without the media engine: pick a song -> the room's
// share or requestResource -> download. No audio is mixed or published, so it loads the vendor API, the
// billing ledger and the CDN with far less CPU per user than the full pipeline: for CDN and billing capacity.
// A song counts as started once its file is downloaded and verified.
//
// Footprint (issue 13: 10,000 music VUs per machine at <= 100 KB each): a VU holds nothing between iterations but
// its backoff counter; within one, every request (vendor calls, the room login, the download) goes through the thread's bounded
// undici Agent (reference/music/http.ts: 128 connections per origin, the rest queue as a request object each)
// and the download's bytes are counted by the transport's onDownloadBytes. Through a WHATWG fetch (the global
// one, wrapped in a counting TransformStream) each of 10,000 VUs had its own socket, Request, Response and web
// streams in flight (bench/harness/footprint.ts --runner music, 500 -> 10,000 VUs, load 15-25: 72 -> 13 KB RSS
// per VU after GC; 10,000 VUs under way after 92 s with 3,568 errors before, after 10 s with none now).

export function createMusicVu(ctx: VuContext, retry: Partial<ReloginPolicy> = {}): Vu {
  // The only state a VU keeps: how many iterations in a row found the target unreachable (relogin-backoff.ts).
  const backoff = new ReloginBackoff(retry);
  return {
    iteration: async (spec, signal) => {
      if (!(await backoff.wait(signal))) return { ok: false, code: 0, ttfaMs: null, aborted: true };
      const out = await musicIteration(ctx, spec, signal);
      // A failure named rather than coded ("exception") says nothing about reachability: it resets, as a success.
      const code = typeof out.code === "number" ? out.code : 0;
      backoff.record(out.ok || out.aborted ? null : { stage: "music", code });
      return out;
    },
    close: async () => {},
  };
}

async function musicIteration(
  ctx: VuContext,
  spec: IterationSpec,
  signal: AbortSignal,
): Promise<IterationOutcome> {
  const { rec } = ctx;
  const fail = (code: number): IterationOutcome => {
    rec.error(code);
    return { ok: false, code, ttfaMs: null, aborted: signal.aborted };
  };
  const cacheDir = spec.cacheDir ?? (await mkdtemp(join(tmpdir(), "ktv-music-vu-")));
  const cm = new ZegoCopyrightedMusic({
    baseUrl: ctx.target,
    appId: ctx.appID,
    appSign: ctx.appSign,
    cacheDir,
    onDownloadBytes: (n) => rec.add("bytes_downloaded", n),
  });
  const onAbort = () => cm.cancelDownload();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    const init = await cm.initCopyrightedMusic({ user: { userID: spec.userID } });
    if (init.errorCode !== 0) return fail(init.errorCode);
    const login = await roomLogin(ctx.target, ctx, cm.sessionID!, spec.roomID, signal);
    if (login !== 0) return fail(login);

    let t = performance.now();
    const res = spec.resource;
    const picked = await pickSongs(cm, spec.song, { vendorID: res.vendorId, resourceType: res.type, max: 3 });
    rec.record("search_ms", performance.now() - t);
    if (!picked.ok) return fail(picked.code);
    const song = picked.candidates[0]!;
    if (signal.aborted) return { ok: false, code: 0, ttfaMs: null, aborted: true };

    t = performance.now();
    let r = spec.preferShared
      ? await cm.getSharedResource({
          songID: song.song_id,
          vendorID: res.vendorId,
          roomID: spec.roomID,
          resourceType: res.type,
        })
      : null;
    if (r && r.errorCode !== 0) {
      rec.error(r.errorCode);
      if (shouldFallBackToRequest(r.errorCode)) rec.add("recoveries{rule:shared-fallback}");
      else return fail(r.errorCode);
    }
    if (r?.errorCode !== 0) {
      r = await cm.requestResource({
        songID: song.song_id,
        mode: res.billingMode,
        vendorID: res.vendorId,
        resourceType: res.type,
        resourceQualityType: res.quality,
        roomID: spec.roomID,
        ...(res.billingMode === 3 ? { masterID: spec.masterID } : {}),
      });
      // Sent without a usable answer (the target killed mid-request, a dropped connection): the vendor may have
      // billed it, so the billing check allows one ledger row more for it (billing-check.ts). Not counted, such a
      // row was "one row more than the clients counted" and failed a run that lost nothing.
      if (r.errorCode === 0) rec.add("billable_requests");
      else if (!provablyFailed(r)) rec.add("unconfirmed_requests");
    }
    rec.record("request_resource_ms", performance.now() - t);
    if (r.errorCode !== 0) return fail(r.errorCode);
    const resourceID = r.data?.resources[0]?.resource_id;
    if (!resourceID) return fail(1017010);

    t = performance.now();
    const d = await cm.download(resourceID);
    rec.record("download_ms", performance.now() - t);
    if (signal.aborted) return { ok: false, code: d.errorCode, ttfaMs: null, aborted: true };
    if (d.errorCode !== 0) return fail(d.errorCode);
    rec.add("songs_started");
    return { ok: true, code: 0, ttfaMs: null, aborted: false };
  } finally {
    signal.removeEventListener("abort", onAbort);
    await cm.destroy();
    if (!spec.cacheDir) await rm(cacheDir, { recursive: true, force: true });
  }
}

const LOGIN_ROOM = vendorRouteIndex("/v1/room/login", undefined);
/** The transport's own choice (undici on the thread's Agent, or the global fetch once an interceptor replaced it). */
const http: HttpRequest = defaultRequest();

/** POST /v1/room/login: room membership, which getSharedResource needs (the engine does this in the pipeline). */
async function roomLogin(
  target: string,
  ctx: VuContext,
  session: string,
  roomID: string,
  signal: AbortSignal,
): Promise<number> {
  // Counted like the transport's attempts (reference/music/transport.ts), so the route check sees it.
  const t0 = performance.now();
  let outcome: AttemptOutcome = ATTEMPT_NO_ANSWER;
  try {
    const res = await http(`${target}/v1/room/login`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-app-id": String(ctx.appID),
        "x-app-sign": ctx.appSign,
        "x-session": session,
      },
      body: JSON.stringify({ room_id: roomID }),
      signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]),
    });
    const body = JSON.parse(await res.text()) as { code?: unknown };
    outcome = res.status >= 200 && res.status < 300 && body.code === 0 ? ATTEMPT_OK : ATTEMPT_ERROR;
    return typeof body.code === "number" ? body.code : 1017010;
  } catch {
    return 1017098;
  } finally {
    reportVendorAttempt(LOGIN_ROOM, outcome, performance.now() - t0);
  }
}
