import type { ResourceType, VendorId } from "../../protocol/enums.ts";
import type { Catalog, SongFacts } from "../catalog/types.ts";
import { VendorError } from "../errors.ts";

/** The song in this vendor's library (1017072 otherwise: unknown ids and other vendors' ids alike). */
export function songInVendor(catalog: Catalog, songId: string, vendor: VendorId): SongFacts {
  const facts = catalog.get(songId);
  if (!facts || facts.item.vendor_id !== vendor) throw new VendorError(1017072);
  return facts;
}

/**
 * Whether this song may be handed out as this resource type now (copyright flags of spec §1): 1017030 revoked
 * or no right for the type at all, 1017031 listen-only song asked for an accompaniment, 1017033 no
 * accompaniment, 1017034 no clip / short segment for this song.
 */
export function checkSongRights(catalog: Catalog, facts: SongFacts, type: ResourceType): void {
  const { item } = facts;
  if (catalog.isRevoked(item.song_id)) throw new VendorError(1017030, "no copyright: the song was revoked");
  const { recording, song_lyric } = item.copyright;
  if (type === 0) {
    if (recording !== 1)
      throw new VendorError(1017030, "no copyright: no recording right to play the original");
    return;
  }
  if (song_lyric !== 1) throw new VendorError(recording === 1 ? 1017031 : 1017030);
  if (!facts.has_accompaniment) throw new VendorError(1017033);
  if (type === 2 || (type === 3 && item.vendor_id !== 2)) {
    if (item.has_clip === 0) throw new VendorError(1017034, "resource does not exist: the song has no clip");
  } else if (type === 3 && item.has_short_segment === 2) {
    throw new VendorError(1017034, "resource does not exist: the song has no short segment");
  }
}
