import type { VendorId } from "../../protocol/enums.ts";
import { CHART_SPECS, ChartBuilder } from "./charts.ts";
import { filterMask, passes } from "./filters.ts";
import { MAX_CATALOG_SIZE, SongIdCodec } from "./ids.ts";
import { LiveLists } from "./live-lists.ts";
import { Lru } from "./lru.ts";
import { buildPools, type Pools } from "./pools.ts";
import { evenBitsFor, FeistelPermutation, hash3, seed32 } from "./prng.ts";
import { SearchIndex } from "./search-index.ts";
import {
  F_LYRIC,
  F_PURE,
  F_REVOKED,
  type SongCore,
  SongFactory,
  VENDOR_MASK,
  VENDOR_ORDER,
  vendorSlot,
} from "./songs.ts";
import { songTagSlots, TAG_SLOTS, vendorTags } from "./tags.ts";
import type { Catalog, Revocation, RevocationOverlay, SongFacts, TagGroup } from "./types.ts";

export { FILTER_CODES } from "./filters.ts";
export { MAX_CATALOG_SIZE } from "./ids.ts";

/** Search answers at most this many songs (25 pages of 20): deep pages of a broad keyword are noise. */
export const SEARCH_LIMIT = 500;
/** A tag lists at most its most popular songs, which bounds memory at 10^6 songs. */
export const TAG_LIMIT = 10_000;
export const TIPS_LIMIT = 10;
/** Longer keywords are answered but not cached, so odd inputs cannot fill memory. */
const CACHE_KEYWORD_MAX = 64;

const CJK = /[\u3400-\u9fff]/;

// Overlay levels of one song, memoised per overlay version (0: not asked yet).
const L_NONE = 1;
const L_LISTEN_ONLY = 2;
const L_ALL = 3;
const LEVEL_OF: Record<Revocation, number> = { none: L_NONE, listen_only: L_LISTEN_ONLY, all: L_ALL };

/**
 * The seeded catalog. Start-up makes one pass in index order (vendor, rights and filter flags, title and
 * singer per song) and one in popularity order (tags, charts); everything else about a song is derived on
 * demand by `at()`/`get()` from (seed, index).
 */
export class SeededCatalog implements Catalog {
  readonly seed: number;
  readonly size: number;
  readonly pools: Pools;
  private readonly ids: SongIdCodec;
  private readonly songs: SongFactory;
  private readonly flags: Uint8Array;
  private readonly songTitle: Uint32Array;
  private readonly songSinger: Uint32Array;
  private readonly rankOf: Uint32Array;
  private readonly index: SearchIndex;
  private readonly tags: { groups: TagGroup[]; slotById: Map<string, number>; lists: number[][] }[];
  private readonly charts: Map<string, number[]>[];
  private readonly revoked = new Set<string>();
  private overlay: RevocationOverlay | null = null;
  private overlayVersion = 0;
  /** The overlay's answer per song index under `overlayVersion`, filled on demand (no 10^6-song pass). */
  private overlayLevels: Uint8Array | null = null;
  private readonly live: LiveLists;
  private readonly searchCache = new Lru<string, readonly number[]>(4096);
  private readonly tipsCache = new Lru<string, string[]>(2048);

