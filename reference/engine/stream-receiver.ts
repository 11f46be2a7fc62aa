import {
  Codec,
  decodeFrameHeader,
  emptyFrameHeader,
  FRAME_HEADER_BYTES,
  FrameFlag,
  streamHash,
} from "../../protocol/media.ts";
import { OpusCodec } from "../codec/opus.ts";
import type { PlayedFrameHandler, PlayedPacketHandler } from "./events.ts";

// The play side: frames relayed by the media server, routed by the header's stream hash to the stream's
// handlers. Every packet, whatever its codec, is accounted: packets and bytes, loss and reordering by sequence
// number, and RFC 3550 interarrival jitter from the capture timestamps against the arrival times. A
// DISCONTINUITY flag (the publisher reconnected or restarted) resets the numbering instead of counting the
// jump as loss. Samples are produced only for a stream with a frame handler (fidelity runs): PCM is copied
// out of the payload, Opus is decoded by the stream's own decoder (made on the first packet that needs it).
// Without a frame handler nothing is decoded, so a load run's listeners cost a header parse per packet.
//
// Sequence accounting keeps a 32-packet window of what arrived below the highest sequence number: a packet
// behind it that was missing is a reordered (late) packet and is taken off the loss count; one already seen
// is a duplicate. Jitter, per RFC 3550 §6.4.1: D = (Rj - Ri) - (Sj - Si) for consecutive arrivals,
// J += (|D| - J) / 16, with S the capture time and R the arrival time, both µs on the epoch time base.

export interface PlayStats {
  /** Packets received (duplicates included). */
  frames: number;
  /** Payload bytes received (headers excluded). */
  bytes: number;
  /** Bytes of whole frames received (header + payload): what the media socket carried. */
  wireBytes: number;
  /** Packets missing by sequence number (a late arrival is taken off again). */
  lost: number;
  /** Packets that arrived after a later one (counted missing until they came). */
  reordered: number;
  /** Packets received twice. */
  duplicates: number;
  /** RFC 3550 interarrival jitter, ms. */
  jitterMs: number;
  /** Sequence restarts announced by the publisher (reconnects). */
  discontinuities: number;
  /** Opus packets the decoder refused (only counted when decoding). */
  decodeErrors: number;
}

interface Played {
  readonly streamID: string;
  readonly hash: number;
  handler: PlayedFrameHandler | undefined;
  onPacket: PlayedPacketHandler | undefined;
  /** The samples handed to the handler: PCM copied out, or a view of `decoded`. */
  pcm: Int16Array;
  decoder: OpusCodec | null;
  /** The decoder's output buffer, room for the longest Opus frame. */
  decoded: Int16Array | null;
  /** Next expected sequence number; -1 before the first packet. */
  expected: number;
  /** Bit k set: sequence expected - 1 - k arrived. */
  window: number;
  /** Transit time (arrival - capture) of the previous packet, µs; NaN before the first. */
  lastTransitUs: number;
  jitterUs: number;
  stats: PlayStats;
}

const HALF_RANGE = 2 ** 31;
const WINDOW = 32;
/** Room for the longest Opus frame (120 ms at 48 kHz, stereo). */
const MAX_DECODED_SAMPLES = 5760 * 2;

/**
 * nowMicros with the time origin read once: `performance.timeOrigin` is a getter (1.4% of the listener path's
 * CPU in bench/harness/listener-packet-cost.ts's profile, next to performance.now()'s 8%), and it never changes
 * in a thread. The same expression as nowMicros, so the same values.
 */
const TIME_ORIGIN = performance.timeOrigin;
const arrivalClock = (): number => (TIME_ORIGIN + performance.now()) * 1000;

function emptyStats(): PlayStats {
  return {
    frames: 0,
    bytes: 0,
    wireBytes: 0,
    lost: 0,
    reordered: 0,
    duplicates: 0,
    jitterMs: 0,
    discontinuities: 0,
    decodeErrors: 0,
  };
}

export class StreamReceiver {
  /** Frames that failed to decode, and well-formed frames of streams nobody plays here. */
  malformed = 0;
  unrouted = 0;
  private readonly byHash = new Map<number, Played>();
  /** The stream the last routed packet went to: a listener plays one stream, so most packets skip the Map. */
  private last: Played | null = null;
  private readonly header = emptyFrameHeader();
  /** Arrival clock, µs on the epoch (tests pass a virtual one). */
  private readonly now: () => number;

  constructor(opts: { now?: () => number } = {}) {
    this.now = opts.now ?? arrivalClock;
  }

  /**
   * Plays `streamID`: `handler` gets each packet's samples (decoding Opus), `onPacket` each packet's header
   * before any decoding. Either may be omitted; calling again replaces them.
   */
  add(streamID: string, handler?: PlayedFrameHandler, onPacket?: PlayedPacketHandler): void {
    const hash = streamHash(streamID);
    const existing = this.byHash.get(hash);
    if (existing?.streamID === streamID) {
      existing.handler = handler;
      existing.onPacket = onPacket;
      return;
    }
    if (existing) existing.decoder?.destroy();
    this.last = null;
    this.byHash.set(hash, {
      streamID,
      hash,
      handler,
      onPacket,
      pcm: new Int16Array(0),
      decoder: null,
      decoded: null,
      expected: -1,
      window: 0,
      lastTransitUs: Number.NaN,
      jitterUs: 0,
      stats: emptyStats(),
    });
  }

