import { ContentPool } from "./content-pool.ts";
import { SharedAudioStore } from "./shared-audio.ts";
import { SharedVoiceStore } from "./shared-voice.ts";

// The audio a worker thread shares between its virtual users: song bytes (interned once, also for a memory
// download cache), the songs' decoded and resampled accompaniment, and the synthetic voices. Everything here is
// per thread and single-threaded: create one set per worker (worker threads have their own module instances).

export { ContentPool, contentHint } from "./content-pool.ts";
export type { StreamCursor } from "./rendered-stream.ts";
export { SharedAudioStore, SharedSong } from "./shared-audio.ts";
export { profileForSeed, SharedVoiceStore, type VoiceProfile, voiceProfile } from "./shared-voice.ts";
export { parseWavBytes, WavBytesReader } from "./wav-bytes.ts";

export interface ThreadAudio {
  pool: ContentPool;
  songs: SharedAudioStore;
  voices: SharedVoiceStore;
}

export interface ThreadAudioOptions {
  /** Rendered bytes kept for songs nobody plays (default 256 MiB). */
  songBudgetBytes?: number;
  /** Rendered bytes kept for voices nobody sings (default 256 MiB). */
  voiceBudgetBytes?: number;
}

export function createThreadAudio(o: ThreadAudioOptions = {}): ThreadAudio {
  const pool = new ContentPool();
  return {
    pool,
    songs: new SharedAudioStore({
      pool,
      ...(o.songBudgetBytes !== undefined ? { budgetBytes: o.songBudgetBytes } : {}),
    }),
    voices: new SharedVoiceStore(o.voiceBudgetBytes !== undefined ? { budgetBytes: o.voiceBudgetBytes } : {}),
  };
}
