import { FRAME_FRAMES, FRAME_SAMPLES } from "../mixer/frame.ts";
import { type PitchNote, VoiceSource } from "../mixer/voice.ts";
import { DEFAULT_BUDGET_BYTES, RenderStore, type RenderStoreStats } from "./render-store.ts";
import {
  allocStreamHeader,
  DEFAULT_CHUNK_FRAMES,
  RenderedStream,
  type SharedChunks,
  type StreamCursor,
} from "./rendered-stream.ts";
import type { AudioArena } from "./shared-arena.ts";

// A worker's shared synthetic voices. Today each singer VU synthesises its own voice (a VoiceSource seeded
// per VU) every frame. With voice profiles, a VU sings one of K profiles (a VoiceSource seed and a detune),
// and each (pitch line, profile, start position) is rendered once per thread, lazily in chunks, and read by
// cursors: per-VU variety (start offset, capture gain, profile) costs a memcpy per frame. The samples are the
// VoiceSource's with the profile's options, frame for frame (shared-voice.test.ts).
//
// The key is the pitch line's content (every note's begin, duration and value), not a song or resource id.

export interface VoiceProfile {
  seed: number;
  maxDetuneCents: number;
  /** A singer flat or sharp by this many cents (reference/scoring/singer.ts); default 0. */
  centsOffset?: number;
  /** Peak level in int16 units (0: a silent singer); default VoiceSource's. */
  level?: number;
}

const DETUNES = [0, 8, 16, 24];

/** Profile k of K: VoiceSource seed k + 1, a seeded per-note detune of up to 0, 8, 16 or 24 cents (k mod 4). */
export function voiceProfile(k: number): VoiceProfile {
  if (!Number.isInteger(k) || k < 0) throw new RangeError(`voice profile: index must be ≥ 0, got ${k}`);
  return { seed: k + 1, maxDetuneCents: DETUNES[k % DETUNES.length]! };
}

/** The profile a VU with voice seed `seed` sings when there are `profiles` of them. */
export function profileForSeed(seed: number, profiles: number): VoiceProfile {
  if (!Number.isInteger(profiles) || profiles < 1) throw new RangeError("voice profiles: must be ≥ 1");
  return voiceProfile((seed >>> 0) % profiles);
}

/** The pitch line's content as a key: every note, in the order given. */
export function pitchKey(pitch: readonly PitchNote[]): string {
  let s = "";
  for (const n of pitch) s += `${n.begin_time},${n.duration},${n.value};`;
  return s;
}

class VoiceStream extends RenderedStream {
  private voice: VoiceSource | null;
  /** The sample output frame 0 is at, and the output frame the voice is at. */
  private readonly first: number;
  private at = 0;

  constructor(voice: VoiceSource, chunkFrames: number, shared: SharedChunks | null) {
    super(chunkFrames, shared);
    this.voice = voice;
    this.first = voice.sample;
  }

  protected render(out: Int16Array, frames: number, from: number, state: Int32Array): number {
    const v = this.voice;
    if (!v) return 0;
    // Another thread rendered the chunks before: go on from where its voice stopped (position, noise state).
    if (from !== this.at) v.resumeAt(this.first + from, state[0]!);
    let made = 0;
    while (made < frames) {
      const n = v.read(out.subarray(made * 2, made * 2 + FRAME_SAMPLES));
      made += n;
      if (n < FRAME_FRAMES) break;
    }
    state[0] = v.noiseState;
    this.at = from + made;
    return made;
  }

  /** Mono chunks in the arena: the voice's left channel written in place (VoiceSource.readMono). */
  protected override renderMono(out: Int16Array, frames: number, from: number, state: Int32Array): number {
    const v = this.voice;
    if (!v) return 0;
    if (from !== this.at) v.resumeAt(this.first + from, state[0]!);
    const made = v.readMono(out, 0, frames);
    state[0] = v.noiseState;
    this.at = from + made;
    return made;
  }

  protected override finished(): void {
    this.voice = null;
  }
}

export interface SharedVoiceOptions {
  /** Rendered bytes kept for voices nobody sings before the oldest go (default 256 MiB). */
  budgetBytes?: number;
  /** Output frames per rendered chunk, a multiple of 480 (default 4,800: 100 ms). */
  chunkFrames?: number;
  /** The process's shared memory: each voice is then rendered once per process, not per thread. */
  arena?: AudioArena | null;
  /**
   * In the arena, keep voices mono (left equals right). Default true: a voice is read by its singer only (one VU
   * in four), so the ~1 µs per 10 ms a mono read costs (SharedAudioOptions.monoStorage) is paid by few, while
   * voices are many (songs x profiles) and the arena frees nothing.
   */
  monoStorage?: boolean;
}

export class SharedVoiceStore {
  private readonly streams: RenderStore<VoiceStream>;
  private readonly chunkFrames: number;
  private readonly arena: AudioArena | null;
  private readonly monoStorage: boolean;

  constructor(o: SharedVoiceOptions = {}) {
    this.streams = new RenderStore(o.budgetBytes ?? DEFAULT_BUDGET_BYTES);
    this.chunkFrames = o.chunkFrames ?? DEFAULT_CHUNK_FRAMES;
    this.arena = o.arena ?? null;
    this.monoStorage = o.monoStorage ?? true;
  }

  /**
   * A microphone source singing `pitch` with `profile` from song position `startMs`: a cursor into the shared
   * rendering. Close it when done so the rendering can be evicted.
   */
  cursor(pitch: readonly PitchNote[], profile: VoiceProfile, startMs = 0): StreamCursor {
    const key = `${profile.seed}|${profile.maxDetuneCents}|${profile.centsOffset ?? 0}|${profile.level ?? ""}|${startMs}|${pitchKey(pitch)}`;
    return this.streams.cursor(key, () => {
      const voice = new VoiceSource(pitch, { ...profile, startMs });
      return new VoiceStream(voice, this.chunkFrames, this.sharedChunks(key, voice));
    });
  }

  /** One header per key for every thread; the voice is mono (left equals right), stored once. */
  private sharedChunks(key: string, voice: VoiceSource): SharedChunks | null {
    const arena = this.arena;
    if (!arena) return null;
    const cf = this.chunkFrames;
    const total = Math.max(0, Math.round(voice.durationMs * 48) - voice.sample);
    const mono = this.monoStorage;
    const e = arena.entry(`v|${cf}|${mono ? 1 : 2}|${key}`, () =>
      allocStreamHeader(arena, Math.floor(total / cf) + 1),
    );
    return e ? { arena, header: e.offset, mono } : null;
  }

  trim(): void {
    this.streams.trim();
  }

  get stats(): RenderStoreStats {
    return this.streams.stats;
  }
}
