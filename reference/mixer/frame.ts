// The mixer's one frame format, shared by every source, the kernel, the clock and the WAV writer: 48 kHz
// stereo s16, 10 ms per frame. Everything downstream (publish, --out) is built from whole frames of this shape.

export const SAMPLE_RATE = 48_000;
export const CHANNELS = 2;
export const FRAME_MS = 10;
/** Sample frames (one per channel pair) in a 10 ms frame. */
export const FRAME_FRAMES = (SAMPLE_RATE * FRAME_MS) / 1000;
/** Interleaved int16 samples in a 10 ms frame (L, R, L, R, ...). */
export const FRAME_SAMPLES = FRAME_FRAMES * CHANNELS;
export const FRAME_BYTES = FRAME_SAMPLES * 2;

/** A new zeroed frame buffer; allocate these once, up front, and reuse them for every frame. */
export function allocFrame(): Int16Array {
  return new Int16Array(FRAME_SAMPLES);
}

/** Throws unless `buf` can hold exactly one frame: a short buffer would make a kernel read out of bounds. */
export function assertFrame(buf: Int16Array, what = "frame"): void {
  if (buf.length !== FRAME_SAMPLES) {
    throw new RangeError(`${what}: expected ${FRAME_SAMPLES} interleaved samples, got ${buf.length}`);
  }
}

/** Zeroes sample frames `from`..end of a frame (the silence after a source's end). */
export function silenceFrom(buf: Int16Array, from: number): void {
  buf.fill(0, from * CHANNELS);
}

/** Whole 10 ms frames needed to cover `ms` milliseconds. */
export function framesForMs(ms: number): number {
  return Math.ceil(ms / FRAME_MS);
}
