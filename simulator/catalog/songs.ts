import type { VendorId } from "../../protocol/enums.ts";
import { albumId, type SongIdCodec, singerId } from "./ids.ts";
import type { Pools } from "./pools.ts";
import { cumulate, Draws, drawFloat, hash3, unit, weighted } from "./prng.ts";
import type { SongFacts, SongItem } from "./types.ts";

// Each attribute family reads its own lane, so the cheap ones (vendor, rights, filter flags) that start-up
// needs for every song never pay for the expensive ones (strings, structure) that only `at()` builds.
const L_DUP = 1;
const L_DUP_OF = 2;
const L_VENDOR = 3;
const L_WORK = 4;
const L_RIGHTS = 5;
const L_CONTENT = 6;
const L_ITEM = 7;
const L_STRUCT = 8;
const L_KEY = 9;
const L_GENRE = 10;

export const VENDOR_ORDER: readonly VendorId[] = [0, 1, 2, 4];
/** Share of the catalog per vendor (0, 1, 2, 4). */
const VENDOR_CUM = cumulate([45, 30, 15, 10]);
/** Songs that are another vendor's listing of an earlier song (same name and singer). */
const DUP_RATE = 0.08;
const DUP_WINDOW = 32;
const PURE_RATE = 0.03;

/** Genre ids 1..27; pop (20) dominates like on real charts. Fixed ids: 2 DJ, 23 pure music, 27 trendy. */
const GENRE_IDS = Array.from({ length: 27 }, (_, k) => k + 1);
const GENRE_CUM = cumulate(
  GENRE_IDS.map((g) => ({ 20: 30, 27: 8, 3: 5, 22: 5, 2: 4, 1: 3, 10: 3, 5: 3 })[g] ?? 1.5),
);

export const IMG_HOST = "https://img.ktv-sim.invalid";

/** The per-song attributes start-up needs for every song (filters, vendor, search keys). */
export interface SongCore {
  vendor: VendorId;
  /** Index whose name/singer this song shares (itself unless it is another vendor's copy). */
  work: number;
  singer: number;
  title: number;
  song_lyric: 0 | 1;
  recording: 0 | 1;
  accompaniment: boolean;
  krc: boolean;
  pitch: boolean;
  pure: boolean;
}

/** Flags packed in one byte per song so list filters never materialise a song. */
export const F_LYRIC = 1 << 2;
export const F_KRC = 1 << 3;
export const F_PITCH = 1 << 4;
export const F_PURE = 1 << 5;
export const F_RECORDING = 1 << 6;
export const F_REVOKED = 1 << 7;
export const VENDOR_MASK = 3;
const SLOT_OF_VENDOR: Record<number, number> = { 0: 0, 1: 1, 2: 2, 4: 3 };
/** Position of a vendor in VENDOR_ORDER (the low bits of a song's flags); -1 for a non-vendor. */
export const vendorSlot = (v: number): number => SLOT_OF_VENDOR[v] ?? -1;

const round10 = (ms: number) => Math.round(ms / 10) * 10;
const byNumber = (a: number, b: number) => a - b;

export class SongFactory {
  constructor(
    private readonly seed: number,
    readonly size: number,
    private readonly pools: Pools,
    private readonly ids: SongIdCodec,
  ) {}

  private rawDup(i: number): boolean {
    return unit(hash3(this.seed, i, L_DUP)) < DUP_RATE;
  }

  /** The earlier song this one duplicates, or -1. A copy never copies a copy, so there is no chain. */
  dupOf(i: number): number {
    if (!this.rawDup(i)) return -1;
    const j = i - 1 - (hash3(this.seed, i, L_DUP_OF) % DUP_WINDOW);
    return j >= 0 && !this.rawDup(j) ? j : -1;
  }

  private baseVendor(i: number): VendorId {
    return VENDOR_ORDER[weighted(unit(hash3(this.seed, i, L_VENDOR)), VENDOR_CUM)] as VendorId;
  }

