import type { ExtendedCommand } from "../command.ts";
import { songInVendor } from "../lookup.ts";
import { songIdParam } from "../params.ts";

/** Chorus parts come from the word-timed lyrics: a song without KRC has none. Times are in the full song. */
export const krcSegment: ExtendedCommand = {
  name: "/song/accompany/krc/segment",
  vendors: [0, 1],
  run({ sim, vendor, params }) {
    const f = songInVendor(sim.catalog, songIdParam(params), vendor);
    return {
      tags: f.has_krc ? f.chorus.map((c) => ({ start: c.start, end: c.end, tags: [...c.tags] })) : [],
    };
  },
};
