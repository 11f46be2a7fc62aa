import { describe, expect, it } from "vitest";
import type { VendorId } from "../../protocol/enums.ts";
import { createCatalog } from "./index.ts";
import type { Revocation, RevocationOverlay } from "./types.ts";

// Revocations from outside the admin API (fault engine) combine with admin ones in every read the catalog
// offers, are asked per song only once per overlay version, and vanish when the overlay goes back to 0.

/** An overlay the test drives: `set` installs a new song -> level map under a new version. */
function testOverlay() {
  let version = 0;
  let levels = new Map<string, Revocation>();
  let asked = 0;
  const overlay: RevocationOverlay = {
    version: () => version,
    level(songId: string, _vendor: VendorId) {
      asked++;
      return levels.get(songId) ?? "none";
    },
  };
  return {
    overlay,
    set(next: Record<string, Revocation>) {
      levels = new Map(Object.entries(next));
      version = levels.size === 0 ? 0 : version + 1;
    },
    get asked() {
      return asked;
    },
  };
}

const catalog = createCatalog(3, 2000);
const chart = catalog.chart(0, "8888")!;
const at = (k: number) => catalog.at(chart[k]!);
/** A charted song with lyric (accompaniment) rights. */
const lyricSong = () => chart.map((i) => catalog.at(i)).find((f) => f.item.copyright.song_lyric === 1)!;

describe("catalog with a revocation overlay", () => {
  it("hides fully revoked songs from charts, tags, search and tips, and reports them revoked", () => {
    const t = testOverlay();
    catalog.useRevocations(t.overlay);
    const song = at(0);
    const id = song.item.song_id;
    const name = song.item.song_name;
    const tag = catalog
      .tagGroups(0)[0]!
      .tags.find((x) => catalog.tagSongs(0, x.tag_id)!.includes(song.index));
    expect(catalog.search(name, 0)).toContain(song.index);
    t.set({ [id]: "all" });
    expect(catalog.isRevoked(id)).toBe(true);
    expect(catalog.revocation(id)).toBe("all");
    expect(catalog.chart(0, "8888")).toEqual(chart.filter((i) => i !== song.index));
    if (tag) expect(catalog.tagSongs(0, tag.tag_id)).not.toContain(song.index);
    expect(catalog.search(name, 0)).not.toContain(song.index);
    expect(catalog.listed(song.index)).toBe(false);
    // Still known: a client holding the id can be told what it was.
    expect(catalog.get(id)?.item.song_name).toBe(name);
    t.set({});
    expect(catalog.isRevoked(id)).toBe(false);
    expect(catalog.chart(0, "8888")).toEqual(chart);
    expect(catalog.search(name, 0)).toContain(song.index);
    catalog.useRevocations(null);
  });

  it("keeps listen-only songs listed but without lyric rights, in facts and in filter 1", () => {
    const t = testOverlay();
    catalog.useRevocations(t.overlay);
    const song = lyricSong();
    const id = song.item.song_id;
    t.set({ [id]: "listen_only" });
    expect(catalog.isRevoked(id)).toBe(false);
    expect(catalog.revocation(id)).toBe("listen_only");
    expect(catalog.get(id)!.item.copyright).toEqual({ ...song.item.copyright, song_lyric: 0 });
    expect(catalog.at(song.index).item.copyright.song_lyric).toBe(0);
    expect(catalog.listed(song.index)).toBe(true);
    expect(catalog.listed(song.index, [1])).toBe(false);
    expect(catalog.search(song.item.song_name, 0)).toContain(song.index);
    expect(catalog.search(song.item.song_name, 0, [1])).not.toContain(song.index);
    t.set({});
    expect(catalog.get(id)!.item.copyright.song_lyric).toBe(1);
    expect(catalog.listed(song.index, [1])).toBe(true);
    catalog.useRevocations(null);
  });

  it("asks the overlay about a song once per version, and not at all at version 0", () => {
    const t = testOverlay();
    catalog.useRevocations(t.overlay);
    catalog.chart(0, "8888");
    catalog.get(at(1).item.song_id);
    expect(t.asked).toBe(0);
    t.set({ [at(1).item.song_id]: "all" });
    catalog.chart(0, "8888");
    const once = t.asked;
    expect(once).toBe(chart.length);
    catalog.chart(0, "8888");
    catalog.isRevoked(at(1).item.song_id);
    for (let k = 0; k < 20; k++) catalog.listed(chart[k]!);
    expect(t.asked).toBe(once);
    t.set({ [at(2).item.song_id]: "all" });
    expect(catalog.isRevoked(at(1).item.song_id)).toBe(false);
    expect(catalog.isRevoked(at(2).item.song_id)).toBe(true);
    catalog.useRevocations(null);
  });

  it("combines with admin revocations: each restores only its own", () => {
    const t = testOverlay();
    catalog.useRevocations(t.overlay);
    const a = at(3).item.song_id;
    const b = at(4).item.song_id;
    catalog.revoke(a);
    t.set({ [a]: "all", [b]: "all" });
    expect(catalog.chart(0, "8888")).toEqual(chart.filter((i) => i !== chart[3] && i !== chart[4]));
    t.set({});
    expect(catalog.isRevoked(a)).toBe(true);
    expect(catalog.isRevoked(b)).toBe(false);
    expect(catalog.chart(0, "8888")).toEqual(chart.filter((i) => i !== chart[3]));
    catalog.reset();
    expect(catalog.chart(0, "8888")).toEqual(chart);
    catalog.useRevocations(null);
  });
});