  remove(streamID: string): PlayStats | undefined {
    const hash = streamHash(streamID);
    const p = this.byHash.get(hash);
    if (p?.streamID !== streamID) return undefined;
    this.byHash.delete(hash);
    if (this.last === p) this.last = null;
    p.decoder?.destroy();
    p.decoder = null;
    return p.stats;
  }

  has(streamID: string): boolean {
    return this.byHash.get(streamHash(streamID))?.streamID === streamID;
  }

  stats(streamID: string): Readonly<PlayStats> | undefined {
    const p = this.byHash.get(streamHash(streamID));
    return p?.streamID === streamID ? p.stats : undefined;
  }

  /** After a reconnect of our own socket: the next packet of every stream starts a new count. */
  resetSequences(): void {
    for (const p of this.byHash.values()) p.expected = -1;
  }

  /** One binary message from the media socket. */
  onFrame(data: Uint8Array): void {
    const arrivalUs = this.now();
    const h = this.header;
    try {
      decodeFrameHeader(data, h);
    } catch {
      this.malformed++;
      return;
    }
    let p = this.last;
    if (p === null || p.hash !== h.streamHash) {
      const found = this.byHash.get(h.streamHash);
      if (found === undefined) {
        this.unrouted++;
        return;
      }
      p = found;
      this.last = p;
    }
    const st = p.stats;
    this.account(p, h.seq, (h.flags & FrameFlag.Discontinuity) !== 0);
    const transit = arrivalUs - h.captureUs;
    if (!Number.isNaN(p.lastTransitUs)) {
      const d = transit - p.lastTransitUs;
      p.jitterUs += ((d < 0 ? -d : d) - p.jitterUs) / 16;
      st.jitterMs = p.jitterUs / 1000;
    }
    p.lastTransitUs = transit;
    st.frames++;
    st.bytes += h.payloadBytes;
    st.wireBytes += data.length;
    p.onPacket?.(h, p.streamID, arrivalUs);
    const handler = p.handler;
    if (!handler) return;
    if (h.codec === Codec.Opus) {
      if (!this.decode(p, data)) return;
    } else {
      const samples = h.payloadBytes >>> 1;
      if (p.pcm.length !== samples) p.pcm = new Int16Array(samples);
      const pcm = p.pcm;
      // Little-endian s16 read byte-wise: correct on any host and for any alignment of the socket's buffer.
      for (let i = 0, o = FRAME_HEADER_BYTES; i < samples; i++, o += 2) {
        pcm[i] = ((data[o]! | (data[o + 1]! << 8)) << 16) >> 16;
      }
    }
    handler(p.pcm, h, p.streamID);
  }

  /** Loss, reordering and duplicates of sequence number `seq` (see the header). */
  private account(p: Played, seq: number, restart: boolean): void {
    const st = p.stats;
    if (p.expected < 0 || restart) {
      if (p.expected >= 0) st.discontinuities++;
      p.expected = (seq + 1) >>> 0;
      p.window = 1;
      return;
    }
    const ahead = (seq - p.expected) >>> 0;
    if (ahead < HALF_RANGE) {
      st.lost += ahead;
      const shift = ahead + 1;
      p.window = shift >= WINDOW ? 1 : ((p.window << shift) | 1) >>> 0;
      p.expected = (seq + 1) >>> 0;
      return;
    }
    // Behind the highest sequence seen: late, or seen before.
    const back = (p.expected - 1 - seq) >>> 0;
    if (back < WINDOW) {
      const bit = (1 << back) >>> 0;
      if ((p.window & bit) !== 0) {
        st.duplicates++;
        return;
      }
      p.window = (p.window | bit) >>> 0;
    }
    // Older than the window: it was counted missing when the window moved past it.
    st.reordered++;
    if (st.lost > 0) st.lost--;
  }

  /** Decodes an Opus payload into the stream's sample buffer; false (counted) when it cannot. */
  private decode(p: Played, data: Uint8Array): boolean {
    const h = this.header;
    try {
      let dec = p.decoder;
      if (
        dec === null ||
        p.decoded === null ||
        dec.sampleRate !== h.sampleRate ||
        dec.channels !== h.channels
      ) {
        dec?.destroy();
        p.decoder = null;
        dec = new OpusCodec({ sampleRate: h.sampleRate, channels: h.channels });
        p.decoder = dec;
        p.decoded = new Int16Array(MAX_DECODED_SAMPLES);
      }
      const samples = dec.decode(data, p.decoded, FRAME_HEADER_BYTES) * h.channels;
      // A new view only when the decoded length changes (it does not, packet after packet of one stream).
      if (p.pcm.length !== samples || p.pcm.buffer !== p.decoded.buffer)
        p.pcm = p.decoded.subarray(0, samples);
    } catch {
      p.stats.decodeErrors++;
      return false;
    }
    return true;
  }
}
