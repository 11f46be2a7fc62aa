import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createCatalog } from "./index.ts";
import type { SongFacts } from "./types.ts";

const N = 2000;

function digest(seed: number): string {
  const c = createCatalog(seed, N);
  const h = createHash("sha256");
  for (let i = 0; i < c.size; i++) h.update(JSON.stringify(c.at(i)));
  for (const v of [0, 1, 2, 4] as const) {
    h.update(JSON.stringify(c.tagGroups(v)));
    for (const g of c.tagGroups(v)) for (const t of g.tags) h.update(JSON.stringify(c.tagSongs(v, t.tag_id)));
  }
  for (const v of [0, 1] as const)
    for (const t of ["6666", "8888", "23784", "24971"]) h.update(JSON.stringify(c.chart(v, t)));
  h.update(JSON.stringify(c.search("a", "all")));
  return h.digest("hex");
}

describe("catalog determinism", () => {
  it("the same seed gives a byte-identical catalog, another seed a different one", () => {
    const a = digest(42);
    expect(digest(42)).toBe(a);
    expect(digest(43)).not.toBe(a);
  });

  it("rejects sizes it cannot address", () => {
    expect(() => createCatalog(1, 0)).toThrow(RangeError);
    expect(() => createCatalog(1, 1.5)).toThrow(RangeError);
    expect(() => createCatalog(1, 2 ** 24 + 1)).toThrow(RangeError);
  });
});

