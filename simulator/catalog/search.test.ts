import { describe, expect, it } from "vitest";
import { createCatalog, SEARCH_LIMIT, TIPS_LIMIT } from "./index.ts";
import type { SongFacts } from "./types.ts";

const N = 2000;
const c = createCatalog(11, N);
const all: SongFacts[] = Array.from({ length: N }, (_, i) => c.at(i));

/** The ranking rule stated plainly, over every song: the oracle the index must agree with. */
function oracle(
  keyword: string,
  vendor: number | "all",
  pass: (f: SongFacts) => boolean = () => true,
): number[] {
  const q = keyword.trim().toLowerCase();
  const tier = (s: string) => {
    const t = s.toLowerCase();
    return t === q ? 0 : t.startsWith(q) ? 1 : t.includes(q) ? 2 : 3;
  };
  return all
    .filter((f) => vendor === "all" || f.item.vendor_id === vendor)
    .filter((f) => !c.isRevoked(f.item.song_id) && pass(f))
    .map((f) => ({ i: f.index, t: Math.min(tier(f.item.song_name), tier(f.item.singer_name)) }))
    .filter((x) => x.t < 3)
    .sort((a, b) => a.t - b.t || c.popularityRank(a.i) - c.popularityRank(b.i))
    .slice(0, SEARCH_LIMIT)
    .map((x) => x.i);
}

const sample = all[123] as SongFacts;
const keywords = [
  sample.item.song_name,
  sample.item.singer_name,
  sample.item.song_name.slice(0, 2),
  sample.item.singer_name.slice(1, 3),
  "夜",
  "爱",
  "the",
  "a",
  "e",
  "纯音乐",
  "(live)",
  "zzzzqqq",
];

describe("search", () => {
  it("ranks exact > prefix > substring, then by popularity, like the brute-force oracle", () => {
    for (const k of keywords) {
      for (const v of ["all", 0, 1, 2, 4] as const)
        expect(c.search(k, v), `${k} @ ${v}`).toEqual(oracle(k, v));
    }
    expect(c.search(sample.item.song_name, "all")[0]).toBeDefined();
    const first = c.at(c.search(sample.item.song_name, "all")[0] as number).item;
    expect(
      first.song_name.toLowerCase() === sample.item.song_name.toLowerCase() ||
        first.singer_name.toLowerCase() === sample.item.song_name.toLowerCase(),
    ).toBe(true);
  });

  it("is case-insensitive and trims, and an empty or separator keyword finds nothing", () => {
    expect(c.search("THE", "all")).toEqual(c.search("the", "all"));
    expect(c.search("  the ", 0)).toEqual(c.search("the", 0));
    expect(c.search("", "all")).toEqual([]);
    expect(c.search("   ", "all")).toEqual([]);
    expect(c.search("a\nb", "all")).toEqual([]);
    expect(c.search("a", "all").length).toBe(SEARCH_LIMIT);
  });

  it("applies the filter codes", () => {
    const cases: [number[], (f: SongFacts) => boolean][] = [
      [[1], (f) => f.item.copyright.song_lyric === 1],
      [[2], (f) => !f.pure_music],
      [[3], (f) => f.has_krc],
      [[4], (f) => f.has_pitch],
      [[1, 2, 3, 4], (f) => f.item.copyright.song_lyric === 1 && !f.pure_music && f.has_krc && f.has_pitch],
    ];
    for (const [codes, pass] of cases) {
      for (const k of ["a", "夜", "纯音乐"])
        expect(c.search(k, "all", codes)).toEqual(oracle(k, "all", pass));
    }
    expect(() => c.search("a", "all", [5])).toThrow(RangeError);
  });

  it("suggests strings containing the keyword, prefix matches first", () => {
    for (const k of ["夜", "a", "the", sample.item.singer_name.slice(0, 1)]) {
      const tips = c.tips(k, 0);
      expect(tips.length).toBeGreaterThan(0);
      expect(tips.length).toBeLessThanOrEqual(TIPS_LIMIT);
      const q = k.toLowerCase();
      for (const t of tips) expect(t.toLowerCase()).toContain(q);
      const firstSubstring = tips.findIndex((t) => !t.toLowerCase().startsWith(q));
      if (firstSubstring >= 0)
        for (const t of tips.slice(firstSubstring)) expect(t.toLowerCase().startsWith(q)).toBe(false);
      // Every tip names a song of that vendor.
      for (const t of tips) {
        expect(
          all.some((f) => f.item.vendor_id === 0 && (f.item.song_name === t || f.item.singer_name === t)),
        ).toBe(true);
      }
    }
    expect(c.tips("zzzzqqq", 0)).toEqual([]);
  });
});

