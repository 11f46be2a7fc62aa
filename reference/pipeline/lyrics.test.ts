import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Simulator } from "../../simulator/app.ts";
import { call, session, testSimulator } from "../../test/sim.ts";
import { runPipeline } from "./run.ts";
import { userConfig } from "./test-fixtures.ts";

// Lyrics through the whole flow against a real simulator: fetched after the pick by the resource's krc_token,
// followed by the player's position while publishing. The publish clock is a frame counter (10 ms of audio per
// frame, whatever the wall clock does), so which lines are shown, and each one's drift, are exact.

let sim: Simulator;
beforeAll(async () => {
  sim = await testSimulator();
});
afterAll(async () => {
  await sim.close();
});

/** A singable vendor-0 song with an accompaniment and word-timed lyrics, and its lines' begin times. */
async function lyricSong(clip = false): Promise<{ songID: string; begins: number[] }> {
  for (let i = 0; i < sim.ctx.catalog.size; i++) {
    const f = sim.ctx.catalog.at(i);
    if (
      f.item.vendor_id !== 0 ||
      f.item.copyright.song_lyric !== 1 ||
      !f.has_accompaniment ||
      !f.has_krc ||
      !f.has_pitch ||
      f.pure_music ||
      (clip && f.item.has_clip !== 1) ||
      sim.ctx.catalog.isRevoked(f.item.song_id)
    )
      continue;
    const headers = await session(sim.url, "lyrics-setup");
    const lrc = await call(sim.url, "GET", `/v1/music/lyrics/lrc?song_id=${f.item.song_id}`, { headers });
    const begins = (lrc.body.data.lines as { begin_time: number }[]).map((l) => l.begin_time);
    if (begins.length >= 3) return { songID: f.item.song_id, begins };
  }
  throw new Error("no song with lyrics in the catalog");
}

describe("runPipeline with lyrics", () => {
  it("fetches the KRC after the pick and shows exactly the lines whose begin the playback passes", async () => {
    const { songID, begins } = await lyricSong();
    // Start 300 ms before the second line and sing 2 s: the lines that begin in (start, start + 2000].
    const start = Math.max(0, begins[1]! - 300);
    const r = await runPipeline(
      userConfig(sim.url, "lyric-singer", {
        song: { songID },
        resourceType: 1,
        startPositionMs: start,
        seconds: 2,
        lyrics: "krc",
      }),
    );
    expect(r.failure).toBeNull();
    const expected = begins.filter((b) => b > start && b <= start + 2000).length;
    expect(expected).toBeGreaterThanOrEqual(1);
    expect(r.lyrics).toMatchObject({ kind: "krc", code: 0, fell_back_from: null, lines: begins.length });
    expect(r.lyrics!.lines_shown + r.lyrics!.lines_skipped).toBe(expected);
    expect(r.lyrics!.drift_ms).toHaveLength(r.lyrics!.lines_shown);
    // The position moves 10 ms per frame and lines advance on the frame that plays their begin.
    for (const d of r.lyrics!.drift_ms) expect(d).toBeGreaterThanOrEqual(0);
    for (const d of r.lyrics!.drift_ms) expect(d).toBeLessThan(10);
    expect(r.lyrics!.fetch_ms).toBeGreaterThan(0);
    expect(r.recovery.some((a) => a.rule === "lyrics-fallback")).toBe(false);
  });

  it("a clip: the player's position plus segment_begin is the song time the lines are timed on", async () => {
    const { songID, begins } = await lyricSong(true);
    const headers = await session(sim.url, "lyrics-clip-setup");
    const info = await call(sim.url, "POST", "/v1/music/extended", {
      headers,
      body: { command: "/song/accompany/clip_info", params: { song_id: songID } },
    });
    const segBegin = info.body.data.segment_begin as number;
    const segEnd = info.body.data.segment_end as number;
    const inClip = begins.filter((b) => b > segBegin && b < segEnd);
    expect(inClip.length).toBeGreaterThanOrEqual(1);
    // Start (in the clip file) 300 ms before the clip's first line, sing 2 s.
    const start = inClip[0]! - segBegin - 300;
    const r = await runPipeline(
      userConfig(sim.url, "lyric-clip", {
        song: { songID },
        resourceType: 2,
        startPositionMs: Math.max(0, start),
        seconds: 2,
        lyrics: "krc",
      }),
    );
    expect(r.failure).toBeNull();
    const from = segBegin + Math.max(0, start);
    const expected = begins.filter((b) => b > from && b <= from + 2000).length;
    expect(expected).toBeGreaterThanOrEqual(1);
    expect(r.lyrics).toMatchObject({ kind: "krc", code: 0, lines_shown: expected, lines_skipped: 0 });
    for (const d of r.lyrics!.drift_ms) expect(d).toBeLessThan(10);
  });

  it("a Song resource has no krc_token: the KRC answers 1017008 and the song's LRC is shown instead", async () => {
    const { songID } = await lyricSong();
    const r = await runPipeline(
      userConfig(sim.url, "lyric-song", { song: { songID }, resourceType: 0, seconds: 0.5, lyrics: "krc" }),
    );
    expect(r.failure).toBeNull();
    expect(r.lyrics).toMatchObject({ kind: "lrc", code: 0, fell_back_from: 1017008 });
    expect(r.recovery.filter((a) => a.rule === "lyrics-fallback")).toMatchObject([
      { stage: "lyrics", code: 1017008 },
    ]);
  });

  it("without the option, no lyrics are fetched and the result has none", async () => {
    const r = await runPipeline(userConfig(sim.url, "no-lyrics", { seconds: 0.2 }));
    expect(r.ok).toBe(true);
    expect(r.lyrics).toBeUndefined();
  });
});
