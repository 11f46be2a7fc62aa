import { ALL_VENDORS, type CommandContext, type ExtendedCommand } from "../command.ts";
import { codesKey } from "../page-cache.ts";
import { items, pageOf } from "../paging.ts";
import { filter, illegal, page, reqString } from "../params.ts";

/** The params the answer depends on, checked in the vendor's order. */
function query({ params }: CommandContext) {
  return { tagId: reqString(params, "tag_id"), p: page(params, true), codes: filter(params, [1, 3, 4]) };
}

export const tagSong: ExtendedCommand = {
  name: "/tag/song",
  vendors: ALL_VENDORS,
  run(ctx) {
    const { sim, vendor } = ctx;
    const { tagId, p, codes } = query(ctx);
    const list = sim.catalog.tagSongs(vendor, tagId);
    if (!list)
      throw illegal("tag_id", `${JSON.stringify(tagId).slice(0, 40)} is not a tag of vendor ${vendor}`);
    return {
      songs: items(
        sim.catalog,
        pageOf(list, p, (i) => sim.catalog.listed(i, codes)),
      ),
    };
  },
  pageKey(ctx) {
    const { tagId, p, codes } = query(ctx);
    return `${p}|${codesKey(codes)}|${tagId}`;
  },
};
