import { endianness } from "node:os";
import {
  Codec,
  FRAME_HEADER_BYTES,
  FrameFlag,
  type FrameHeader,
  streamHash,
  writeFrameHeader,
} from "../../protocol/media.ts";
import { CHANNELS, FRAME_SAMPLES, SAMPLE_RATE } from "../mixer/frame.ts";

// One published packet: 20 ms = two 10 ms mixer frames of 48 kHz stereo s16le behind the 32-byte header of
// protocol/media.ts. The packet buffer is allocated once; the mixer renders straight into its two halves (views
// over the payload). The header is written (and validated) by the protocol's writeFrameHeader when the stream
// changes; per packet `stamp` patches only flags, sequence and capture time through a DataView, because a
// general header writer boxes its float on every call (measured: 16 bytes per packet) and this path must not
// allocate.

/** Mixer frames per published packet. */
export const FRAMES_PER_PACKET = 2;
export const PACKET_PAYLOAD_BYTES = FRAME_SAMPLES * 2 * FRAMES_PER_PACKET;
export const PACKET_BYTES = FRAME_HEADER_BYTES + PACKET_PAYLOAD_BYTES;

const LITTLE_ENDIAN = endianness() === "LE";
// Header offsets of the per-packet fields (protocol/media.ts layout).
const OFFSET_FLAGS = 2;
const OFFSET_SEQ = 8;
const OFFSET_CAPTURE = 12;

export class FramePacker {
  /** The whole packet (header + payload); `stamp` returns it. Reused for every packet. */
  readonly packet: Buffer;
  /** The payload's two 10 ms halves, as mixer frames (FRAME_SAMPLES each), in host byte order until stamped. */
  readonly halves: readonly [Int16Array, Int16Array];
  private readonly header: FrameHeader;
  private readonly view: DataView;
  private seq = 0;
  private flags: number = FrameFlag.Discontinuity;

  constructor(streamID = "") {
    // A fresh ArrayBuffer: byte offset 0, so the payload views at byte 32 are 2-byte aligned.
    const ab = new ArrayBuffer(PACKET_BYTES);
    this.packet = Buffer.from(ab);
    this.view = new DataView(ab);
    this.halves = [
      new Int16Array(ab, FRAME_HEADER_BYTES, FRAME_SAMPLES),
      new Int16Array(ab, FRAME_HEADER_BYTES + FRAME_SAMPLES * 2, FRAME_SAMPLES),
    ];
    this.header = {
      flags: FrameFlag.Discontinuity,
      codec: Codec.PcmS16le,
      streamHash: streamHash(streamID),
      seq: 0,
      captureUs: 0,
      sampleRate: SAMPLE_RATE,
      channels: CHANNELS,
      payloadBytes: PACKET_PAYLOAD_BYTES,
    };
    writeFrameHeader(this.packet, this.header);
  }

  /** The stream the next packets belong to; numbering restarts. */
  setStream(streamID: string): void {
    this.header.streamHash = streamHash(streamID);
    writeFrameHeader(this.packet, this.header);
    this.restart();
  }

  /**
   * The next packet starts a new sequence (0) and carries the DISCONTINUITY flag: after a (re)publish, so the
   * server and players reset their loss tracking instead of counting the gap as lost frames.
   */
  restart(): void {
    this.seq = 0;
    this.flags = FrameFlag.Discontinuity;
  }

  /** Sequence number the next stamped packet gets. */
  get nextSeq(): number {
    return this.seq;
  }

  /**
   * Finishes the packet whose halves hold the last two mixer frames: header with the next sequence number and
   * `captureUs[0]` (µs since the epoch at the first sample; passed in a typed array so no float is boxed on the
   * way). Returns the packet buffer (valid until the next call).
   */
  stamp(captureUs: Float64Array): Buffer {
    const v = this.view;
    v.setUint8(OFFSET_FLAGS, this.flags);
    v.setUint32(OFFSET_SEQ, this.seq, true);
    v.setFloat64(OFFSET_CAPTURE, Math.floor(captureUs[0]!), true);
    if (!LITTLE_ENDIAN) swapPayload(this.packet);
    this.seq = (this.seq + 1) >>> 0;
    this.flags = 0;
    return this.packet;
  }

  /** After the packet was sent: the halves are host-order mixer frames again (a no-op on little-endian hosts). */
  sent(): void {
    if (!LITTLE_ENDIAN) swapPayload(this.packet);
  }
}

/** s16 host order -> little-endian, in place (big-endian hosts only). */
function swapPayload(b: Buffer): void {
  for (let i = FRAME_HEADER_BYTES; i < b.length; i += 2) {
    const t = b[i]!;
    b[i] = b[i + 1]!;
    b[i + 1] = t;
  }
}
