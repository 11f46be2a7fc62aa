import { Codec, FRAME_HEADER_BYTES, FrameFlag, writeFrameHeader } from "../../protocol/media.ts";
import { OPUS_MAX_PACKET_BYTES, OpusCodec } from "./opus.ts";
import {
  KARAOKE_CHANNELS,
  KARAOKE_OPUS_BITRATE,
  KARAOKE_PACKET_FRAMES,
  KARAOKE_PACKET_MS,
  KARAOKE_SAMPLE_RATE,
  type MediaCodec,
} from "./profile.ts";
import { renderReferenceSignal } from "./reference-signal.ts";

// The publish side's codec step, between the packer and the socket. The packer hands over a stamped PCM
// packet (protocol/media.ts header + 20 ms of little-endian s16); a PacketCodec returns the packet to send:
//   "pcm"             the same bytes (no PacketCodec at all: createPacketCodec returns null);
//   "opus"            the PCM encoded by this stream's own libopus encoder (state per publishing stream);
//   "opus-preencoded" the next packet of one real Opus encoding of a reference signal, made once per thread
//                     and shared by every stream of the thread, cycled through. Same sizes and cadence as a
//                     live encoder at the Karaoke profile, for the cost of a header stamp: load runs then
//                     measure the relay and the network path, not the encoder.
// The per-stream header fields (flags, stream hash, sequence, capture time) are copied from the PCM packet,
// so the packer keeps sole charge of numbering and timestamps.
//
// Nothing is allocated per packet: every returned packet is a view made once (per stream for "opus", one
// view per payload length seen; per shared packet for "opus-preencoded"). A returned packet is valid until
// the next call on any PacketCodec of the thread: send it (the ws client copies as it masks) before the next.

/** Bytes 2..19 of the header: flags, codec, stream hash, sequence, capture time (protocol/media.ts). */
const STREAM_FIELDS_FROM = 2;
const STREAM_FIELDS_TO = 20;
const OFFSET_CODEC = 3;
const OFFSET_PAYLOAD_BYTES = 24;

export interface PacketCodec {
  readonly codec: Exclude<MediaCodec, "pcm">;
  /** The packet to send for a stamped PCM packet; valid until the next call (see above). */
  packet(pcmPacket: Uint8Array): Uint8Array;
  /** Releases the encoder (WebAssembly memory is not garbage-collected). */
  destroy(): void;
}

/** The codec step for `codec` (null for "pcm": the PCM packet goes out as it is). */
export function createPacketCodec(codec: MediaCodec): PacketCodec | null {
  switch (codec) {
    case "pcm":
      return null;
    case "opus":
      return new OpusPacketCodec();
    case "opus-preencoded":
      return new PreencodedPacketCodec(PreencodedOpus.shared());
  }
}

function copyStreamFields(from: Uint8Array, to: Uint8Array): void {
  for (let i = STREAM_FIELDS_FROM; i < STREAM_FIELDS_TO; i++) to[i] = from[i]!;
  to[OFFSET_CODEC] = Codec.Opus;
}

function writeU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = (v >>> 16) & 0xff;
  b[o + 3] = (v >>> 24) & 0xff;
}

/** A frame buffer with a valid Opus header (constant fields written once); per-stream fields are patched. */
function opusFrameBuffer(payloadBytes: number, bufferBytes = FRAME_HEADER_BYTES + payloadBytes): Buffer {
  const b = Buffer.alloc(bufferBytes);
  writeFrameHeader(b, {
    flags: FrameFlag.Discontinuity,
    codec: Codec.Opus,
    streamHash: 0,
    seq: 0,
    captureUs: 0,
    sampleRate: KARAOKE_SAMPLE_RATE,
    channels: KARAOKE_CHANNELS,
    payloadBytes,
  });
  return b;
}

/** Live encoding: one libopus encoder per publishing stream. */
export class OpusPacketCodec implements PacketCodec {
  readonly codec = "opus" as const;
  private readonly enc = new OpusCodec({
    sampleRate: KARAOKE_SAMPLE_RATE,
    channels: KARAOKE_CHANNELS,
    bitrate: KARAOKE_OPUS_BITRATE,
  });
  private readonly out = opusFrameBuffer(0, FRAME_HEADER_BYTES + OPUS_MAX_PACKET_BYTES);
  /** out[0 .. 32 + n] by payload length n, made on first use. */
  private readonly views: (Buffer | undefined)[] = [];
  private lastPcm: Uint8Array | null = null;
  private pcmPayload: Uint8Array = new Uint8Array(0);

  packet(pcmPacket: Uint8Array): Uint8Array {
    if (pcmPacket !== this.lastPcm) {
      this.lastPcm = pcmPacket;
      this.pcmPayload = pcmPacket.subarray(FRAME_HEADER_BYTES);
    }
    const out = this.out;
    copyStreamFields(pcmPacket, out);
    const n = this.enc.encode(this.pcmPayload, out, FRAME_HEADER_BYTES);
    writeU32(out, OFFSET_PAYLOAD_BYTES, n);
    let view = this.views[n];
    if (view === undefined) {
      view = out.subarray(0, FRAME_HEADER_BYTES + n);
      this.views[n] = view;
    }
    return view;
  }

  destroy(): void {
    this.enc.destroy();
  }
}

/**
 * One real Opus encoding (Karaoke profile) of `seconds` of the reference signal, as whole frames whose
 * per-stream header fields are patched at send time. One per thread (`shared()`), built on first use
 * (~250 encodes: tens of ms, once).
 */
export class PreencodedOpus {
  readonly packets: readonly Buffer[];
  private static instance: PreencodedOpus | null = null;

  constructor(seconds = 5) {
    const ms = Math.round(seconds * 1000);
    if (ms <= 0 || ms % KARAOKE_PACKET_MS !== 0) throw new RangeError("preencoded: whole 20 ms packets");
    const pcm = renderReferenceSignal(ms);
    const bytes = new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength);
    const step = KARAOKE_PACKET_FRAMES * KARAOKE_CHANNELS * 2;
    const enc = new OpusCodec({
      sampleRate: KARAOKE_SAMPLE_RATE,
      channels: KARAOKE_CHANNELS,
      bitrate: KARAOKE_OPUS_BITRATE,
    });
    const scratch = new Uint8Array(OPUS_MAX_PACKET_BYTES);
    const packets: Buffer[] = [];
    try {
      for (let o = 0; o < bytes.length; o += step) {
        const n = enc.encode(bytes.subarray(o, o + step), scratch);
        const frame = opusFrameBuffer(n);
        frame.set(scratch.subarray(0, n), FRAME_HEADER_BYTES);
        packets.push(frame);
      }
    } finally {
      enc.destroy();
    }
    this.packets = packets;
  }

  /** True once this thread's table exists (a load generator builds it before its clock starts). */
  static get built(): boolean {
    return PreencodedOpus.instance !== null;
  }

  /** The thread's table (module state is per worker thread). */
  static shared(): PreencodedOpus {
    PreencodedOpus.instance ??= new PreencodedOpus();
    return PreencodedOpus.instance;
  }
}

/** Pre-encoded packets: per packet, a header stamp and the send. */
export class PreencodedPacketCodec implements PacketCodec {
  readonly codec = "opus-preencoded" as const;
  private next = 0;

  constructor(private readonly table: PreencodedOpus) {}

  packet(pcmPacket: Uint8Array): Uint8Array {
    const packets = this.table.packets;
    const out = packets[this.next]!;
    this.next = this.next + 1 === packets.length ? 0 : this.next + 1;
    copyStreamFields(pcmPacket, out);
    return out;
  }

  destroy(): void {}
}
