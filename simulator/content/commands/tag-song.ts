import { ALL_VENDORS, type ExtendedCommand } from "../command.ts";
import { items, pageOf } from "../paging.ts";
import { filter, illegal, page, reqString } from "../params.ts";

export const tagSong: ExtendedCommand = {
  name: "/tag/song",
  vendors: ALL_VENDORS,
  run({ sim, vendor, params }) {
    const tagId = reqString(params, "tag_id");
    const p = page(params, true);
    const codes = filter(params, [1, 3, 4]);
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
};
