import type { VendorId } from "../../protocol/enums.ts";

/** The spec's `songs[]` item, field for field (vendor-2-only and non-vendor-2 fields are optional). */
export interface SongItem {
  song_id: string;
  song_name: string;
  singer_id: string;
  singer_name: string;
  singer_img: string;
  album_id: string;
  album_name: string;
  album_img: string;
  album_img_mini: string;
  album_img_small: string;
  album_img_medium: string;
  /** ms */
  duration: number;
  /** ms */
  accompany_duration: number;
  vendor_id: VendorId;
  /** 0/1; omitted for vendor 2. */
  has_clip?: 0 | 1;
  /** 1 yes, 2 no; vendor 2 only. */
  pitch_ability?: 1 | 2;
  /** 1 yes, 2 no; vendor 2 only. */
  has_short_segment?: 1 | 2;
  copyright: { song_lyric: 0 | 1; recording: 0 | 1; channel: number };
}

/**
 * What the simulator knows about a song beyond the list item: everything resources, lyrics, pitch and audio
 * need, derived deterministically from (seed, index). Times are ms within the full song.
 */
export interface SongFacts {
  item: SongItem;
  /** Position in the catalog; also the song's generation key. */
  index: number;
  /** A 32-bit key mixing the catalog seed and the song: seeds audio, lyrics and pitch generation. */
  key: number;
  /** Accompaniment exists (requestable as type 1/2/3 when copyright.song_lyric = 1). */
  has_accompaniment: boolean;
  /** Dual-track accompaniment: the accompaniment file carries the original vocal as a second track. */
  has_original: 0 | 1;
  /** Word-by-word (KRC) lyrics exist (filter code 3). */
  has_krc: boolean;
  /** A standard pitch line exists (filter code 4). */
  has_pitch: boolean;
  /** Title contains "纯音乐" (filter code 2). */
  pure_music: boolean;
  bpm: number;
  bpm_type: "0" | "1" | "2" | "3";
  genres: number[];
  /** Long clip (~40 s), position in the full song; prelude = intro inside the clip. */
  clip: { segment_begin: number; segment_end: number; prelude_duration: number };
  /** Short segment (~20 s) relative to the long clip, plus other candidate segments (vendors 0/1). */
  segment: { begin: number; end: number; other_segments: { begin: number; end: number }[] };
  /** End of the song's intro = first vocal (ms in the full song): /api/get_prelude_end_time for whole-song files. */
  intro_end: number;
  /** Chorus parts for /song/accompany/krc/segment. The main chorus (tags "1","2") starts the long clip's vocals. */
  chorus: { start: number; end: number; tags: string[] }[];
}

export interface TagGroup {
  group_id: string;
  group_name: string;
  tags: { tag_id: string; tag_name: string }[];
}

export interface SearchOptions {
  vendorId: VendorId;
  /** Filter codes of the spec (1,2,3,4). */
  filter: number[];
}

/** How a song's rights are withdrawn now: not at all, everything, or the accompaniment (listen only). */
export type Revocation = "none" | "all" | "listen_only";

/**
 * Revocations from outside the admin API (the fault engine's revocation faults). The catalog asks `version()`
 * on every query and re-asks `level` for a song only when the version changed, so both must be cheap.
 */
export interface RevocationOverlay {
  /** 0 while the overlay revokes nothing; otherwise a number that changes whenever its song set may have. */
  version(): number;
  /** What the overlay withdraws from this song under the current version. */
  level(songId: string, vendorId: VendorId): Revocation;
}

/** Read side of the catalog shared by every surface. Revoked songs are still known (get) but never listed. */
export interface Catalog {
  readonly seed: number;
  readonly size: number;
  /** Lookup by song_id (any vendor); undefined when no such song exists. */
  get(songId: string): SongFacts | undefined;
  /** The song at a catalog index (0..size-1). */
  at(index: number): SongFacts;
  tagGroups(vendorId: VendorId): TagGroup[];
  /** Song indexes tagged with tag_id for this vendor, in stable order; undefined for an unknown tag. */
  tagSongs(vendorId: VendorId, tagId: string): readonly number[] | undefined;
  /** Chart song indexes for (vendor, top_id), in chart order; undefined for an unsupported top_id. */
  chart(vendorId: VendorId, topId: string): readonly number[] | undefined;
  /**
   * Ranked substring match on song name and singer name (exact > prefix > substring, then popularity,
   * case-insensitive); returns indexes, best first, without revoked songs or songs failing `filter`
   * (spec filter codes 1-4; RangeError for others). Capped (SEARCH_LIMIT in index.ts).
   */
  search(keyword: string, vendorId: VendorId | "all", filter?: readonly number[]): readonly number[];
  /** Suggestion words for a keyword prefix. */
  tips(keyword: string, vendorId: VendorId): string[];
  /** The index a song id names; undefined for unknown or ill-formed ids. */
  indexOf(songId: string): number | undefined;
  /** Not revoked and passing the filter codes (1-4): may this song appear in a list? O(1). */
  listed(index: number, filter?: readonly number[]): boolean;
  /** Equal for two songs exactly when their song and singer names are equal (case-insensitive). */
  nameKey(index: number): number;
  /** 0 = most popular; ranks are a permutation of 0..size-1 (a load generator can draw songs Zipf-like). */
  popularityRank(index: number): number;
  /** Revoked now, by the admin API or a revocation fault (all rights withdrawn). */
  isRevoked(songId: string): boolean;
  /**
   * The song's current revocation, admin and overlay combined. A listen-only song stays listed and its facts
   * (`get`, `at`) report `copyright.song_lyric` 0, so rights checks answer 1017031 for accompaniments.
   */
  revocation(songId: string): Revocation;
  /** Where revocations from outside the admin API come from (null: none). */
  useRevocations(overlay: RevocationOverlay | null): void;
  revoke(songId: string): boolean;
  restore(songId: string): boolean;
  /** Back to the seeded state (no revocations). */
  reset(): void;
  /**
   * A number that changes whenever anything a list or song answer depends on may have changed (an admin
   * revocation or restore, a new revocation-overlay version); asking it follows the overlay first. Caches of
   * rendered answers key on it.
   */
  version(): number;
}
