import { assertFrame, CHANNELS, FRAME_FRAMES, SAMPLE_RATE, silenceFrom } from "./frame.ts";
import { pcmArena } from "./simd-kernel.ts";
import type { InPlaceSource, PcmReader } from "./source.ts";

// Module-local copies: under tsx an imported constant is read through a getter call (per frame here).
const FRAMES = FRAME_FRAMES;
const CH = CHANNELS;

/**
 * A reader already at the mixer's format (48 kHz stereo) as a mixer source, with nothing to compute: the
 * resampler at ratio 1 is an exact copy (output n = input n, the same total, then silence), so this is what a
 * ResampledSource over such a reader delivers, bit for bit (resampled-source.test.ts compares them).
 *
 * Input is pulled `chunkFrames` at a time into one reused chunk. The Mixer reads each whole frame in place
 * (InPlaceSource), and with `arena` the chunk lives in the SIMD kernel's memory, so a file's samples go from
 * the page cache (readSync straight into the chunk) to the kernel without a copy in JS. Measured in
 * bench/mixer/mix-case.ts (4 x 60 s of 48 kHz WAV): going through the resampler was ~195 ms of a ~300 ms mix
 * (two JS copy loops and a compaction per chunk); the copies through the input's frame buffer and a scratch
 * slot cost ~15 ms more than reading in place. `read` (used by the mixer only for a frame that straddles a
 * short read or the end, and by callers that are not a mixer) copies with TypedArray.set over a view made up
 * front when the frame lies whole in the chunk, and a JS loop otherwise.
 *
 * An arena chunk goes back to the arena when the source is garbage-collected (the arena never shrinks; the
 * block is reused by the next chunk of the same size).
 */
export class PassthroughSource implements InPlaceSource {
  /** The chunk: frames [pos, len) of it are the reader's next samples. */
  readonly pcm: Int16Array;
  readonly chunkFrames: number;
  /** One view per whole frame of the chunk at a frame-aligned offset, for `read`'s native copy. */
  private readonly frameViews: Int16Array[] = [];
  private pos = 0;
  private len = 0;
  private ended = false;

  constructor(
    private readonly reader: PcmReader,
    opts: { chunkFrames?: number; arena?: boolean } = {},
  ) {
    if (reader.sampleRate !== SAMPLE_RATE || reader.channels !== CHANNELS) {
      throw new RangeError(
        `passthrough source: the reader must be ${SAMPLE_RATE} Hz ${CHANNELS}-channel, got ${reader.sampleRate} Hz ${reader.channels}-channel`,
      );
    }
    const chunkFrames = opts.chunkFrames ?? FRAME_FRAMES;
    if (!Number.isInteger(chunkFrames) || chunkFrames < 1) {
      throw new RangeError(`passthrough source: chunkFrames must be a positive integer, got ${chunkFrames}`);
    }
    this.chunkFrames = chunkFrames;
    const arena = opts.arena ? pcmArena() : null;
    this.pcm = arena ? arena.alloc(chunkFrames * CH) : new Int16Array(chunkFrames * CH);
    if (arena) chunks.register(this, this.pcm);
    for (let f = 0; f + FRAMES <= chunkFrames; f += FRAMES) {
      this.frameViews.push(this.pcm.subarray(f * CH, (f + FRAMES) * CH));
    }
  }

  takeFrame(): number {
    let pos = this.pos;
    if (this.len - pos < FRAMES) {
      // A partial frame left (a short read, the end): `read` joins it to the next chunk.
      if (this.len !== pos || this.ended || !this.refill()) return -1;
      if (this.len < FRAMES) return -1;
      pos = 0;
    }
    this.pos = pos + FRAMES;
    return pos * CH;
  }

  read(out: Int16Array): number {
    assertFrame(out);
    const chunk = this.pcm;
    let got = 0;
    while (got < FRAMES) {
      if (this.len === this.pos && (this.ended || !this.refill())) break;
      const pos = this.pos;
      const avail = this.len - pos;
      if (got === 0 && avail >= FRAMES && pos % FRAMES === 0) {
        out.set(this.frameViews[pos / FRAMES]!);
        this.pos = pos + FRAMES;
        return FRAMES;
      }
      const k = Math.min(avail, FRAMES - got);
      const from = pos * CH;
      const to = got * CH;
      for (let i = 0; i < k * CH; i++) out[to + i] = chunk[from + i]!;
      this.pos = pos + k;
      got += k;
    }
    if (got < FRAMES) silenceFrom(out, got);
    return got;
  }

  /** Pulls the next chunk into an exhausted one; false at the reader's end. */
  private refill(): boolean {
    const n = this.reader.read(this.pcm, this.chunkFrames);
    if (n <= 0) {
      this.ended = true;
      return false;
    }
    this.pos = 0;
    this.len = n;
    return true;
  }
}

/** Arena chunks return to the arena with their source. */
const chunks = new FinalizationRegistry<Int16Array>((chunk) => pcmArena()?.free(chunk));
