import type { SongItem } from "../../catalog/types.ts";
import { ALL_VENDORS, type ExtendedCommand } from "../command.ts";
import { songInVendor } from "../lookup.ts";
import { reqStringList } from "../params.ts";

export const MAX_INFO_IDS = 30;

/** A revoked song keeps its metadata but reports no rights, so a client holding its id learns it is gone. */
export function withCurrentRights(item: SongItem, revoked: boolean): SongItem {
  if (!revoked) return item;
  return { ...item, copyright: { song_lyric: 0, recording: 0, channel: item.copyright.channel } };
}

export const songInfos: ExtendedCommand = {
  name: "/song/infos",
  vendors: ALL_VENDORS,
  run({ sim, vendor, params }) {
    const ids = reqStringList(params, "songs_id", MAX_INFO_IDS);
    const songs = ids.map((id) => {
      const f = songInVendor(sim.catalog, id, vendor);
      return withCurrentRights(f.item, sim.catalog.isRevoked(id));
    });
    return { songs };
  },
};
