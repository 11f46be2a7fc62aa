// What the media player needs from the copyrighted-music module, as an interface so the player does not depend
// on the module's class (the engine wires the two; tests pass a fake). The resources also say how a file is
// opened: from disk, from bytes in memory (a memory download cache), and through a worker's shared audio.

import type { SharedAudioStore } from "../audio/shared-audio.ts";

export type PlayableLookup =
  | {
      errorCode: 0;
      /** The downloaded, verified WAV in the cache (with `bytes`: the name of the copy in memory). */
      path: string;
      /** The CDN tier, which fixes channels per track: normal = mono, hq / sq = stereo. */
      quality: "normal" | "hq" | "sq";
      /** The file's bytes when the cache holds them in memory: read these, not `path`. */
      bytes?: Uint8Array;
      /**
       * Play through this thread's shared audio: decoded and resampled once per thread for every player that
       * loads the same bytes, instead of a file reader and a resampler per player.
       */
      audio?: SharedAudioStore;
    }
  | { errorCode: number };

export interface PlayableResources {
  /**
   * The file behind a resource id, or why it cannot be played: 1017004 empty id, 1017096 module not
   * initialised, 1017018 not obtained by this session, 1008011 expired, 1017013 not downloaded (or removed by
   * clearCache).
   */
  resolvePlayable(resourceID: string): PlayableLookup;
}
