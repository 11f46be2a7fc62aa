import type { WavLayout } from "../mixer/wav-reader.ts";

// A WAV file held in memory (a download kept out of the filesystem, or a song's bytes shared by a worker):
// its layout, parsed by the same rules as mixer/wav-reader.ts's parseLayout (fmt then data; 16-bit PCM or
// WAVE_FORMAT_EXTENSIBLE; a truncated data chunk counts the whole frames really there), and a PcmReader over
// it with WavFileReader's surface, so the player plays memory and disk alike.

const CHUNK_HEADER = 8;
const FORMAT_PCM = 1;
const FORMAT_EXTENSIBLE = 0xfffe;

function ascii(b: Uint8Array, at: number, n: number): string {
  let s = "";
  for (let i = 0; i < n && at + i < b.length; i++) s += String.fromCharCode(b[at + i]!);
  return s;
}

function u16(b: Uint8Array, at: number): number {
  return b[at]! | (b[at + 1]! << 8);
}

function u32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)) + b[at + 3]! * 0x1000000;
}

/** Finds the fmt and data chunks of a WAV in memory; throws when it is not 16-bit PCM WAV. */
export function parseWavBytes(b: Uint8Array): WavLayout {
  if (b.length < 12 || ascii(b, 0, 4) !== "RIFF" || ascii(b, 8, 4) !== "WAVE") {
    throw new Error("wav: not a RIFF/WAVE file");
  }
  let offset = 12;
  let fmt: { sampleRate: number; channels: number } | null = null;
  // A WAV has a handful of chunks; the bound only stops a corrupt file from looping forever.
  for (let i = 0; i < 64; i++) {
    if (offset + CHUNK_HEADER > b.length) break;
    const id = ascii(b, offset, 4);
    const size = u32(b, offset + 4);
    const body = offset + CHUNK_HEADER;
    if (id === "fmt ") {
      const have = Math.max(0, Math.min(size, 40, b.length - body));
      if (have < 16) throw new Error("wav: truncated fmt chunk");
      const format = u16(b, body);
      const bits = u16(b, body + 14);
      if ((format !== FORMAT_PCM && format !== FORMAT_EXTENSIBLE) || bits !== 16) {
        throw new Error(`wav: only 16-bit PCM is supported (format ${format}, ${bits} bits)`);
      }
      fmt = { channels: u16(b, body + 2), sampleRate: u32(b, body + 4) };
      if (fmt.channels < 1 || fmt.sampleRate < 1) throw new Error("wav: fmt chunk has no channels or rate");
    } else if (id === "data") {
      if (!fmt) throw new Error("wav: data chunk before fmt chunk");
      const available = Math.max(0, Math.min(size, b.length - body));
      return { ...fmt, dataOffset: body, frames: Math.floor(available / (fmt.channels * 2)) };
    }
    offset = body + size + (size % 2); // chunks are padded to even sizes
  }
  throw new Error("wav: no data chunk");
}

/**
 * Copies `frames` frames of `count` channels starting at channel `first` out of interleaved s16le `bytes`
 * (frame `from` of a data chunk at `dataOffset` with `all` channels) into `out`. Byte assembly rather than an
 * Int16Array view: a download's bytes may start at an odd offset, and the result is the same on any host.
 */
export function copyTrack(
  bytes: Uint8Array,
  dataOffset: number,
  all: number,
  from: number,
  frames: number,
  first: number,
  count: number,
  out: Int16Array,
): void {
  const stride = all * 2;
  let s = dataOffset + from * stride + first * 2;
  let d = 0;
  for (let f = 0; f < frames; f++) {
    let p = s;
    for (let c = 0; c < count; c++) {
      out[d++] = ((bytes[p]! | (bytes[p + 1]! << 8)) << 16) >> 16;
      p += 2;
    }
    s += stride;
  }
}

/** WavFileReader's surface over bytes in memory (the bytes are not copied). */
export class WavBytesReader {
  readonly sampleRate: number;
  readonly channels: number;
  readonly frames: number;
  private readonly dataOffset: number;
  private position = 0;

  constructor(private readonly bytes: Uint8Array) {
    const layout = parseWavBytes(bytes);
    this.sampleRate = layout.sampleRate;
    this.channels = layout.channels;
    this.frames = layout.frames;
    this.dataOffset = layout.dataOffset;
  }

  get frame(): number {
    return this.position;
  }

  seek(frame: number): void {
    this.position = Math.max(0, Math.min(this.frames, Math.floor(frame)));
  }

  read(out: Int16Array, maxFrames: number): number {
    const ch = this.channels;
    const n = Math.min(maxFrames, this.frames - this.position, (out.length / ch) | 0);
    if (n <= 0) return 0;
    copyTrack(this.bytes, this.dataOffset, ch, this.position, n, 0, ch, out);
    this.position += n;
    return n;
  }

  close(): void {}
}
