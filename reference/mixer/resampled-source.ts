import { assertFrame, CHANNELS, FRAME_FRAMES, SAMPLE_RATE, silenceFrom } from "./frame.ts";
import { PassthroughSource } from "./passthrough-source.ts";
import { Resampler, type ResamplerOptions } from "./resampler.ts";
import type { PcmReader, PcmSource } from "./source.ts";

// A module-local copy: under tsx an imported constant is read through a getter call (per frame here).
const FRAMES = FRAME_FRAMES;

/**
 * Turns a reader at any rate and channel count (a CDN tier: 8 kHz mono, 10 kHz or 44.1 kHz stereo) into a
 * mixer source. Input is pulled in chunks through one reused buffer, so a whole file is never in memory.
 *
 * A reader already at the mixer's format (48 kHz stereo, channels 0 and 1) bypasses the resampler through a
 * PassthroughSource (passthrough-source.ts: the same samples and counts, bit for bit, without the resampler's
 * two copy loops). `mixerSource` goes further for a mixer input: the passthrough itself, read in place.
 */
export class ResampledSource implements PcmSource {
  /** The resampler, or null on the ratio-1 bypass. */
  readonly resampler: Resampler | null;
  private readonly passthrough: PassthroughSource | null;
  private readonly chunk: Int16Array;
  private readonly chunkFrames: number;

  constructor(
    private readonly reader: PcmReader,
    opts: MixerSourceOptions = {},
  ) {
    // ~10 ms of input per pull by default: one mixer frame rarely needs a second pull.
    this.chunkFrames = opts.chunkFrames ?? Math.max(64, Math.ceil(reader.sampleRate / 100));
    if (isPassthrough(reader, opts)) {
      // Validate what the resampler would have validated, so a bad option fails the same way on both paths.
      if (opts.taps !== undefined) new Resampler(reader.sampleRate, reader.channels, { taps: opts.taps });
      this.resampler = null;
      this.passthrough = new PassthroughSource(reader, { chunkFrames: this.chunkFrames });
      this.chunk = this.passthrough.pcm;
    } else {
      this.resampler = new Resampler(reader.sampleRate, reader.channels, {
        ...opts,
        maxChunkFrames: Math.max(opts.maxChunkFrames ?? 0, this.chunkFrames),
      });
      this.passthrough = null;
      this.chunk = new Int16Array(this.chunkFrames * reader.channels);
    }
  }

  read(out: Int16Array): number {
    const rs = this.resampler;
    if (rs === null) return this.passthrough!.read(out);
    assertFrame(out);
    let got = 0;
    // Each pass either produces output, feeds input or ends the stream, so the loop is bounded by the input
    // one frame needs (plus the filter's look-ahead).
    while (got < FRAMES) {
      const made = rs.read(out, got, FRAMES - got);
      got += made;
      if (made > 0) continue;
      if (rs.drained) break;
      const want = Math.min(this.chunkFrames, rs.writable());
      // A buffer too full to write always holds enough input for an output, so this cannot happen.
      if (want <= 0) throw new Error("resampled source: resampler stalled");
      const n = this.reader.read(this.chunk, want);
      if (n > 0) rs.write(this.chunk, n);
      else rs.end();
    }
    if (got < FRAMES) silenceFrom(out, got);
    return got;
  }
}

export type MixerSourceOptions = ResamplerOptions & { chunkFrames?: number };

/** True when the reader is at the mixer's format and the options map its channels straight through. */
function isPassthrough(reader: PcmReader, opts: MixerSourceOptions): boolean {
  const map = opts.channelMap;
  return (
    reader.sampleRate === SAMPLE_RATE &&
    reader.channels === CHANNELS &&
    (map === undefined || (map[0] === 0 && map[1] === 1))
  );
}

/**
 * The mixer input for a reader: a PassthroughSource with its chunk in the SIMD kernel's memory when the reader
 * is already 48 kHz stereo (the Mixer reads it in place), else a ResampledSource. Same samples either way.
 */
export function mixerSource(reader: PcmReader, opts: MixerSourceOptions = {}): PcmSource {
  if (!isPassthrough(reader, opts)) return new ResampledSource(reader, opts);
  if (opts.taps !== undefined) new Resampler(reader.sampleRate, reader.channels, { taps: opts.taps });
  return new PassthroughSource(reader, {
    chunkFrames: opts.chunkFrames ?? Math.max(64, Math.ceil(reader.sampleRate / 100)),
    arena: true,
  });
}

/** A reader over an in-memory interleaved buffer at any rate: fixtures, tests and synthetic inputs. */
export class ArrayReader implements PcmReader {
  private pos = 0;

  constructor(
    private readonly pcm: Int16Array,
    readonly sampleRate: number,
    readonly channels: number,
  ) {
    if (pcm.length % channels !== 0) throw new RangeError("ArrayReader: pcm must hold whole frames");
  }

  read(out: Int16Array, maxFrames: number): number {
    const ch = this.channels;
    const n = Math.min(maxFrames, (this.pcm.length - this.pos) / ch, (out.length / ch) | 0);
    const pcm = this.pcm;
    const base = this.pos;
    for (let i = 0; i < n * ch; i++) out[i] = pcm[base + i]!;
    this.pos += n * ch;
    return n;
  }
}
