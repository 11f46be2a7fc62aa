import { fetchLyrics, type LyricsApi } from "../lyrics/fetch.ts";
import { LyricFollower } from "../lyrics/follower.ts";
import type { ResourceInfo } from "../music/resources.ts";
import type { Acquired } from "./acquire.ts";
import type { ResolvedConfig } from "./config.ts";
import type { LyricsReport, Recorder } from "./result.ts";

// The lyrics step of the flow (config `lyrics`): once the song is acquired (its krc_token is known), fetch the
// lyrics while the song loads, then follow them while publishing. A song without lyrics still plays: a lyric
// failure is recorded (errors, `lyrics.code`), never the run's failure. The KRC -> LRC fallback is a
// recovery ("lyrics-fallback").

export interface LyricsStep {
  follower: LyricFollower | null;
  report: LyricsReport;
}

export async function getLyrics(
  music: LyricsApi & { resourceInfo(id: string): Readonly<ResourceInfo> | undefined },
  rec: Recorder,
  cfg: Pick<ResolvedConfig, "lyrics" | "vendorID" | "startPositionMs">,
  acquired: Acquired,
): Promise<LyricsStep> {
  const info = music.resourceInfo(acquired.resourceID);
  const got = await fetchLyrics(music, {
    kind: cfg.lyrics ?? "krc",
    songID: acquired.song.song_id,
    vendorID: cfg.vendorID,
    ...(info?.krcToken !== undefined ? { krcToken: info.krcToken } : {}),
  });
  if (got.fellBackFrom !== null) {
    rec.error(got.fellBackFrom);
    rec.recover(
      "lyrics-fallback",
      "lyrics",
      got.fellBackFrom,
      `no KRC (${got.fellBackFrom}): showing the song's LRC`,
      acquired.song.song_id,
    );
  }
  const base = { fetch_ms: got.fetchMs, fell_back_from: got.fellBackFrom, lines_shown: 0, lines_skipped: 0 };
  if (!got.ok) {
    rec.error(got.code);
    return { follower: null, report: { ...base, kind: null, code: got.code, lines: 0, drift_ms: [] } };
  }
  const follower = new LyricFollower(
    got.timeline,
    info?.segmentBeginMs !== undefined ? { songOffsetMs: info.segmentBeginMs } : {},
  );
  // The player is loaded at the start position: the line already under way there is where the view starts,
  // not a line playback reached late.
  follower.seek(cfg.startPositionMs);
  return {
    follower,
    report: { ...base, kind: got.timeline.kind, code: 0, lines: got.timeline.begins.length, drift_ms: [] },
  };
}

/** The report once playback is over: what the follower showed and each shown line's drift. */
export function lyricsReport(step: LyricsStep): LyricsReport {
  const f = step.follower;
  if (!f) return step.report;
  return { ...step.report, lines_shown: f.shown, lines_skipped: f.skipped, drift_ms: Array.from(f.driftsMs) };
}
