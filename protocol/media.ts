// The media server's binary audio frame (wire-api.md "Media server"), shared by the simulator's relay and the
// reference client's publisher/player. Control messages (JSON text) live in media-messages.ts and are
// re-exported here so a client needs one import.
//
// A frame is a 32-byte header followed by the payload. Every field is little-endian, like the PCM s16le
// payload, so a whole frame is one byte order:
//
//   off size field
//    0   1   magic         0x4B ("K")
//    1   1   version       1
//    2   1   flags         bit 0 DISCONTINUITY (sequence numbering restarts here); other bits must be 0
//    3   1   codec         0 PCM s16le interleaved; 1 Opus (one RFC 6716 packet per frame; the relay forwards
//                          it without decoding, the reference client's listeners decode it on demand)
//    4   4   stream hash   uint32 FNV-1a of the stream id's UTF-8 bytes (streamHash())
//    8   4   sequence      uint32, +1 per frame, wraps at 2^32
//   12   8   capture time  float64 µs since the Unix epoch (nowMicros()); integral µs are exact to 2^53 µs,
//                          i.e. for 285 years, and a float avoids a BigInt per frame on both ends
//   20   4   sample rate   uint32 Hz, 8000..192000
//   24   4   payload bytes uint32, must equal frame length - 32 and be at most MAX_FRAME_PAYLOAD_BYTES
//   28   1   channels      uint8, 1..8
//   29   3   reserved      zero
//   32   …   payload       PCM: a whole number of sample frames (payload bytes % (2 × channels) == 0);
//                          Opus: any length (it varies packet to packet), sample rate and channels are the
//                          encoder's
//
// Encoding writes into caller-owned buffers and allocates nothing; decoding fills a caller-owned header
// object and throws FrameError naming the first problem, so a corrupt frame is refused, never half-read.

export * from "./media-messages.ts";

export const FRAME_MAGIC = 0x4b;
export const FRAME_VERSION = 1;
export const FRAME_HEADER_BYTES = 32;
/** 64 KiB: 341 ms of 48 kHz stereo s16, far above the 20 ms frames clients publish. */
export const MAX_FRAME_PAYLOAD_BYTES = 65_536;
export const MAX_FRAME_BYTES = FRAME_HEADER_BYTES + MAX_FRAME_PAYLOAD_BYTES;
export const MIN_SAMPLE_RATE = 8_000;
export const MAX_SAMPLE_RATE = 192_000;
export const MAX_CHANNELS = 8;

export const Codec = { PcmS16le: 0, Opus: 1 } as const;
export type Codec = (typeof Codec)[keyof typeof Codec];

export const FrameFlag = {
  /** The publisher restarted its sequence numbering (new session, reconnect): receivers reset loss tracking. */
  Discontinuity: 0x01,
} as const;
const KNOWN_FLAGS = FrameFlag.Discontinuity;

export interface FrameHeader {
  flags: number;
  codec: Codec;
  streamHash: number;
  seq: number;
  /** µs since the Unix epoch when the first sample of the frame was captured. */
  captureUs: number;
  sampleRate: number;
  channels: number;
  payloadBytes: number;
}

export type FrameProblem =
  | "short"
  | "magic"
  | "version"
  | "flags"
  | "codec"
  | "stream_hash"
  | "sequence"
  | "timestamp"
  | "sample_rate"
  | "channels"
  | "reserved"
  | "length"
  | "alignment"
  | "buffer";

export class FrameError extends Error {
  constructor(
    readonly problem: FrameProblem,
    message: string,
  ) {
    super(message);
    this.name = "FrameError";
  }
}

/** A fresh header object to reuse across decodeFrameHeader calls. */
export function emptyFrameHeader(): FrameHeader {
  return {
    flags: 0,
    codec: Codec.PcmS16le,
    streamHash: 0,
    seq: 0,
    captureUs: 0,
    sampleRate: 0,
    channels: 0,
    payloadBytes: 0,
  };
}

const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);
const hostLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function writeU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = (v >>> 16) & 0xff;
  b[o + 3] = (v >>> 24) & 0xff;
}

