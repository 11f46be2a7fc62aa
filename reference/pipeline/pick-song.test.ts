import { describe, expect, it } from "vitest";
import { listCommand, pickSongs, usableFor } from "./pick-song.ts";

const song = (id: string, over: Record<string, unknown> = {}) => ({
  song_id: id,
  song_name: `name ${id}`,
  singer_name: "singer",
  duration: 200_000,
  has_clip: 1,
  copyright: { song_lyric: 1, recording: 1, channel: 0 },
  ...over,
});

function vendor(result: unknown, errorCode = 0) {
  const calls: [string, unknown][] = [];
  return {
    calls,
    async sendExtendedRequest(command: string, params: string) {
      calls.push([command, JSON.parse(params)]);
      return { errorCode, command, result: typeof result === "string" ? result : JSON.stringify(result) };
    },
  };
}

const ok = (songs: unknown[]) => ({ code: 0, message: "succeed", request_id: "r", data: { songs } });

describe("pickSongs", () => {
  it("lists by search, chart or id with the rights filter for singing", () => {
    expect(listCommand({ query: "love" }, 0, 1)).toEqual([
      "/search/song",
      { vendor_id: 0, keyword: "love", page: 1, filter: [1] },
    ]);
    expect(listCommand({ topID: "6666" }, 1, 0)).toEqual([
      "/top/song",
      { vendor_id: 1, top_id: "6666", page: 1, filter: [] },
    ]);
    expect(listCommand({ songID: "123" }, 2, 1)).toEqual([
      "/song/infos",
      { vendor_id: 2, songs_id: ["123"] },
    ]);
  });

  it("keeps only songs whose rights allow the resource type, best first, at most `max`", async () => {
    const v = vendor(
      ok([
        song("listen-only", { copyright: { song_lyric: 0, recording: 1, channel: 0 } }),
        song("a"),
        song("no-clip", { has_clip: 0 }),
        song("b"),
        song("c"),
      ]),
    );
    const r = await pickSongs(v, { query: "x" }, { vendorID: 0, resourceType: 2, max: 2 });
    expect(r).toEqual({
      ok: true,
      candidates: [
        { song_id: "a", song_name: "name a", singer_name: "singer", duration: 200_000 },
        { song_id: "b", song_name: "name b", singer_name: "singer", duration: 200_000 },
      ],
    });
    expect(usableFor(song("x", { copyright: { song_lyric: 0, recording: 1 } }), 0)).toBe(true);
    expect(usableFor(song("x", { copyright: { song_lyric: 1, recording: 0 } }), 0)).toBe(false);
    expect(usableFor(song("x", { has_clip: undefined, has_short_segment: 1 }), 3)).toBe(true);
    // A song without an accompaniment (accompany_duration 0) cannot be sung, whatever its rights say.
    expect(usableFor(song("x", { accompany_duration: 0 }), 1)).toBe(false);
    expect(usableFor(song("x", { accompany_duration: 0 }), 0)).toBe(true);
    expect(usableFor(song("x", { accompany_duration: 180_000 }), 1)).toBe(true);
  });

  it("no usable song is 1017034 with a sentence saying what was asked", async () => {
    const r = await pickSongs(vendor(ok([])), { query: "nothing" }, { vendorID: 0, resourceType: 1, max: 3 });
    expect(r).toEqual({
      ok: false,
      code: 1017034,
      message: 'no song for "nothing" can be used as an accompaniment',
    });
  });

  it("a malformed vendor answer is 1017010, a vendor error passes through", async () => {
    for (const bad of [
      "{not json",
      JSON.stringify({ code: 0, data: { songs: "x" } }),
      JSON.stringify(ok([]).data),
    ]) {
      const r = await pickSongs(vendor(bad), { query: "x" }, { vendorID: 0, resourceType: 1, max: 3 });
      expect(r).toMatchObject({ ok: false, code: 1017010 });
    }
    const r = await pickSongs(vendor("", 1017077), { topID: "1" }, { vendorID: 0, resourceType: 1, max: 3 });
    expect(r).toMatchObject({ ok: false, code: 1017077 });
  });
});
