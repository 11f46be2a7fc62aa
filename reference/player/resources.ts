// What the media player needs from the copyrighted-music module, as an interface so the player does not depend
// on the module's class (the engine wires the two; tests pass a fake).

export type PlayableLookup =
  | {
      errorCode: 0;
      /** The downloaded, verified WAV in the cache. */
      path: string;
      /** The CDN tier, which fixes channels per track: normal = mono, hq / sq = stereo. */
      quality: "normal" | "hq" | "sq";
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