  constructor(seed: number, size: number) {
    if (!Number.isInteger(size) || size < 1 || size > MAX_CATALOG_SIZE) {
      throw new RangeError(`catalog size must be an integer in 1..${MAX_CATALOG_SIZE}, got ${size}`);
    }
    this.seed = seed;
    this.size = size;
    const s = seed32(seed);
    this.pools = buildPools(s, size);
    this.ids = new SongIdCodec(s);
    this.songs = new SongFactory(s, size, this.pools, this.ids);
    this.flags = new Uint8Array(size);
    this.songTitle = new Uint32Array(size);
    this.songSinger = new Uint32Array(size);
    const c = {} as SongCore;
    for (let i = 0; i < size; i++) {
      this.songs.core(i, c);
      this.flags[i] = this.songs.flags(c);
      this.songTitle[i] = c.title;
      this.songSinger[i] = c.singer;
    }
    this.live = new LiveLists((i) => (this.flagsNow(i) & F_REVOKED) !== 0);

    // Popularity: a keyed permutation of the indexes; rank 0 is the most popular song.
    const perm = new FeistelPermutation(evenBitsFor(size), hash3(s, 0, 0x7a));
    this.rankOf = new Uint32Array(size);
    const byRank = new Uint32Array(size);
    for (let i = 0; i < size; i++) {
      const r = perm.forwardWithin(i, size);
      this.rankOf[i] = r;
      byRank[r] = i;
    }
    this.index = new SearchIndex({
      titles: this.pools.titles,
      singers: this.pools.singers,
      songTitle: this.songTitle,
      songSinger: this.songSinger,
      byRank,
      rankOf: this.rankOf,
    });

    this.tags = VENDOR_ORDER.map((v) => ({
      ...vendorTags(v),
      lists: Array.from({ length: TAG_SLOTS }, () => [] as number[]),
    }));
    const chartBuilders = VENDOR_ORDER.map((v) => new ChartBuilder(CHART_SPECS[v]));
    const titleZh = Uint8Array.from(this.pools.titles, (t) => (CJK.test(t) ? 1 : 0));
    const slots: number[] = [];
    for (let r = 0; r < size; r++) {
      const i = byRank[r] as number;
      const f = this.flags[i] as number;
      const vs = f & VENDOR_MASK;
      const dup = this.songs.dupOf(i);
      const work = dup < 0 ? i : dup;
      const title = this.songTitle[i] as number;
      const genres = this.songs.genres(work, (f & F_PURE) !== 0, this.pools.titles[title] as string);
      songTagSlots(s, work, titleZh[title] === 1, genres, slots);
      const lists = (this.tags[vs] as { lists: number[][] }).lists;
      for (const k of slots) {
        const list = lists[k] as number[];
        if (list.length < TAG_LIMIT) list.push(i);
      }
      const cb = chartBuilders[vs] as ChartBuilder;
      if (!cb.full) cb.offer(i, { flags: f, genres, slots, trend: hash3(s, i, 0x77) });
    }
    this.charts = chartBuilders.map((b) => b.lists);
  }

  get(songId: string): SongFacts | undefined {
    const i = this.indexOf(songId);
    return i === undefined ? undefined : this.factsNow(i);
  }

  /** The catalog index a song id names, or undefined for unknown or ill-formed ids. */
  indexOf(songId: string): number | undefined {
    const d = this.ids.decode(songId);
    if (!d || d.index >= this.size) return undefined;
    if (VENDOR_ORDER[(this.flags[d.index] as number) & VENDOR_MASK] !== d.vendor) return undefined;
    return d.index;
  }

