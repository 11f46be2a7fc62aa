import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Simulator } from "../../simulator/app.ts";
import { devHeaders, testSimulator } from "../../test/sim.ts";
import { MemoryCache } from "../music/cache.ts";
import { ZegoCopyrightedMusic } from "../music/copyrighted-music.ts";
import { fetchLyrics, KRC_TOKEN_ILLEGAL, type LyricsApi, shouldFallBackToLrc } from "./fetch.ts";

// Lyric fetching against the real simulator: a KRC by the krc_token of a real accompaniment request, the
// vendor's own code for a bad token (1017046) and the fallback to LRC it triggers.

let sim: Simulator;
beforeAll(async () => {
  sim = await testSimulator();
});
afterAll(async () => {
  await sim.close();
});

/** A vendor-0 song with word-timed lyrics and an accompaniment. */
function krcSong(): string {
  for (let i = 0; i < sim.ctx.catalog.size; i++) {
    const f = sim.ctx.catalog.at(i);
    if (
      f.item.vendor_id === 0 &&
      f.item.copyright.song_lyric === 1 &&
      f.has_accompaniment &&
      f.has_krc &&
      !f.pure_music &&
      !sim.ctx.catalog.isRevoked(f.item.song_id)
    )
      return f.item.song_id;
  }
  throw new Error("no KRC song in the catalog");
}

async function music(user: string): Promise<ZegoCopyrightedMusic> {
  const cm = new ZegoCopyrightedMusic({
    baseUrl: sim.url,
    appId: Number(devHeaders["x-app-id"]),
    appSign: devHeaders["x-app-sign"],
    cache: new MemoryCache(),
  });
  expect(await cm.initCopyrightedMusic({ user: { userID: user } })).toEqual({ errorCode: 0 });
  return cm;
}

describe("fetchLyrics", () => {
  it("gets the KRC by the request's krc_token: lines in time order, no fallback", async () => {
    const cm = await music("lyrics-krc");
    const songID = krcSong();
    const r = await cm.requestResource({ songID, mode: 0, vendorID: 0, resourceType: 1 });
    expect(r.errorCode).toBe(0);
    const got = await fetchLyrics(cm, { kind: "krc", songID, vendorID: 0, krcToken: r.data!.krc_token! });
    if (!got.ok) throw new Error(`no lyrics: ${got.code}`);
    expect(got.timeline.kind).toBe("krc");
    expect(got.timeline.begins.length).toBeGreaterThan(0);
    const b = [...got.timeline.begins];
    expect(b).toEqual([...b].sort((x, y) => x - y));
    expect(got.fellBackFrom).toBeNull();
    expect(got.fetchMs).toBeGreaterThanOrEqual(0);
    await cm.destroy();
  });

  it("a bad krc_token gets the vendor's 1017046, and the app falls back to the song's LRC", async () => {
    const cm = await music("lyrics-bad-token");
    const songID = krcSong();
    expect((await cm.getKrcLyricByToken("krc1.forged.token")).errorCode).toBe(KRC_TOKEN_ILLEGAL);
    const got = await fetchLyrics(cm, { kind: "krc", songID, vendorID: 0, krcToken: "krc1.forged.token" });
    if (!got.ok) throw new Error(`no lyrics: ${got.code}`);
    expect(got.fellBackFrom).toBe(KRC_TOKEN_ILLEGAL);
    expect(got.timeline.kind).toBe("lrc");
    expect(got.timeline.begins.length).toBeGreaterThan(0);
    await cm.destroy();
  });

  it("reports the LRC's own failure when the fallback cannot help (song not in that vendor: 1017072)", async () => {
    const cm = await music("lyrics-none");
    const got = await fetchLyrics(cm, { kind: "lrc", songID: krcSong(), vendorID: 2 });
    expect(got).toMatchObject({ ok: false, code: 1017072, fellBackFrom: null });
    await cm.destroy();
  });
});

describe("shouldFallBackToLrc / scripted answers", () => {
  it("falls back on the KRC codes only; a network failure is reported as is, with no LRC call", async () => {
    for (const c of [1017008, 1017046, 1017047, 1017048, 1017010]) expect(shouldFallBackToLrc(c)).toBe(true);
    for (const c of [0, 1017098, 1017096]) expect(shouldFallBackToLrc(c)).toBe(false);
    let lrcCalls = 0;
    const api: LyricsApi = {
      getKrcLyricByToken: async () => ({ errorCode: 1017098, lyrics: "" }),
      getLrcLyric: async () => {
        lrcCalls++;
        return { errorCode: 0, lyrics: JSON.stringify({ lines: [] }) };
      },
    };
    const got = await fetchLyrics(api, { kind: "krc", songID: "1", vendorID: 0, krcToken: "t" });
    expect(got).toMatchObject({ ok: false, code: 1017098 });
    expect(lrcCalls).toBe(0);
    const unusable = await fetchLyrics(
      { ...api, getKrcLyricByToken: async () => ({ errorCode: 0, lyrics: "<html>" }) },
      { kind: "krc", songID: "1", vendorID: 0, krcToken: "t" },
    );
    expect(unusable).toMatchObject({ ok: true, fellBackFrom: 1017010 });
    expect(lrcCalls).toBe(1);
  });
});
