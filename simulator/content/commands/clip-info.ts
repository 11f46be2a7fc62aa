import { ALL_VENDORS, type ExtendedCommand } from "../command.ts";
import { songInVendor } from "../lookup.ts";
import { songIdParam } from "../params.ts";

/**
 * Vendors 0/1 answer the long clip's place in the full song; vendor 2 the short segment's (it has no long
 * clip). Vendor 4 has neither, and a song without the clip answers zeros, like an unset field.
 */
export const clipInfo: ExtendedCommand = {
  name: "/song/accompany/clip_info",
  vendors: ALL_VENDORS,
  run({ sim, vendor, params }) {
    const f = songInVendor(sim.catalog, songIdParam(params), vendor);
    if (vendor === 2) {
      const has = f.item.has_short_segment === 1;
      return {
        short_segment_begin: has ? f.clip.segment_begin + f.segment.begin : 0,
        short_segment_end: has ? f.clip.segment_begin + f.segment.end : 0,
      };
    }
    const has = f.item.has_clip === 1;
    return {
      segment_begin: has ? f.clip.segment_begin : 0,
      segment_end: has ? f.clip.segment_end : 0,
    };
  },
};
