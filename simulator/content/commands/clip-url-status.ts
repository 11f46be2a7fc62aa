import type { ExtendedCommand } from "../command.ts";
import { songInVendor } from "../lookup.ts";
import { songIdParam } from "../params.ts";

export const clipUrlStatus: ExtendedCommand = {
  name: "/song/accompany/clip_url/status",
  vendors: [0, 1, 2],
  run({ sim, vendor, params }) {
    const f = songInVendor(sim.catalog, songIdParam(params), vendor);
    return vendor === 2
      ? { has_short_segment_url: f.item.has_short_segment === 1 ? 1 : 0 }
      : { has_clip_url: f.item.has_clip === 1 ? 1 : 0 };
  },
};
