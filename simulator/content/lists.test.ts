import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, session, testSimulator } from "../../test/sim.ts";
import type { Simulator } from "../app.ts";
import type { SongFacts, SongItem } from "../catalog/types.ts";
import { PAGE_SIZE } from "./command.ts";

// Integration over real HTTP: list commands, paging and filters (errors live in errors.test.ts).

let sim: Simulator;
let h: Record<string, string>;
const ext = async (command: string, params: unknown) =>
  (await call(sim.url, "POST", "/v1/music/extended", { headers: h, body: { command, params } })).body;
const songsOf = async (command: string, params: unknown): Promise<SongItem[]> => {
  const b = await ext(command, params);
  expect(b.code, JSON.stringify(b)).toBe(0);
  return b.data.songs;
};
const facts = (id: string) => sim.ctx.catalog.get(id) as SongFacts;

beforeAll(async () => {
  sim = await testSimulator();
  h = await session(sim.url, "lister");
});
afterAll(() => sim.close());

describe("/tag/list and /tag/song", () => {
  it("lists each vendor's tag groups; vendor 0 has 5/场景 with 587/学习", async () => {
    const b = await ext("/tag/list", { vendor_id: 0 });
    expect(b).toMatchObject({ code: 0, message: "succeed" });
    expect(b.data.groups).toContainEqual(
      expect.objectContaining({
        group_id: "5",
        group_name: "场景",
        tags: expect.arrayContaining([{ tag_id: "587", tag_name: "学习" }]),
      }),
    );
    const v2 = await ext("/tag/list", { vendor_id: 2 });
    expect(v2.data.groups).toEqual(sim.ctx.catalog.tagGroups(2));
    // vendor_id defaults to 0
    expect((await ext("/tag/list", {})).data).toEqual(b.data);
  });

  it("pages a tag's songs 20 at a time, in catalog order, empty past the end", async () => {
    const all = sim.ctx.catalog.tagSongs(0, "587") as readonly number[];
    expect(all.length).toBeGreaterThan(PAGE_SIZE);
    const p1 = await songsOf("/tag/song", { vendor_id: 0, tag_id: "587", page: 1 });
    const p2 = await songsOf("/tag/song", { vendor_id: 0, tag_id: "587", page: 2 });
    expect(p1.length).toBe(PAGE_SIZE);
    expect([...p1, ...p2].map((s) => s.song_id)).toEqual(
      all.slice(0, p1.length + p2.length).map((i) => sim.ctx.catalog.at(i).item.song_id),
    );
    expect(p1[0]).toEqual(sim.ctx.catalog.at(all[0] as number).item);
    const last = Math.ceil(all.length / PAGE_SIZE);
    expect((await songsOf("/tag/song", { vendor_id: 0, tag_id: "587", page: last })).length).toBe(
      all.length - (last - 1) * PAGE_SIZE,
    );
    expect(await songsOf("/tag/song", { vendor_id: 0, tag_id: "587", page: last + 1 })).toEqual([]);
  });

  it("applies filters 1, 3, 4 to tag songs", async () => {
    const s = await songsOf("/tag/song", { vendor_id: 0, tag_id: "587", page: 1, filter: [1, 3, 4] });
    expect(s.length).toBeGreaterThan(0);
    for (const x of s) {
      expect(x.copyright.song_lyric).toBe(1);
      expect(facts(x.song_id).has_krc && facts(x.song_id).has_pitch).toBe(true);
    }
    const unfiltered = await songsOf("/tag/song", { vendor_id: 0, tag_id: "587", page: 1 });
    expect(unfiltered.some((x) => !facts(x.song_id).has_pitch || x.copyright.song_lyric === 0)).toBe(true);
  });
});