function readU32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}

function writeF64(b: Uint8Array, o: number, v: number): void {
  f64[0] = v;
  for (let i = 0; i < 8; i++) b[o + i] = f64Bytes[hostLittleEndian ? i : 7 - i]!;
}

function readF64(b: Uint8Array, o: number): number {
  for (let i = 0; i < 8; i++) f64Bytes[hostLittleEndian ? i : 7 - i] = b[o + i]!;
  return f64[0]!;
}

const isU32 = (v: number) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff;

/** The first thing wrong with a header's fields (shared by encode and decode), or undefined. */
function fieldProblem(h: Omit<FrameHeader, "payloadBytes">, payloadBytes: number): FrameError | undefined {
  if (!Number.isInteger(h.flags) || (h.flags & ~KNOWN_FLAGS) !== 0 || h.flags < 0 || h.flags > 0xff) {
    return new FrameError("flags", `unknown flag bits 0x${(h.flags >>> 0).toString(16)}`);
  }
  if (h.codec !== Codec.PcmS16le && h.codec !== Codec.Opus) {
    return new FrameError("codec", `unknown codec ${h.codec} (0 PCM s16le, 1 Opus)`);
  }
  if (!isU32(h.streamHash)) return new FrameError("stream_hash", "stream hash must be a uint32");
  if (!isU32(h.seq)) return new FrameError("sequence", "sequence must be a uint32");
  if (!Number.isFinite(h.captureUs) || h.captureUs < 0 || h.captureUs > Number.MAX_SAFE_INTEGER) {
    return new FrameError("timestamp", `capture time ${h.captureUs} is not a µs timestamp`);
  }
  if (!Number.isInteger(h.sampleRate) || h.sampleRate < MIN_SAMPLE_RATE || h.sampleRate > MAX_SAMPLE_RATE) {
    return new FrameError(
      "sample_rate",
      `sample rate ${h.sampleRate} outside ${MIN_SAMPLE_RATE}..${MAX_SAMPLE_RATE} Hz`,
    );
  }
  if (!Number.isInteger(h.channels) || h.channels < 1 || h.channels > MAX_CHANNELS) {
    return new FrameError("channels", `channels ${h.channels} outside 1..${MAX_CHANNELS}`);
  }
  if (!Number.isInteger(payloadBytes) || payloadBytes < 0 || payloadBytes > MAX_FRAME_PAYLOAD_BYTES) {
    return new FrameError("length", `payload of ${payloadBytes} bytes (max ${MAX_FRAME_PAYLOAD_BYTES})`);
  }
  if (h.codec === Codec.PcmS16le && payloadBytes % (2 * h.channels) !== 0) {
    return new FrameError(
      "alignment",
      `PCM payload of ${payloadBytes} bytes is not whole ${h.channels}-channel s16 sample frames`,
    );
  }
  return undefined;
}

function writeHeader(
  out: Uint8Array,
  offset: number,
  h: Omit<FrameHeader, "payloadBytes">,
  payloadBytes: number,
) {
  const bad = fieldProblem(h, payloadBytes);
  if (bad) throw bad;
  if (!Number.isInteger(offset) || offset < 0 || out.length - offset < FRAME_HEADER_BYTES + payloadBytes) {
    throw new FrameError("buffer", `buffer too small for a ${FRAME_HEADER_BYTES + payloadBytes}-byte frame`);
  }
  out[offset] = FRAME_MAGIC;
  out[offset + 1] = FRAME_VERSION;
  out[offset + 2] = h.flags;
  out[offset + 3] = h.codec;
  writeU32(out, offset + 4, h.streamHash);
  writeU32(out, offset + 8, h.seq);
  writeF64(out, offset + 12, h.captureUs);
  writeU32(out, offset + 20, h.sampleRate);
  writeU32(out, offset + 24, payloadBytes);
  out[offset + 28] = h.channels;
  out[offset + 29] = 0;
  out[offset + 30] = 0;
  out[offset + 31] = 0;
}

