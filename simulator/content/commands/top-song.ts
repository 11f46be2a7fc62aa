import { VendorError } from "../../errors.ts";
import type { CommandContext, ExtendedCommand } from "../command.ts";
import { codesKey } from "../page-cache.ts";
import { items, pageOf } from "../paging.ts";
import { filter, page, reqString } from "../params.ts";

/** The params the answer depends on, checked in the vendor's order. */
function query({ params }: CommandContext) {
  return { topId: reqString(params, "top_id"), p: page(params, false), codes: filter(params, [1, 3, 4]) };
}

export const topSong: ExtendedCommand = {
  name: "/top/song",
  vendors: [0, 1, 2],
  run(ctx) {
    const { sim, vendor } = ctx;
    const { topId, p, codes } = query(ctx);
    const chart = sim.catalog.chart(vendor, topId);
    if (!chart)
      throw new VendorError(
        1017077,
        `unsupported top_id ${JSON.stringify(topId).slice(0, 40)} for vendor ${vendor}`,
      );
    return {
      songs: items(
        sim.catalog,
        pageOf(chart, p, (i) => sim.catalog.listed(i, codes)),
      ),
    };
  },
  pageKey(ctx) {
    const { topId, p, codes } = query(ctx);
    return `${p}|${codesKey(codes)}|${topId}`;
  },
};
