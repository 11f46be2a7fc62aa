import type { ZegoCopyrightedMusic } from "../music/copyrighted-music.ts";
import { type LyricKind, LyricParseError, type LyricTimeline, parseLyricTimeline } from "./timeline.ts";

// Getting a song's lyrics the careful app's way: word-timed KRC by the resource's krc_token when asked and
// available, else (or when the KRC cannot be had) the line-timed LRC by song id. The KRC's errors are the
// vendor's (spec §4: 1017008 empty token, 1017046 illegal, 1017047 expired, 1017048 missing); an app shows
// line lyrics rather than none, so any of them falls back to LRC once (`shouldFallBackToLrc`), and the
// fallback is reported. Transient failures were already retried by the music module's transport.

/** What lyric fetching needs of ZegoCopyrightedMusic (tests script it). */
export type LyricsApi = Pick<ZegoCopyrightedMusic, "getLrcLyric" | "getKrcLyricByToken">;

export const KRC_TOKEN_EMPTY = 1017008;
export const KRC_TOKEN_ILLEGAL = 1017046;
export const KRC_TOKEN_EXPIRED = 1017047;
export const LYRIC_MISSING = 1017048;
/** The answer arrived but was not a lyric document (the SDK's "copyright server request failed"). */
export const LYRIC_UNUSABLE = 1017010;

/**
 * Rule "KRC unavailable -> LRC": no krc_token (a Song resource has none), an illegal, expired or missing KRC,
 * or an unusable KRC answer. Other failures (network after retries, not initialised) are reported as they are.
 */
export function shouldFallBackToLrc(krcCode: number): boolean {
  return (
    krcCode === KRC_TOKEN_EMPTY ||
    krcCode === KRC_TOKEN_ILLEGAL ||
    krcCode === KRC_TOKEN_EXPIRED ||
    krcCode === LYRIC_MISSING ||
    krcCode === LYRIC_UNUSABLE
  );
}

export interface LyricsRequest {
  /** Which lyrics the app wants; "krc" falls back to LRC by the rule above. */
  kind: LyricKind;
  songID: string;
  vendorID: number;
  /** The resource's krc_token (Accompaniment, Clip, Segment answers; absent for Song). */
  krcToken?: string;
}

export type LyricsOutcome =
  | {
      ok: true;
      timeline: LyricTimeline;
      /** Both requests included, ms. */
      fetchMs: number;
      /** The KRC failure that made it fall back to LRC, or null. */
      fellBackFrom: number | null;
    }
  | { ok: false; code: number; fetchMs: number; fellBackFrom: number | null };

export async function fetchLyrics(
  music: LyricsApi,
  req: LyricsRequest,
  now: () => number = () => performance.now(),
): Promise<LyricsOutcome> {
  const t0 = now();
  let fellBackFrom: number | null = null;
  if (req.kind === "krc") {
    const krc = await one("krc", () => music.getKrcLyricByToken(req.krcToken ?? ""));
    if (krc.ok) return { ok: true, timeline: krc.timeline, fetchMs: now() - t0, fellBackFrom };
    if (!shouldFallBackToLrc(krc.code))
      return { ok: false, code: krc.code, fetchMs: now() - t0, fellBackFrom };
    fellBackFrom = krc.code;
  }
  const lrc = await one("lrc", () => music.getLrcLyric(req.songID, req.vendorID));
  return lrc.ok
    ? { ok: true, timeline: lrc.timeline, fetchMs: now() - t0, fellBackFrom }
    : { ok: false, code: lrc.code, fetchMs: now() - t0, fellBackFrom };
}

async function one(
  kind: LyricKind,
  get: () => Promise<{ errorCode: number; lyrics: string }>,
): Promise<{ ok: true; timeline: LyricTimeline } | { ok: false; code: number }> {
  const r = await get();
  if (r.errorCode !== 0) return { ok: false, code: r.errorCode };
  try {
    return { ok: true, timeline: parseLyricTimeline(kind, r.lyrics) };
  } catch (err) {
    if (err instanceof LyricParseError) return { ok: false, code: LYRIC_UNUSABLE };
    throw err;
  }
}