/**
 * Writes the 32-byte header at `offset` of `out` (h.payloadBytes says how long the payload that follows is).
 * Lets a publisher render PCM straight into out[offset + 32 …] and stamp the header last, with no copy.
 * Throws FrameError when a field is out of range or `out` is too small.
 */
export function writeFrameHeader(out: Uint8Array, h: FrameHeader, offset = 0): void {
  writeHeader(out, offset, h, h.payloadBytes);
}

/**
 * Writes header + payload into `out` from byte 0; the payload length comes from `payload`. Returns the
 * frame's length: send `out.subarray(0, n)`.
 */
export function encodeFrame(
  out: Uint8Array,
  h: Omit<FrameHeader, "payloadBytes">,
  payload: Uint8Array,
): number {
  writeHeader(out, 0, h, payload.byteLength);
  out.set(payload, FRAME_HEADER_BYTES);
  return FRAME_HEADER_BYTES + payload.byteLength;
}

/**
 * Reads and checks a whole frame's header into `out` (allocated when omitted). The frame must be exactly
 * header + payload: truncated or trailing bytes are refused. Throws FrameError.
 */
export function decodeFrameHeader(frame: Uint8Array, out: FrameHeader = emptyFrameHeader()): FrameHeader {
  if (frame.length < FRAME_HEADER_BYTES) {
    throw new FrameError(
      "short",
      `frame of ${frame.length} bytes is shorter than the ${FRAME_HEADER_BYTES}-byte header`,
    );
  }
  if (frame[0] !== FRAME_MAGIC) {
    throw new FrameError(
      "magic",
      `bad magic 0x${frame[0]!.toString(16)} (want 0x${FRAME_MAGIC.toString(16)})`,
    );
  }
  if (frame[1] !== FRAME_VERSION) {
    throw new FrameError("version", `frame version ${frame[1]} (this side speaks ${FRAME_VERSION})`);
  }
  if (frame[29] !== 0 || frame[30] !== 0 || frame[31] !== 0) {
    throw new FrameError("reserved", "reserved header bytes 29..31 must be zero");
  }
  out.flags = frame[2]!;
  out.codec = frame[3]! as Codec;
  out.streamHash = readU32(frame, 4);
  out.seq = readU32(frame, 8);
  out.captureUs = readF64(frame, 12);
  out.sampleRate = readU32(frame, 20);
  out.payloadBytes = readU32(frame, 24);
  out.channels = frame[28]!;
  const bad = fieldProblem(out, out.payloadBytes);
  if (bad) throw bad;
  if (frame.length !== FRAME_HEADER_BYTES + out.payloadBytes) {
    throw new FrameError(
      "length",
      `header announces ${out.payloadBytes} payload bytes, frame carries ${frame.length - FRAME_HEADER_BYTES}`,
    );
  }
  return out;
}

/** The payload bytes of a decoded frame, as a view (no copy). */
export function framePayload(frame: Uint8Array): Uint8Array {
  return frame.subarray(FRAME_HEADER_BYTES);
}

/** 32-bit FNV-1a over the UTF-8 bytes of the stream id: the `stream hash` header field. */
export function streamHash(streamId: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(streamId, "utf8")) {
    h ^= byte;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Capture timestamps: µs since the Unix epoch from the high-resolution monotonic clock
 * (performance.timeOrigin + performance.now()). Each process anchors it to the wall clock when it starts, so
 * two processes on one host agree to well under a millisecond at first and drift apart only as fast as NTP
 * slews the wall clock (at most 0.5 ms per second, typically far less). Server receive time - capture time
 * is therefore the relay latency on one host; across hosts it also includes the clocks' offset.
 */
export function nowMicros(): number {
  return (performance.timeOrigin + performance.now()) * 1000;
}

/** Payload bytes of `ms` milliseconds of PCM s16 at `sampleRate` Hz and `channels` channels. */
export function pcmPayloadBytes(sampleRate: number, channels: number, ms: number): number {
  return Math.round((sampleRate * ms) / 1000) * channels * 2;
}