  /** The song's start-up attributes; pass `out` to reuse one object across a loop. */
  core(i: number, out?: SongCore): SongCore {
    const dup = this.dupOf(i);
    const work = dup < 0 ? i : dup;
    let vendor = this.baseVendor(i);
    if (dup >= 0) {
      // Another vendor than the original's: skip over it in the 4-vendor ring.
      const orig = vendorSlot(this.baseVendor(dup));
      const step = 1 + (hash3(this.seed, i, L_VENDOR + 100) % 3);
      vendor = VENDOR_ORDER[(orig + step) % 4] as VendorId;
    }
    // Same draws as `new Draws(seed, work, L_WORK)` read in order, without the allocation.
    const wb = hash3(this.seed, work, L_WORK);
    const p = this.pools;
    const singer = Math.floor(p.singers.length * drawFloat(wb, 0) ** 1.7);
    const pure = drawFloat(wb, 1) < PURE_RATE;
    let title: number;
    if (pure) title = p.enEnd + Math.floor(drawFloat(wb, 2) * (p.titles.length - p.enEnd));
    else {
      const zh = (p.singerLang[singer] === 0) === drawFloat(wb, 2) < 0.9;
      const u = drawFloat(wb, 3);
      title = zh ? Math.floor(u * p.zhEnd) : p.zhEnd + Math.floor(u * (p.enEnd - p.zhEnd));
    }
    const r = unit(hash3(this.seed, i, L_RIGHTS));
    // Most songs are singable and listenable; some listen-only, some sing-only, a few without any rights.
    const song_lyric: 0 | 1 = r < 0.74 || (r >= 0.86 && r < 0.95) ? 1 : 0;
    const recording: 0 | 1 = r < 0.86 ? 1 : 0;
    const cb = hash3(this.seed, i, L_CONTENT);
    const accompaniment = drawFloat(cb, 0) < 0.92;
    let n = 1;
    const krc = !pure && drawFloat(cb, n++) < 0.88;
    const pitch = krc && accompaniment && drawFloat(cb, n++) < 0.9;
    const o = out ?? ({} as SongCore);
    o.vendor = vendor;
    o.work = work;
    o.singer = singer;
    o.title = title;
    o.song_lyric = song_lyric;
    o.recording = recording;
    o.accompaniment = accompaniment;
    o.krc = krc;
    o.pitch = pitch;
    o.pure = pure;
    return o;
  }

  flags(core: SongCore): number {
    return (
      vendorSlot(core.vendor) |
      (core.song_lyric ? F_LYRIC : 0) |
      (core.krc ? F_KRC : 0) |
      (core.pitch ? F_PITCH : 0) |
      (core.pure ? F_PURE : 0) |
      (core.recording ? F_RECORDING : 0)
    );
  }

  facts(i: number): SongFacts {
    const core = this.core(i);
    const p = this.pools;
    const v = core.vendor;
    const work = new Draws(this.seed, core.work, L_ITEM);
    const own = new Draws(this.seed, i, L_ITEM);
    const song_name = p.titles[core.title] as string;
    const singer_name = p.singers[core.singer] as string;
    const slot = work.int(0, (p.singerAlbums[core.singer] as number) - 1);
    const album_name = p.albums[hash3(this.seed, core.singer * 8 + slot, 0xa1b) % p.albums.length] as string;
    const duration = work.int(120_000, 360_000);
    const accompany_duration = core.accompaniment ? Math.max(60_000, duration + own.int(-1500, 1500)) : 0;
    const s_id = singerId(v, core.singer);
    const a_id = albumId(v, core.singer, slot);
    const channel =
      v === 0 ? (own.chance(0.85) ? 0 : own.int(1, 3)) : own.chance(0.1) ? 0 : own.pick([1, 1, 2, 2, 3, 5]);
    const has_original: 0 | 1 = core.accompaniment && !core.pure && own.chance(0.4) ? 1 : 0;
    const clipFlag = core.accompaniment && own.chance(0.75);
    const shortFlag = core.accompaniment && own.chance(0.7);
    const albumImg = `${IMG_HOST}/v${v}/album/${a_id}`;
    // Built field by field in the spec's key order (no object spread: it is slow on this hot path).
    const item = {
      song_id: this.ids.encode(v, i),
      song_name,
      singer_id: s_id,
      singer_name,
      singer_img: `${IMG_HOST}/v${v}/singer/${s_id}.jpg`,
      album_id: a_id,
      album_name,
      album_img: `${albumImg}.jpg`,
      album_img_mini: `${albumImg}_100.jpg`,
      album_img_small: `${albumImg}_300.jpg`,
      album_img_medium: `${albumImg}_500.jpg`,
      duration,
      accompany_duration,
      vendor_id: v,
    } as SongItem;
    // Vendor 2 has its own flags instead of has_clip.
    if (v === 2) {
      item.pitch_ability = core.pitch ? 1 : 2;
      item.has_short_segment = shortFlag ? 1 : 2;
    } else {
      item.has_clip = v !== 4 && clipFlag ? 1 : 0;
    }
    item.copyright = { song_lyric: core.song_lyric, recording: core.recording, channel };

    const bpm = work.int(60, 180);
    const bpm_type: SongFacts["bpm_type"] = work.chance(0.05) ? "0" : bpm < 80 ? "1" : bpm <= 120 ? "2" : "3";
    const genres = this.genres(core.work, core.pure, song_name);
    const st = this.structure(i, duration, v);
    return {
      item,
      index: i,
      key: hash3(this.seed, i, L_KEY),
      has_accompaniment: core.accompaniment,
      has_original,
      has_krc: core.krc,
      has_pitch: core.pitch,
      pure_music: core.pure,
      bpm,
      bpm_type,
      genres,
      intro_end: st.intro_end,
      clip: st.clip,
      segment: st.segment,
      chorus: st.chorus,
    };
  }

