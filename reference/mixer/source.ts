import { assertFrame, CHANNELS, FRAME_FRAMES, silenceFrom } from "./frame.ts";

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
export class BufferSource implements PcmSource {
  private pos = 0;

  constructor(private readonly pcm: Int16Array) {
    if (pcm.length % CHANNELS !== 0) throw new RangeError("BufferSource: pcm must hold whole stereo frames");
  }

  read(out: Int16Array): number {
    assertFrame(out);
    const left = (this.pcm.length - this.pos) / CHANNELS;
    const n = Math.min(left, FRAME_FRAMES);
    // A copy loop rather than out.set(pcm.subarray(...)): subarray allocates a view object every frame.
    const pcm = this.pcm;
    const base = this.pos;
    const count = n * CHANNELS;
    for (let i = 0; i < count; i++) out[i] = pcm[base + i]!;
    this.pos += count;
    if (n < FRAME_FRAMES) silenceFrom(out, n);
    return n;
  }
}
