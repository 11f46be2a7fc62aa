import { ALL_VENDORS, type CommandContext, type ExtendedCommand } from "../command.ts";
import { codesKey } from "../page-cache.ts";
import { items, pageOf } from "../paging.ts";
import { filter, keywordParam, page } from "../params.ts";

const always = () => true;

/** The params the answer depends on, checked in the vendor's order. */
function query({ params }: CommandContext) {
  return { keyword: keywordParam(params), p: page(params, false), codes: filter(params, [1, 2, 3, 4]) };
}

export const searchSong: ExtendedCommand = {
  name: "/search/song",
  vendors: ALL_VENDORS,
  run(ctx) {
    const { sim, vendor } = ctx;
    const { keyword, p, codes } = query(ctx);
    // The catalog applies revocation and the filter codes, so the ranked list pages as is.
    const ranked = sim.catalog.search(keyword, vendor, codes);
    return { songs: items(sim.catalog, pageOf(ranked, p, always)) };
  },
  pageKey(ctx) {
    const { keyword, p, codes } = query(ctx);
    return `${p}|${codesKey(codes)}|${keyword}`;
  },
};