describe("tags and charts", () => {
  it("vendor 0 has the spec's example group 5/场景 with tag 587/学习; vendors differ", () => {
    const g5 = c.tagGroups(0).find((g) => g.group_id === "5");
    expect(g5?.group_name).toBe("场景");
    expect(g5?.tags).toContainEqual({ tag_id: "587", tag_name: "学习" });
    const ids = (v: 0 | 1 | 2 | 4) => c.tagGroups(v).flatMap((g) => g.tags.map((t) => t.tag_id));
    expect(new Set([...ids(0), ...ids(1), ...ids(2), ...ids(4)]).size).toBe(
      ids(0).length + ids(1).length + ids(2).length + ids(4).length,
    );
  });

  it("tag lists hold that vendor's songs, most popular first", () => {
    for (const v of [0, 1, 2, 4] as const) {
      let nonEmpty = 0;
      for (const g of c.tagGroups(v)) {
        for (const t of g.tags) {
          const list = c.tagSongs(v, t.tag_id) as readonly number[];
          if (list.length > 0) nonEmpty++;
          for (let k = 0; k < list.length; k++) {
            expect(c.at(list[k] as number).item.vendor_id).toBe(v);
            if (k > 0)
              expect(c.popularityRank(list[k] as number)).toBeGreaterThan(
                c.popularityRank(list[k - 1] as number),
              );
          }
        }
      }
      expect(nonEmpty).toBeGreaterThan(5);
    }
    expect(c.tagSongs(0, "nope")).toBeUndefined();
    expect(c.tagSongs(1, "587")).toBeUndefined();
  });

  it("charts use the spec's top ids; 8888 is the vendor's most popular songs", () => {
    for (const v of [0, 1] as const)
      for (const t of ["6666", "8888", "23784", "24971"]) expect(c.chart(v, t)?.length).toBeGreaterThan(0);
    for (const t of [
      22004, 22005, 22006, 22007, 22008, 22009, 22010, 22011, 22015, 22016, 22017, 22018, 22019, 22020, 22026,
    ]) {
      expect(c.chart(2, String(t))).toBeDefined();
    }
    expect(c.chart(2, "22012")).toBeUndefined();
    expect(c.chart(2, "8888")).toBeUndefined();
    expect(c.chart(4, "8888")).toBeUndefined();
    const hot = all
      .filter((f) => f.item.vendor_id === 0)
      .sort((a, b) => c.popularityRank(a.index) - c.popularityRank(b.index))
      .slice(0, 200)
      .map((f) => f.index);
    expect(c.chart(0, "8888")).toEqual(hot);
    expect(c.chart(0, "6666")).not.toEqual(c.chart(0, "8888"));
    for (const i of c.chart(1, "24971") as readonly number[]) expect(c.at(i).genres).toContain(2);
    for (const [top, pass] of [
      ["22005", (f: SongFacts) => f.item.copyright.song_lyric === 1 && f.has_krc],
      ["22006", (f: SongFacts) => f.item.copyright.recording === 1],
    ] as const) {
      const list = c.chart(2, top) as readonly number[];
      expect(list.length).toBeGreaterThan(0);
      for (const i of list) {
        expect(c.at(i).item.vendor_id).toBe(2);
        expect(pass(c.at(i))).toBe(true);
      }
    }
  });
});

describe("revocation", () => {
  it("revoked songs vanish from search, tags and charts but get() still finds them", () => {
    const cat = createCatalog(11, N);
    const top = cat.chart(0, "8888") as readonly number[];
    const victim = cat.at(top[0] as number);
    const id = victim.item.song_id;
    const tag = cat
      .tagGroups(0)
      .flatMap((g) => g.tags)
      .find((t) => cat.tagSongs(0, t.tag_id)?.includes(victim.index));
    expect(tag).toBeDefined();
    expect(cat.search(victim.item.song_name, 0)).toContain(victim.index);
    const before = cat.chart(0, "8888") as readonly number[];

    expect(cat.revoke(id)).toBe(true);
    expect(cat.isRevoked(id)).toBe(true);
    expect(cat.get(id)?.index).toBe(victim.index);
    expect(cat.search(victim.item.song_name, 0)).not.toContain(victim.index);
    expect(cat.search(victim.item.song_name, "all")).not.toContain(victim.index);
    expect(cat.chart(0, "8888")).toEqual(before.slice(1));
    expect(cat.tagSongs(0, tag!.tag_id)).not.toContain(victim.index);
    expect(cat.listed(victim.index)).toBe(false);

    expect(cat.restore(id)).toBe(true);
    expect(cat.isRevoked(id)).toBe(false);
    expect(cat.chart(0, "8888")).toEqual(before);
    expect(cat.search(victim.item.song_name, 0)).toContain(victim.index);

    cat.revoke(id);
    cat.reset();
    expect(cat.isRevoked(id)).toBe(false);
    expect(cat.tagSongs(0, tag!.tag_id)).toContain(victim.index);
    expect(cat.revoke("999")).toBe(false);
    expect(cat.restore("not-an-id")).toBe(false);
  });
});