  /** Genre ids of a song's work (a cross-vendor copy shares them): pure music is 23, "DJ" titles are 2. */
  genres(work: number, pure: boolean, name: string): number[] {
    const base = hash3(this.seed, work, L_GENRE);
    const out: number[] = [];
    if (pure) out.push(23);
    if (name.includes("DJ")) out.push(2);
    const n = 1 + Math.floor(drawFloat(base, 0) * 3);
    for (let k = 1; out.length < n && k < 9; k++) {
      const g = GENRE_IDS[weighted(drawFloat(base, k), GENRE_CUM)] as number;
      if (!out.includes(g)) out.push(g);
    }
    return out.sort(byNumber);
  }

  /**
   * Song form: intro, then two or three choruses. The long clip starts `prelude_duration` before the main
   * chorus (so its intro is inside it), the short segment starts at that chorus, both inside the song.
   */
  private structure(i: number, duration: number, v: VendorId) {
    const d = new Draws(this.seed, i, L_STRUCT);
    const intro_end = round10(d.int(8000, 25_000));
    const c1s = round10(Math.max(intro_end + 15_000, duration * 0.28 + d.int(-3000, 3000)));
    const c1e = c1s + round10(d.int(20_000, 32_000));
    const c2s = round10(Math.max(c1e + 8000, duration * 0.58 + d.int(-2000, 2000)));
    const c2e = Math.min(c2s + round10(d.int(20_000, 32_000)), duration - 4000);
    const chorus = [
      { start: c1s, end: c1e, tags: ["1"] },
      { start: c2s, end: c2e, tags: ["1", "2"] },
    ];
    const c3s = round10(Math.max(c2e + 8000, duration * 0.8));
    const c3e = Math.min(c3s + round10(d.int(20_000, 32_000)), duration - 4000);
    if (c3e - c3s >= 15_000) chorus.push({ start: c3s, end: c3e, tags: ["1"] });

    const prelude_duration = round10(d.int(3000, 10_000));
    const segment_begin = c2s - prelude_duration;
    const segment_end = Math.min(segment_begin + round10(d.int(35_000, 45_000)), duration);
    const clipLen = segment_end - segment_begin;
    const segBegin = Math.max(0, prelude_duration - round10(d.int(0, 2000)));
    const other_segments: { begin: number; end: number }[] = [];
    if (v === 0 || v === 1) {
      other_segments.push({ begin: 0, end: Math.min(15_000, clipLen) });
      if (d.chance(0.5)) other_segments.push({ begin: clipLen - 15_000, end: clipLen });
    }
    return {
      intro_end,
      clip: { segment_begin, segment_end, prelude_duration },
      segment: {
        begin: segBegin,
        end: Math.min(segBegin + round10(d.int(18_000, 22_000)), clipLen),
        other_segments,
      },
      chorus,
    };
  }
}