describe("search", () => {
  it("/search/song pages the ranked results and filters", async () => {
    const ranked = sim.ctx.catalog.search("a", 1);
    const p1 = await songsOf("/search/song", { vendor_id: 1, keyword: "a" });
    const p3 = await songsOf("/search/song", { vendor_id: 1, keyword: "A", page: 3 });
    expect(p1.map((s) => s.song_id)).toEqual(
      ranked.slice(0, 20).map((i) => sim.ctx.catalog.at(i).item.song_id),
    );
    expect(p3.map((s) => s.song_id)).toEqual(
      ranked.slice(40, 60).map((i) => sim.ctx.catalog.at(i).item.song_id),
    );
    for (const s of p1) expect(s.vendor_id).toBe(1);
    const pure = await songsOf("/search/song", { vendor_id: 0, keyword: "纯音乐" });
    expect(pure.length).toBeGreaterThan(0);
    expect(await songsOf("/search/song", { vendor_id: 0, keyword: "纯音乐", filter: [2] })).toEqual([]);
    for (const s of await songsOf("/search/song", { vendor_id: 0, keyword: "e", filter: [3] })) {
      expect(facts(s.song_id).has_krc).toBe(true);
    }
    expect(await songsOf("/search/song", { vendor_id: 0, keyword: "zzqqxx" })).toEqual([]);
    expect(await songsOf("/search/song", { vendor_id: 1, keyword: "a", page: 1000 })).toEqual([]);
  });

  it("/search/tips suggests strings containing the keyword", async () => {
    const b = await ext("/search/tips", { vendor_id: 0, keyword: "夜" });
    expect(b.code).toBe(0);
    expect(b.data.tips.length).toBeGreaterThan(0);
    for (const t of b.data.tips) expect(t).toContain("夜");
  });

  it("/search/plus interleaves vendors by items, dedups to keep_vendor, pages after page 1", async () => {
    // A song listed by two vendors: search its exact name.
    let pair: [SongFacts, SongFacts] | undefined;
    const seen = new Map<number, SongFacts>();
    for (let i = 0; i < sim.ctx.catalog.size && !pair; i++) {
      const f = sim.ctx.catalog.at(i);
      const k = sim.ctx.catalog.nameKey(i);
      const other = seen.get(k);
      if (other && other.item.vendor_id !== f.item.vendor_id) pair = [other, f];
      else seen.set(k, f);
    }
    expect(pair).toBeDefined();
    const [a, b] = pair!;
    const vendors = [a.item.vendor_id, b.item.vendor_id];
    const keyword = a.item.song_name;
    const keepA = await songsOf("/search/plus", {
      keyword,
      vendors_id: vendors,
      items: [20, 20],
      keep_vendor: vendors[0],
    });
    const keepB = await songsOf("/search/plus", {
      keyword,
      vendors_id: vendors,
      items: [20, 20],
      keep_vendor: vendors[1],
    });
    const ids = (xs: SongItem[]) => xs.map((x) => x.song_id);
    expect(ids(keepA)).toContain(a.item.song_id);
    expect(ids(keepA)).not.toContain(b.item.song_id);
    expect(ids(keepB)).toContain(b.item.song_id);
    expect(ids(keepB)).not.toContain(a.item.song_id);
    // Vendor order: all of vendors_id[0]'s songs first.
    const firstOther = keepA.findIndex((s) => s.vendor_id === vendors[1]);
    if (firstOther >= 0) for (const s of keepA.slice(firstOther)) expect(s.vendor_id).toBe(vendors[1]);

    // Default: one song per vendor per page, all vendors.
    const d1 = await songsOf("/search/plus", { keyword: "a", page: 1 });
    expect(d1.map((s) => s.vendor_id)).toEqual([0, 1, 2, 4]);
    const d2 = await songsOf("/search/plus", { keyword: "a", page: 2 });
    expect(d2.map((s) => s.vendor_id)).toEqual([0, 1, 2, 4]);
    expect(ids(d2).some((id) => ids(d1).includes(id))).toBe(false);
    const counts = await songsOf("/search/plus", { keyword: "a", vendors_id: [2, 0], items: [3, 2] });
    expect(counts.map((s) => s.vendor_id)).toEqual([2, 2, 2, 0, 0]);
    // Filter 4 applies to vendors 0/1 only.
    const f4 = await songsOf("/search/plus", {
      keyword: "a",
      vendors_id: [0, 2],
      items: [20, 20],
      filter: [4],
    });
    for (const s of f4.filter((x) => x.vendor_id === 0)) expect(facts(s.song_id).has_pitch).toBe(true);
    const v2 = f4.filter((x) => x.vendor_id === 2);
    const v2All = sim.ctx.catalog.search("a", 2).slice(0, 20);
    expect(v2.length).toBe(v2All.length);
  });
});

