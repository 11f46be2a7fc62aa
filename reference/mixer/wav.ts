import { closeSync, openSync, writeSync } from "node:fs";
import { endianness } from "node:os";
import { WAV_HEADER_BYTES as HEADER_BYTES, type WavFormat, wavHeader } from "../../protocol/wav.ts";
import { CHANNELS, SAMPLE_RATE } from "./frame.ts";

export { type WavFormat, wavHeader };

// Streaming WAV writer for `ktv sing --out`: what was published, as a file a person can play. Frames are
// copied into one reused 64 KiB block that is written (synchronously, ~every 340 ms of 48 kHz stereo) when the
// next frame would not fit; the header is written with zero sizes at open and patched at close, so memory stays
// flat however long the run.
// PCM is s16le; on a big-endian host samples are byte-swapped on the way into the block.

const BLOCK_BYTES = 64 * 1024;
/** RIFF sizes are 32-bit: data may not exceed 4 GiB minus the rest of the RIFF chunk. */
const MAX_DATA_BYTES = 0xffffffff - 36;
const LITTLE_ENDIAN = endianness() === "LE";

export class WavWriter {
  readonly format: WavFormat;
  private fd: number | null;
  private readonly block = Buffer.alloc(BLOCK_BYTES);
  private readonly blockSamples = new Int16Array(this.block.buffer, this.block.byteOffset, BLOCK_BYTES / 2);
  /** Bytes waiting in the block, and bytes already in the file after the header. */
  private used = 0;
  private flushed = 0;

  /** Creates (or truncates) `path`; the default format is the mixer's 48 kHz stereo. */
  constructor(
    readonly path: string,
    format: Partial<WavFormat> = {},
  ) {
    this.format = { sampleRate: format.sampleRate ?? SAMPLE_RATE, channels: format.channels ?? CHANNELS };
    const { sampleRate, channels } = this.format;
    if (!Number.isInteger(sampleRate) || sampleRate < 1 || !Number.isInteger(channels) || channels < 1) {
      throw new RangeError("wav: sample rate and channels must be positive integers");
    }
    this.fd = openSync(path, "w");
    writeSync(this.fd, wavHeader(this.format, 0), 0, HEADER_BYTES, 0);
  }

  /** Bytes of PCM written so far (buffered included). */
  get bytes(): number {
    return this.flushed + this.used;
  }

  /** Appends `samples` interleaved samples (all of `pcm` by default); must be whole sample frames. */
  write(pcm: Int16Array, samples = pcm.length): void {
    // The common case, kept small (it runs per frame, so the optimizing compiler compiles it early): a whole
    // buffer of whole sample frames that fits in the block, on a little-endian host.
    // A buffer that does not fit what is left of the block goes after a flush of the block as it is (so no frame
    // is split across blocks by a JS copy loop).
    let used = this.used;
    const bytes = samples * 2;
    if (
      LITTLE_ENDIAN &&
      samples === pcm.length &&
      bytes <= BLOCK_BYTES &&
      samples % this.format.channels === 0 &&
      this.fd !== null &&
      this.flushed + used + bytes <= MAX_DATA_BYTES
    ) {
      if (used + bytes > BLOCK_BYTES) {
        this.flush(this.fd);
        used = 0;
      }
      this.blockSamples.set(pcm, used / 2);
      this.used = used + bytes;
      return;
    }
    this.writeAny(pcm, samples);
  }

  private writeAny(pcm: Int16Array, samples: number): void {
    const fd = this.open();
    if (samples > pcm.length || samples % this.format.channels !== 0) {
      throw new RangeError("wav: write whole sample frames from within the buffer");
    }
    if (this.bytes + samples * 2 > MAX_DATA_BYTES)
      throw new RangeError("wav: file would exceed the 4 GiB RIFF limit");
    let from = 0;
    while (from < samples) {
      const room = (BLOCK_BYTES - this.used) / 2;
      const n = Math.min(room, samples - from);
      const at = this.used / 2;
      const dst = this.blockSamples;
      if (LITTLE_ENDIAN) {
        for (let i = 0; i < n; i++) dst[at + i] = pcm[from + i]!;
      } else {
        // Host-order int16 view over a little-endian file: store each sample byte-swapped.
        for (let i = 0; i < n; i++) {
          const v = pcm[from + i]!;
          dst[at + i] = (((v & 0xff) << 24) >> 16) | ((v >> 8) & 0xff);
        }
      }
      this.used += n * 2;
      from += n;
      if (this.used === BLOCK_BYTES) this.flush(fd);
    }
  }

  /** Writes what is buffered, patches the header's sizes and closes the file. Idempotent. */
  close(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    try {
      this.flush(fd);
      writeSync(fd, wavHeader(this.format, this.flushed), 0, HEADER_BYTES, 0);
    } finally {
      this.fd = null;
      closeSync(fd);
    }
  }

  private flush(fd: number): void {
    let off = 0;
    while (off < this.used)
      off += writeSync(fd, this.block, off, this.used - off, HEADER_BYTES + this.flushed + off);
    this.flushed += this.used;
    this.used = 0;
  }

  private open(): number {
    if (this.fd === null) throw new Error("wav: writer is closed");
    return this.fd;
  }
}
