import { ContentPool } from "./content-pool.ts";
import { AudioArena, type AudioArenaHandle } from "./shared-arena.ts";
import { SharedAudioStore } from "./shared-audio.ts";
import { SharedVoiceStore } from "./shared-voice.ts";

// The audio a worker thread shares between its virtual users: song bytes (interned once, also for a memory
// download cache), the songs' decoded and resampled accompaniment, and the synthetic voices. The stores are
// per thread (worker threads have their own module instances): create one set per worker. Given the process's
// arena (createAudioArena on the main thread, its handle passed to each worker), the bytes and the renderings
// behind them exist once per process: every thread's stores read and render the same shared memory.

export { ContentPool, contentHint } from "./content-pool.ts";
export type { StreamCursor } from "./rendered-stream.ts";
export { AudioArena, type AudioArenaHandle, createAudioArena } from "./shared-arena.ts";
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
  /**
   * The process's shared memory (a handle from createAudioArena, or this thread's view of one). Default: the one
   * given to `useProcessAudio` in this thread, if any; null: none (everything per thread).
   */
  arena?: AudioArenaHandle | AudioArena | null;
  /** Output frames per rendered chunk, a multiple of 480 (default 4,800: 100 ms). */
  chunkFrames?: number;
  /** In the arena, store mono tracks mono (default false; SharedAudioOptions.monoStorage). */
  monoStorage?: boolean;
  /** In the arena, store voices mono (default true; SharedVoiceOptions.monoStorage). */
  voiceMonoStorage?: boolean;
}

let processArena: AudioArena | null = null;

/**
 * Makes `handle` (from createAudioArena, passed by the runner in workerData) this thread's default arena for
 * createThreadAudio: call it before the first VU starts. Null detaches.
 */
export function useProcessAudio(handle: AudioArenaHandle | null): void {
  processArena = handle ? new AudioArena(handle) : null;
}

/** The arena useProcessAudio gave this thread, if any. */
export function processAudioArena(): AudioArena | null {
  return processArena;
}

export function createThreadAudio(o: ThreadAudioOptions = {}): ThreadAudio {
  const given = o.arena === undefined ? processArena : o.arena;
  const arena = given === null ? null : given instanceof AudioArena ? given : new AudioArena(given);
  const pool = new ContentPool(arena);
  return {
    pool,
    songs: new SharedAudioStore({
      pool,
      ...(o.songBudgetBytes !== undefined ? { budgetBytes: o.songBudgetBytes } : {}),
      ...(o.chunkFrames !== undefined ? { chunkFrames: o.chunkFrames } : {}),
      ...(o.monoStorage !== undefined ? { monoStorage: o.monoStorage } : {}),
    }),
    voices: new SharedVoiceStore({
      arena,
      ...(o.chunkFrames !== undefined ? { chunkFrames: o.chunkFrames } : {}),
      ...(o.voiceMonoStorage !== undefined ? { monoStorage: o.voiceMonoStorage } : {}),
      ...(o.voiceBudgetBytes !== undefined ? { budgetBytes: o.voiceBudgetBytes } : {}),
    }),
  };
}
