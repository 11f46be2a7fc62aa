import { assertFrame, CHANNELS, FRAME_FRAMES, FRAME_SAMPLES, silenceFrom } from "./frame.ts";

/**
 * One mixer input at the mixer's format (48 kHz stereo s16). `read` fills the caller-owned frame buffer
 * (FRAME_SAMPLES interleaved samples) with the next 10 ms and returns how many sample frames were real
 * audio (0..FRAME_FRAMES); the rest of the buffer must be zeroed, so a source past its end yields silence.
 * Implementations keep their state in fields allocated up front: `read` runs 100 times a second per input
 * and must not allocate.
 */
export interface PcmSource {
  read(out: Int16Array): number;
}

/**
 * A source whose audio already sits in memory at the mixer's format (a shared decoded song, a pre-rendered
 * voice): the mixer reads each frame in place instead of having it copied into the input's buffer, which costs
 * as much as mixing it (frame-kernel.ts). `takeFrame` advances one whole frame and returns the index in `pcm`
 * of its first sample, or -1 when no whole frame is left; then the mixer calls `read`, which must handle the
 * tail and the silence after it. Either way the source moves one frame per mix, as `read` alone would.
 */
export interface InPlaceSource extends PcmSource {
  readonly pcm: Int16Array;
  takeFrame(): number;
}

export function isInPlace(source: PcmSource): source is InPlaceSource {
  const s = source as Partial<InPlaceSource>;
  return typeof s.takeFrame === "function" && s.pcm instanceof Int16Array;
}

/**
 * Input at its own rate and channel count (a decoded file, a network stream) before resampling. `read`
 * fills up to `maxFrames` interleaved sample frames of `channels` channels into `out` and returns how
 * many it wrote; 0 means the end (a paused player returns silence instead, which keeps time moving).
 */
export interface PcmReader {
  readonly sampleRate: number;
  readonly channels: number;
  read(out: Int16Array, maxFrames: number): number;
}

/** Plays a 48 kHz stereo buffer once: for clips, fixtures and tests. The buffer is not copied. */
// Module-local copies: under tsx an imported constant is read through a getter call (per frame here).
const FRAMES = FRAME_FRAMES;
const SAMPLES = FRAME_SAMPLES;

export class BufferSource implements InPlaceSource {
  private pos = 0;

  constructor(readonly pcm: Int16Array) {
    if (pcm.length % CHANNELS !== 0) throw new RangeError("BufferSource: pcm must hold whole stereo frames");
  }

  read(out: Int16Array): number {
    assertFrame(out);
    const left = (this.pcm.length - this.pos) / CHANNELS;
    const n = Math.min(left, FRAMES);
    // A copy loop rather than out.set(pcm.subarray(...)): subarray allocates a view object every frame.
    const pcm = this.pcm;
    const base = this.pos;
    const count = n * CHANNELS;
    for (let i = 0; i < count; i++) out[i] = pcm[base + i]!;
    this.pos += count;
    if (n < FRAMES) silenceFrom(out, n);
    return n;
  }

  takeFrame(): number {
    const at = this.pos;
    if (this.pcm.length - at < SAMPLES) return -1;
    this.pos = at + SAMPLES;
    return at;
  }
}
