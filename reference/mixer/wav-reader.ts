import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { endianness } from "node:os";
import type { PcmReader } from "./source.ts";

// Streams PCM s16le out of a WAV file through one reused buffer: the file is never read whole, so a long song
// costs the same memory as a short one. Walks the RIFF chunk list (fmt, then data; LIST and other chunks are
// skipped), accepting format 1 (PCM) and WAVE_FORMAT_EXTENSIBLE with 16-bit samples.

const CHUNK_HEADER = 8;
const FORMAT_PCM = 1;
const FORMAT_EXTENSIBLE = 0xfffe;
const LITTLE_ENDIAN = endianness() === "LE";

export interface WavLayout {
  sampleRate: number;
  channels: number;
  /** Byte offset of the first sample in the file. */
  dataOffset: number;
  /** Sample frames in the data chunk (a truncated file counts what is really there). */
  frames: number;
}

export class WavFileReader implements PcmReader {
  readonly sampleRate: number;
  readonly channels: number;
  readonly frames: number;
  private fd: number | null;
  private readonly dataOffset: number;
  private readonly bufferFrames: number;
  /** Big-endian hosts only: the file's bytes, swapped into `out` sample by sample. */
  private readonly bytes: Uint8Array | null;
  private position = 0;

  /** Opens `path` and parses its header; `bufferFrames` bounds one read. Throws a clear Error on a bad file. */
  constructor(
    readonly path: string,
    bufferFrames = 4096,
  ) {
    if (!Number.isInteger(bufferFrames) || bufferFrames < 1) {
      throw new RangeError(`wav: bufferFrames must be a positive integer, got ${bufferFrames}`);
    }
    const fd = openSync(path, "r");
    try {
      const layout = parseLayout(fd);
      this.sampleRate = layout.sampleRate;
      this.channels = layout.channels;
      this.frames = layout.frames;
      this.dataOffset = layout.dataOffset;
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    this.fd = fd;
    this.bufferFrames = bufferFrames;
    this.bytes = LITTLE_ENDIAN ? null : new Uint8Array(bufferFrames * this.channels * 2);
  }

  /** Current position in sample frames. */
  get frame(): number {
    return this.position;
  }

  /** Moves to sample frame `frame` (clamped to the data). */
  seek(frame: number): void {
    this.position = Math.max(0, Math.min(this.frames, Math.floor(frame)));
  }

  read(out: Int16Array, maxFrames: number): number {
    if (this.fd === null) throw new Error("wav: reader is closed");
    const ch = this.channels;
    const want = Math.min(maxFrames, this.frames - this.position, (out.length / ch) | 0, this.bufferFrames);
    if (want <= 0) return 0;
    const blockAlign = ch * 2;
    // On a little-endian host the file's bytes are the samples: read them straight into `out` (readSync takes
    // byte offsets into the view). A copy loop through a buffer of our own cost as much as the mix itself.
    const into = LITTLE_ENDIAN ? out : this.bytes!;
    let got = 0;
    while (got < want * blockAlign) {
      const n = readSync(
        this.fd,
        into,
        got,
        want * blockAlign - got,
        this.dataOffset + this.position * blockAlign + got,
      );
      if (n === 0) break; // the file shrank under us: deliver what arrived
      got += n;
    }
    const frames = Math.floor(got / blockAlign);
    if (!LITTLE_ENDIAN) {
      const b = this.bytes!;
      for (let i = 0; i < frames * ch; i++) out[i] = ((b[2 * i]! | (b[2 * i + 1]! << 8)) << 16) >> 16;
    }
    this.position += frames;
    return frames;
  }

  close(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    closeSync(fd);
  }
}

function readAt(fd: number, offset: number, length: number): Buffer {
  const b = Buffer.alloc(length);
  const n = readSync(fd, b, 0, length, offset);
  return b.subarray(0, n);
}

/** Finds the fmt and data chunks; throws when the file is not 16-bit PCM WAV. */
export function parseLayout(fd: number): WavLayout {
  const riff = readAt(fd, 0, 12);
  if (
    riff.length < 12 ||
    riff.toString("ascii", 0, 4) !== "RIFF" ||
    riff.toString("ascii", 8, 12) !== "WAVE"
  ) {
    throw new Error("wav: not a RIFF/WAVE file");
  }
  let offset = 12;
  let fmt: { sampleRate: number; channels: number } | null = null;
  // A WAV has a handful of chunks; the bound only stops a corrupt file from looping forever.
  for (let i = 0; i < 64; i++) {
    const head = readAt(fd, offset, CHUNK_HEADER);
    if (head.length < CHUNK_HEADER) break;
    const id = head.toString("ascii", 0, 4);
    const size = head.readUInt32LE(4);
    const body = offset + CHUNK_HEADER;
    if (id === "fmt ") {
      const f = readAt(fd, body, Math.min(size, 40));
      if (f.length < 16) throw new Error("wav: truncated fmt chunk");
      const format = f.readUInt16LE(0);
      const bits = f.readUInt16LE(14);
      if ((format !== FORMAT_PCM && format !== FORMAT_EXTENSIBLE) || bits !== 16) {
        throw new Error(`wav: only 16-bit PCM is supported (format ${format}, ${bits} bits)`);
      }
      fmt = { channels: f.readUInt16LE(2), sampleRate: f.readUInt32LE(4) };
      if (fmt.channels < 1 || fmt.sampleRate < 1) throw new Error("wav: fmt chunk has no channels or rate");
    } else if (id === "data") {
      if (!fmt) throw new Error("wav: data chunk before fmt chunk");
      // A file cut short (an interrupted download) holds fewer bytes than its header declares.
      const available = Math.max(0, Math.min(size, fstatSync(fd).size - body));
      return { ...fmt, dataOffset: body, frames: Math.floor(available / (fmt.channels * 2)) };
    }
    offset = body + size + (size % 2); // chunks are padded to even sizes
  }
  throw new Error("wav: no data chunk");
}
