import { VENDOR_IDS, type VendorId } from "../../protocol/enums.ts";
import { FeistelPermutation, hash3 } from "./prng.ts";

// Song ids look like the vendor's (plain digit strings, e.g. 28466292) and encode the catalog index through
// a keyed 24-bit permutation plus a per-vendor offset, so id -> index is O(1) with no lookup table, and
// neighbouring indexes get unrelated ids.

export const ID_BITS = 24;
/** The largest catalog the id space can address. */
export const MAX_CATALOG_SIZE = 2 ** ID_BITS;

/** Disjoint id ranges per vendor; the digit counts differ like different providers' ids do. */
const SONG_BASE: Record<VendorId, number> = {
  0: 10_000_000,
  1: 30_000_000,
  2: 600_000_000,
  4: 2_000_000_000,
};
const SINGER_BASE: Record<VendorId, number> = { 0: 100_000, 1: 3_000_000, 2: 60_000_000, 4: 800_000 };
const ALBUM_BASE: Record<VendorId, number> = { 0: 1_000_000, 1: 5_000_000, 2: 70_000_000, 4: 9_000_000 };

const DIGITS = /^[1-9][0-9]{6,9}$/;

export class SongIdCodec {
  private readonly perm: FeistelPermutation;
  constructor(seed: number) {
    this.perm = new FeistelPermutation(ID_BITS, hash3(seed, 0, 0x1d));
  }
  encode(vendor: VendorId, index: number): string {
    return String(SONG_BASE[vendor] + this.perm.forward(index));
  }
  /** The (vendor, index) an id names, before checking the catalog's size or the index's vendor. */
  decode(songId: string): { vendor: VendorId; index: number } | undefined {
    if (typeof songId !== "string" || !DIGITS.test(songId)) return undefined;
    const n = Number(songId);
    for (const v of VENDOR_IDS) {
      const off = n - SONG_BASE[v];
      if (off >= 0 && off < MAX_CATALOG_SIZE) return { vendor: v, index: this.perm.inverse(off) };
    }
    return undefined;
  }
}

export const singerId = (vendor: VendorId, singer: number): string => String(SINGER_BASE[vendor] + singer);
export const albumId = (vendor: VendorId, singer: number, slot: number): string =>
  String(ALBUM_BASE[vendor] + singer * 8 + slot);
