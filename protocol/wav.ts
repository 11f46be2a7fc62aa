// The canonical 44-byte RIFF/WAVE header for PCM s16le: what the CDN serves and what the reference client
// writes for `--out`. Multi-channel files (dual-track accompaniment: 2 or 4 channels) use the plain PCM format
// tag rather than WAVE_FORMAT_EXTENSIBLE; ffmpeg, sox and browsers read them without complaint.

export const WAV_HEADER_BYTES = 44;

export interface WavFormat {
  sampleRate: number;
  channels: number;
}

export function wavHeader(format: WavFormat, dataBytes: number): Buffer {
  const h = Buffer.alloc(WAV_HEADER_BYTES);
  const blockAlign = format.channels * 2;
  h.write("RIFF", 0, "ascii");
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write("WAVE", 8, "ascii");
  h.write("fmt ", 12, "ascii");
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(format.channels, 22);
  h.writeUInt32LE(format.sampleRate, 24);
  h.writeUInt32LE(format.sampleRate * blockAlign, 28);
  h.writeUInt16LE(blockAlign, 32);
  h.writeUInt16LE(16, 34);
  h.write("data", 36, "ascii");
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

export interface WavInfo {
  format: number;
  channels: number;
  sampleRate: number;
  byteRate: number;
  blockAlign: number;
  bitsPerSample: number;
  dataBytes: number;
  riffBytes: number;
}

/** Parses a canonical 44-byte header; throws when it is not one. */
export function parseWavHeader(b: Buffer): WavInfo {
  if (b.length < WAV_HEADER_BYTES) throw new Error("wav: shorter than a header");
  if (b.toString("ascii", 0, 4) !== "RIFF" || b.toString("ascii", 8, 12) !== "WAVE")
    throw new Error("wav: not RIFF/WAVE");
  if (b.toString("ascii", 12, 16) !== "fmt " || b.readUInt32LE(16) !== 16)
    throw new Error("wav: no 16-byte fmt chunk");
  if (b.toString("ascii", 36, 40) !== "data") throw new Error("wav: data chunk not at 36");
  return {
    format: b.readUInt16LE(20),
    channels: b.readUInt16LE(22),
    sampleRate: b.readUInt32LE(24),
    byteRate: b.readUInt32LE(28),
    blockAlign: b.readUInt16LE(32),
    bitsPerSample: b.readUInt16LE(34),
    dataBytes: b.readUInt32LE(40),
    riffBytes: b.readUInt32LE(4),
  };
}
