import { readFileSync } from "node:fs";
import { Playback, type PlaybackLike } from "./playback.ts";
import type { PlayableLookup } from "./resources.ts";
import { SharedPlayback } from "./shared-playback.ts";

export type { PlaybackLike };

/**
 * Opens what a resource lookup found: through the thread's shared audio when the lookup offers it (reading a
 * file on disk whole, once per load, so its bytes can be matched), else a per-player reader of the bytes in
 * memory or of the file. Throws on a file that is not 16-bit PCM WAV (the player's 1017015).
 */
export function openPlayback(found: Extract<PlayableLookup, { path: string }>): PlaybackLike {
  if (found.audio) {
    const bytes = found.bytes ?? readFileSync(found.path);
    return new SharedPlayback(found.audio.open(bytes, found.quality));
  }
  if (found.bytes) return Playback.fromBytes(found.bytes, found.quality);
  return Playback.open(found.path, found.quality);
}
