import { ALL_VENDORS, type ExtendedCommand } from "../command.ts";
import { items, pageOf } from "../paging.ts";
import { filter, keywordParam, page } from "../params.ts";

const always = () => true;

export const searchSong: ExtendedCommand = {
  name: "/search/song",
  vendors: ALL_VENDORS,
  run({ sim, vendor, params }) {
    const keyword = keywordParam(params);
    const p = page(params, false);
    const codes = filter(params, [1, 2, 3, 4]);
    // The catalog applies revocation and the filter codes, so the ranked list pages as is.
    const ranked = sim.catalog.search(keyword, vendor, codes);
    return { songs: items(sim.catalog, pageOf(ranked, p, always)) };
  },
};
