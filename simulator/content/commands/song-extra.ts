import type { ExtendedCommand } from "../command.ts";
import { songInVendor } from "../lookup.ts";
import { songIdParam } from "../params.ts";

export const songExtra: ExtendedCommand = {
  name: "/song/extra",
  vendors: [0, 1],
  run({ sim, vendor, params }) {
    const f = songInVendor(sim.catalog, songIdParam(params), vendor);
    return { bpm: f.bpm, bpm_type: f.bpm_type, genres: [...f.genres] };
  },
};