describe("charts and song commands", () => {
  it("/top/song pages a chart, filters it, and covers vendor 2's themed ids", async () => {
    const chart = sim.ctx.catalog.chart(0, "8888") as readonly number[];
    const p2 = await songsOf("/top/song", { vendor_id: 0, top_id: "8888", page: 2 });
    expect(p2.map((s) => s.song_id)).toEqual(
      chart.slice(20, 40).map((i) => sim.ctx.catalog.at(i).item.song_id),
    );
    for (const s of await songsOf("/top/song", { vendor_id: 0, top_id: "8888", filter: [1] })) {
      expect(s.copyright.song_lyric).toBe(1);
    }
    for (const top of ["6666", "23784", "24971"])
      expect((await songsOf("/top/song", { vendor_id: 1, top_id: top })).length).toBeGreaterThan(0);
    const v2 = await songsOf("/top/song", { vendor_id: 2, top_id: "22004" });
    expect(v2.length).toBe(PAGE_SIZE);
    for (const s of v2) {
      expect(s.vendor_id).toBe(2);
      expect("has_clip" in s).toBe(false);
    }
    expect(await songsOf("/top/song", { vendor_id: 0, top_id: "8888", page: 11 })).toEqual([]);
  });

  it("/song/infos and /song/copyright answer per id, in request order", async () => {
    const v0 = (sim.ctx.catalog.chart(0, "8888") as readonly number[])
      .slice(0, 5)
      .map((i) => sim.ctx.catalog.at(i).item);
    const b = await ext("/song/infos", { vendor_id: 0, songs_id: v0.map((s) => s.song_id).reverse() });
    expect(b.data.songs).toEqual([...v0].reverse());
    const cr = await ext("/song/copyright", { vendor_id: 0, songs_id: v0.map((s) => s.song_id) });
    expect(cr.data.copyright).toEqual(
      v0.map((s) => ({
        song_id: s.song_id,
        right: s.copyright.song_lyric || s.copyright.recording ? 1 : 0,
        subright: s.copyright,
      })),
    );
  });

  it("clip, chorus and extra commands describe the song's structure per vendor", async () => {
    const find = (v: number, pred: (f: SongFacts) => boolean) => {
      for (let i = 0; i < sim.ctx.catalog.size; i++) {
        const f = sim.ctx.catalog.at(i);
        if (f.item.vendor_id === v && pred(f)) return f;
      }
      throw new Error("no such song");
    };
    const withClip = find(0, (f) => f.item.has_clip === 1 && f.has_krc);
    const p = { vendor_id: 0, song_id: withClip.item.song_id };
    expect((await ext("/song/accompany/clip_info", p)).data).toEqual({
      segment_begin: withClip.clip.segment_begin,
      segment_end: withClip.clip.segment_end,
    });
    expect((await ext("/song/accompany/clip_url/status", p)).data).toEqual({ has_clip_url: 1 });
    expect((await ext("/song/accompany/krc/segment", p)).data.tags).toEqual(withClip.chorus);
    expect((await ext("/song/extra", p)).data).toEqual({
      bpm: withClip.bpm,
      bpm_type: withClip.bpm_type,
      genres: withClip.genres,
    });

    const noClip = find(1, (f) => f.item.has_clip === 0);
    const q = { vendor_id: 1, song_id: noClip.item.song_id };
    expect((await ext("/song/accompany/clip_url/status", q)).data).toEqual({ has_clip_url: 0 });
    expect((await ext("/song/accompany/clip_info", q)).data).toEqual({ segment_begin: 0, segment_end: 0 });
    const noKrc = find(0, (f) => !f.has_krc);
    expect(
      (await ext("/song/accompany/krc/segment", { vendor_id: 0, song_id: noKrc.item.song_id })).data.tags,
    ).toEqual([]);

    const short = find(2, (f) => f.item.has_short_segment === 1);
    const r = { vendor_id: 2, song_id: short.item.song_id };
    expect((await ext("/song/accompany/clip_info", r)).data).toEqual({
      short_segment_begin: short.clip.segment_begin + short.segment.begin,
      short_segment_end: short.clip.segment_begin + short.segment.end,
    });
    expect((await ext("/song/accompany/clip_url/status", r)).data).toEqual({ has_short_segment_url: 1 });
    const v4 = find(4, () => true);
    expect((await ext("/song/accompany/clip_info", { vendor_id: 4, song_id: v4.item.song_id })).data).toEqual(
      {
        segment_begin: 0,
        segment_end: 0,
      },
    );
  });

  it("accepts params as the SDK's JSON string", async () => {
    const b = await call(sim.url, "POST", "/v1/music/extended", {
      headers: h,
      body: { command: "/tag/list", params: JSON.stringify({ vendor_id: 1 }) },
    });
    expect(b.body.data.groups).toEqual(sim.ctx.catalog.tagGroups(1));
  });
});