  at(index: number): SongFacts {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) {
      throw new RangeError(`song index ${index} outside 0..${this.size - 1}`);
    }
    return this.factsNow(index);
  }

  tagGroups(vendorId: VendorId): TagGroup[] {
    return this.vendorTagsOf(vendorId).groups;
  }

  tagSongs(vendorId: VendorId, tagId: string): readonly number[] | undefined {
    this.sync();
    const t = this.vendorTagsOf(vendorId);
    const slot = t.slotById.get(tagId);
    return slot === undefined ? undefined : this.live.view(t.lists[slot] as number[]);
  }

  chart(vendorId: VendorId, topId: string): readonly number[] | undefined {
    this.sync();
    const list = this.charts[this.slotOf(vendorId)]?.get(topId);
    return list === undefined ? undefined : this.live.view(list);
  }

  search(keyword: string, vendorId: VendorId | "all", filter: readonly number[] = []): readonly number[] {
    const mask = filterMask(filter);
    this.sync();
    const key = `${this.live.version}|${vendorId}|${mask.require}|${mask.forbid}|${keyword}`;
    const hit = this.searchCache.get(key);
    if (hit) return hit;
    const anyVendor = vendorId === "all";
    const vs = anyVendor ? -1 : this.slotOf(vendorId);
    const accept = (i: number) => {
      const f = this.flagsNow(i);
      return passes(f, mask) && (anyVendor || (f & VENDOR_MASK) === vs);
    };
    const out = this.index.search(keyword, accept, SEARCH_LIMIT);
    if (keyword.length <= CACHE_KEYWORD_MAX) this.searchCache.set(key, out);
    return out;
  }

  tips(keyword: string, vendorId: VendorId): string[] {
    this.sync();
    const key = `${this.live.version}|${vendorId}|${keyword}`;
    const hit = this.tipsCache.get(key);
    if (hit) return hit.slice();
    const vs = this.slotOf(vendorId);
    const accept = (i: number) => {
      const f = this.flagsNow(i);
      return (f & F_REVOKED) === 0 && (f & VENDOR_MASK) === vs;
    };
    const out = this.index.tips(keyword, accept, TIPS_LIMIT);
    if (keyword.length <= CACHE_KEYWORD_MAX) this.tipsCache.set(key, out);
    return out.slice();
  }

  listed(index: number, filter: readonly number[] = []): boolean {
    this.sync();
    return passes(this.flagsNow(index), filterMask(filter));
  }

  nameKey(index: number): number {
    return this.index.nameKey(this.songTitle[index] as number, this.songSinger[index] as number);
  }

  popularityRank(index: number): number {
    return this.rankOf[index] as number;
  }

  isRevoked(songId: string): boolean {
    return this.revocation(songId) === "all";
  }

  revocation(songId: string): Revocation {
    if (this.revoked.has(songId)) return "all";
    this.sync();
    if (this.overlayVersion === 0) return "none";
    const i = this.indexOf(songId);
    if (i === undefined) return "none";
    const level = this.overlayLevel(i);
    return level === L_ALL ? "all" : level === L_LISTEN_ONLY ? "listen_only" : "none";
  }

  useRevocations(overlay: RevocationOverlay | null): void {
    this.overlay = overlay;
    this.overlayVersion = -1;
    this.sync();
  }

  revoke(songId: string): boolean {
    return this.setRevoked(songId, true);
  }

  restore(songId: string): boolean {
    return this.setRevoked(songId, false);
  }

  reset(): void {
    for (const id of [...this.revoked]) this.setRevoked(id, false);
  }

  version(): number {
    this.sync();
    return this.live.version;
  }

  /** Sizes of the generated vocabularies, for logs and the scale bench. */
  describe() {
    return {
      songs: this.size,
      singers: this.pools.singers.length,
      titles: this.pools.titles.length,
      albums: this.pools.albums.length,
      distinct_search_strings: this.index.distinctStrings,
    };
  }

  private setRevoked(songId: string, revoked: boolean): boolean {
    const i = this.indexOf(songId);
    if (i === undefined) return false;
    if (this.revoked.has(songId) === revoked) return true;
    if (revoked) {
      this.revoked.add(songId);
      this.flags[i] = (this.flags[i] as number) | F_REVOKED;
    } else {
      this.revoked.delete(songId);
      this.flags[i] = (this.flags[i] as number) & ~F_REVOKED;
    }
    this.changed();
    return true;
  }

  private changed(): void {
    this.live.changed(this.revoked.size > 0 || this.overlayVersion !== 0);
    this.searchCache.clear();
    this.tipsCache.clear();
  }

  /** Follows the overlay: a new version forgets the memoised levels and the list and search caches. */
  private sync(): void {
    const v = this.overlay?.version() ?? 0;
    if (v === this.overlayVersion) return;
    this.overlayVersion = v;
    if (v !== 0) {
      if (this.overlayLevels) this.overlayLevels.fill(0);
      else this.overlayLevels = new Uint8Array(this.size);
    }
    this.changed();
  }

  /** The overlay's level of song i under the current version (callers have synced and checked it is on). */
  private overlayLevel(i: number): number {
    const levels = this.overlayLevels as Uint8Array;
    let l = levels[i] as number;
    if (l === 0) {
      const vendor = VENDOR_ORDER[(this.flags[i] as number) & VENDOR_MASK] as VendorId;
      l = LEVEL_OF[(this.overlay as RevocationOverlay).level(this.ids.encode(vendor, i), vendor)];
      levels[i] = l;
    }
    return l;
  }

  /** Song i's flags with the overlay applied: revoked, or without lyric rights when listen-only. */
  private flagsNow(i: number): number {
    const f = this.flags[i] as number;
    if (this.overlayVersion === 0) return f;
    const l = this.overlayLevel(i);
    return l === L_ALL ? f | F_REVOKED : l === L_LISTEN_ONLY ? f & ~F_LYRIC : f;
  }

  /** Facts with current rights: a listen-only song reports no lyric (accompaniment) right. */
  private factsNow(i: number): SongFacts {
    const facts = this.songs.facts(i);
    this.sync();
    if (this.overlayVersion !== 0 && this.overlayLevel(i) === L_LISTEN_ONLY) {
      facts.item.copyright = { ...facts.item.copyright, song_lyric: 0 };
    }
    return facts;
  }

  private slotOf(vendorId: VendorId): number {
    const vs = vendorSlot(vendorId);
    if (vs < 0) throw new RangeError(`unknown vendor ${vendorId}`);
    return vs;
  }

  private vendorTagsOf(vendorId: VendorId) {
    return this.tags[this.slotOf(vendorId)] as (typeof this.tags)[number];
  }
}

export function createCatalog(seed: number, size: number): SeededCatalog {
  return new SeededCatalog(seed, size);
}
