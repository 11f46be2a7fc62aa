import { VendorError } from "../../errors.ts";
import { ALL_VENDORS, type ExtendedCommand } from "../command.ts";
import { optString } from "../params.ts";

/**
 * When singing starts, in the resource's own timeline: the song's intro end for whole-song files, the
 * clip's prelude for clip and segment files (which start at the clip).
 */
export const preludeEndTime: ExtendedCommand = {
  name: "/api/get_prelude_end_time",
  vendors: ALL_VENDORS,
  run({ sim, session, params }) {
    const rec = sim.resources.use(optString(params, "resource_id") ?? "", session);
    const f = sim.catalog.get(rec.song_id);
    if (!f) throw new VendorError(1017034, "the resource's song no longer exists");
    const prelude_end_time = rec.resource_type >= 2 ? f.clip.prelude_duration : f.intro_end;
    return { prelude_end_time };
  },
};
