import { VendorError } from "../../errors.ts";
import type { ExtendedCommand } from "../command.ts";
import { items, pageOf } from "../paging.ts";
import { filter, page, reqString } from "../params.ts";

export const topSong: ExtendedCommand = {
  name: "/top/song",
  vendors: [0, 1, 2],
  run({ sim, vendor, params }) {
    const topId = reqString(params, "top_id");
    const p = page(params, false);
    const codes = filter(params, [1, 3, 4]);
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
};
