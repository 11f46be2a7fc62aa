import { assertFrame, FRAME_FRAMES, silenceFrom } from "./frame.ts";
import { Resampler, type ResamplerOptions } from "./resampler.ts";
import type { PcmReader, PcmSource } from "./source.ts";

/**
 * Turns a reader at any rate and channel count (a CDN tier: 8 kHz mono, 10 kHz or 44.1 kHz stereo) into a
 * mixer source. Input is pulled in chunks through one reused buffer, so a whole file is never in memory.
 */
export class ResampledSource implements PcmSource {
  readonly resampler: Resampler;
  private readonly chunk: Int16Array;
  private readonly chunkFrames: number;

  constructor(
    private readonly reader: PcmReader,
    opts: ResamplerOptions & { chunkFrames?: number } = {},
  ) {
    // ~10 ms of input per pull by default: one mixer frame rarely needs a second pull.
    this.chunkFrames = opts.chunkFrames ?? Math.max(64, Math.ceil(reader.sampleRate / 100));
    this.resampler = new Resampler(reader.sampleRate, reader.channels, {
      ...opts,
      maxChunkFrames: Math.max(opts.maxChunkFrames ?? 0, this.chunkFrames),
    });
    this.chunk = new Int16Array(this.chunkFrames * reader.channels);
  }

  read(out: Int16Array): number {
    assertFrame(out);
    const rs = this.resampler;
    let got = 0;
    // Each pass either produces output, feeds input or ends the stream, so the loop is bounded by the input
    // one frame needs (plus the filter's look-ahead).
    while (got < FRAME_FRAMES) {
      const made = rs.read(out, got, FRAME_FRAMES - got);
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
    if (got < FRAME_FRAMES) silenceFrom(out, got);
    return got;
  }
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