describe("every song of a 2,000-song catalog is valid", () => {
  const c = createCatalog(7, N);
  const all: SongFacts[] = Array.from({ length: N }, (_, i) => c.at(i));

  it("ids are vendor-style digit strings that map back to the song", () => {
    const ids = new Set<string>();
    for (const f of all) {
      expect(f.item.song_id).toMatch(/^[1-9][0-9]{7,9}$/);
      expect(c.get(f.item.song_id)?.index).toBe(f.index);
      expect(c.indexOf(f.item.song_id)).toBe(f.index);
      ids.add(f.item.song_id);
      expect(f.item.singer_id).toMatch(/^[0-9]+$/);
      expect(f.item.album_id).toMatch(/^[0-9]+$/);
    }
    expect(ids.size).toBe(N);
    expect(c.get("12345")).toBeUndefined();
    expect(c.get("../../etc/passwd")).toBeUndefined();
    expect(() => c.at(N)).toThrow(RangeError);
  });

  it("fields have the spec's types and ranges", () => {
    for (const f of all) {
      const it = f.item;
      for (const k of ["song_name", "singer_name", "album_name"] as const)
        expect(it[k].length).toBeGreaterThan(0);
      for (const k of [
        "singer_img",
        "album_img",
        "album_img_mini",
        "album_img_small",
        "album_img_medium",
      ] as const) {
        expect(it[k]).toMatch(
          /^https:\/\/img\.ktv-sim\.invalid\/v[0124]\/(singer|album)\/[0-9]+(_[135]00)?\.jpg$/,
        );
      }
      expect([0, 1, 2, 4]).toContain(it.vendor_id);
      expect(Number.isInteger(it.duration) && it.duration >= 120_000 && it.duration <= 360_000).toBe(true);
      if (f.has_accompaniment)
        expect(Math.abs(it.accompany_duration - it.duration)).toBeLessThanOrEqual(1500);
      else expect(it.accompany_duration).toBe(0);
      if (it.vendor_id === 2) {
        expect("has_clip" in it).toBe(false);
        expect(it.pitch_ability).toBe(f.has_pitch ? 1 : 2);
        expect([1, 2]).toContain(it.has_short_segment);
      } else {
        expect([0, 1]).toContain(it.has_clip);
        expect("pitch_ability" in it || "has_short_segment" in it).toBe(false);
        if (it.vendor_id === 4) expect(it.has_clip).toBe(0);
      }
      if (it.has_clip === 1 || it.has_short_segment === 1) expect(f.has_accompaniment).toBe(true);
      expect([0, 1]).toContain(it.copyright.song_lyric);
      expect([0, 1]).toContain(it.copyright.recording);
      expect(Number.isInteger(it.copyright.channel) && it.copyright.channel >= 0).toBe(true);
      expect(Object.keys(it).at(-1)).toBe("copyright");
      expect(f.key >>> 0).toBe(f.key);
    }
  });

  it("content flags are consistent with each other and with the title", () => {
    for (const f of all) {
      expect(f.pure_music).toBe(f.item.song_name.includes("纯音乐"));
      if (f.pure_music) expect(f.has_krc || f.has_pitch).toBe(false);
      if (f.has_pitch) expect(f.has_krc && f.has_accompaniment).toBe(true);
      if (f.has_original) expect(f.has_accompaniment).toBe(true);
      expect(f.bpm >= 60 && f.bpm <= 180).toBe(true);
      if (f.bpm_type !== "0") expect(f.bpm_type).toBe(f.bpm < 80 ? "1" : f.bpm <= 120 ? "2" : "3");
      expect(f.genres.length).toBeGreaterThan(0);
      expect([...f.genres].sort((a, b) => a - b)).toEqual(f.genres);
      expect(new Set(f.genres).size).toBe(f.genres.length);
      for (const g of f.genres) expect(Number.isInteger(g) && g >= 1 && g <= 27).toBe(true);
      if (f.pure_music) expect(f.genres).toContain(23);
    }
  });

  it("clip, segment, chorus and intro nest inside each other and the song", () => {
    for (const f of all) {
      const d = f.item.duration;
      const { segment_begin: b, segment_end: e, prelude_duration: p } = f.clip;
      expect(0 <= b && b < e && e <= d).toBe(true);
      const clipLen = e - b;
      expect(clipLen).toBeGreaterThanOrEqual(30_000);
      expect(p > 0 && p < clipLen).toBe(true);
      expect(0 <= f.segment.begin && f.segment.begin < f.segment.end && f.segment.end <= clipLen).toBe(true);
      for (const o of f.segment.other_segments)
        expect(0 <= o.begin && o.begin < o.end && o.end <= clipLen).toBe(true);
      if (f.item.vendor_id === 2 || f.item.vendor_id === 4) expect(f.segment.other_segments).toEqual([]);
      else expect(f.segment.other_segments.length).toBeGreaterThan(0);
      expect(f.chorus.length).toBeGreaterThanOrEqual(2);
      expect(f.intro_end).toBeLessThan((f.chorus[0] as { start: number }).start);
      let last = 0;
      for (const ch of f.chorus) {
        expect(ch.start >= last && ch.start < ch.end && ch.end <= d).toBe(true);
        last = ch.end;
      }
      const main = f.chorus.find((ch) => ch.tags.includes("2"));
      expect(main?.start).toBe(b + p);
    }
  });

  it("the catalog has realistic variety", () => {
    const share = (pred: (f: SongFacts) => boolean) => all.filter(pred).length / N;
    const byVendor = (v: number) => share((f) => f.item.vendor_id === v);
    expect(byVendor(0)).toBeGreaterThan(byVendor(1));
    expect(byVendor(1)).toBeGreaterThan(byVendor(2));
    expect(byVendor(2)).toBeGreaterThan(byVendor(4));
    expect(byVendor(4)).toBeGreaterThan(0.05);
    const cr = (f: SongFacts) => f.item.copyright;
    expect(share((f) => cr(f).song_lyric === 1 && cr(f).recording === 1)).toBeGreaterThan(0.6);
    expect(share((f) => cr(f).song_lyric === 0 && cr(f).recording === 1)).toBeGreaterThan(0.05);
    expect(share((f) => cr(f).song_lyric === 0 && cr(f).recording === 0)).toBeGreaterThan(0.01);
    const v0 = all.filter((f) => f.item.vendor_id === 0);
    expect(v0.filter((f) => cr(f).channel === 0).length / v0.length).toBeGreaterThan(0.7);
    const others = all.filter((f) => f.item.vendor_id !== 0);
    expect(others.filter((f) => cr(f).channel !== 0).length / others.length).toBeGreaterThan(0.7);
    for (const p of [
      (f: SongFacts) => f.pure_music,
      (f: SongFacts) => !f.has_krc,
      (f: SongFacts) => !f.has_pitch,
      (f: SongFacts) => !f.has_accompaniment,
      (f: SongFacts) => f.has_original === 1,
      (f: SongFacts) => /[A-Za-z]/.test(f.item.song_name) && !/[\u4e00-\u9fff]/.test(f.item.song_name),
      (f: SongFacts) => /^[\u4e00-\u9fff]/.test(f.item.song_name),
      (f: SongFacts) => /^[A-Za-z]/.test(f.item.singer_name),
      (f: SongFacts) => /^[\u4e00-\u9fff]/.test(f.item.singer_name),
    ]) {
      expect(share(p)).toBeGreaterThan(0.01);
      expect(share(p)).toBeLessThan(0.99);
    }
    expect(new Set(all.map((f) => f.bpm_type)).size).toBe(4);
  });

  it("some songs are listed by several vendors under the same name and singer", () => {
    const byName = new Map<string, Set<number>>();
    for (const f of all) {
      const k = `${f.item.song_name}\n${f.item.singer_name}`;
      byName.set(k, (byName.get(k) ?? new Set()).add(f.item.vendor_id));
    }
    const multi = [...byName.values()].filter((s) => s.size > 1).length;
    expect(multi).toBeGreaterThan(N * 0.03);
  });
});
