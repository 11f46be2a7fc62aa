import type { ExtendedCommand } from "../command.ts";
import { songInVendor } from "../lookup.ts";
import { reqStringList } from "../params.ts";

export const MAX_COPYRIGHT_IDS = 20;

export const songCopyright: ExtendedCommand = {
  name: "/song/copyright",
  vendors: [0, 1],
  run({ sim, vendor, params }) {
    const ids = reqStringList(params, "songs_id", MAX_COPYRIGHT_IDS);
    const copyright = ids.map((song_id) => {
      const { copyright: c } = songInVendor(sim.catalog, song_id, vendor).item;
      const revoked = sim.catalog.isRevoked(song_id);
      const song_lyric = revoked ? 0 : c.song_lyric;
      const recording = revoked ? 0 : c.recording;
      return {
        song_id,
        right: song_lyric || recording ? 1 : 0,
        subright: { song_lyric, recording, channel: c.channel },
      };
    });
    return { copyright };
  },
};
