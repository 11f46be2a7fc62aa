import type { VendorId } from "../../protocol/enums.ts";
import type { Catalog, SongFacts } from "../catalog/types.ts";
import { VendorError } from "../errors.ts";

/** The song if it is in this vendor's library (1017072 otherwise, naming the id). Revoked songs are found. */
export function songInVendor(catalog: Catalog, songId: string, vendor: VendorId): SongFacts {
  const facts = catalog.get(songId);
  if (!facts || facts.item.vendor_id !== vendor) {
    throw new VendorError(
      1017072,
      `song id ${JSON.stringify(songId).slice(0, 80)} is not in vendor ${vendor}'s library`,
    );
  }
  return facts;
}
