import {
  Codec,
  decodeFrameHeader,
  emptyFrameHeader,
  FRAME_HEADER_BYTES,
  FrameFlag,
  streamHash,
} from "../../protocol/media.ts";
import type { PlayedFrameHandler } from "./events.ts";

// The play side: frames relayed by the media server, routed by the header's stream hash to the stream's
// handler as s16 samples. Each stream keeps one sample buffer (reallocated only if the packet size changes)
// and counts what arrived and what the sequence numbers say is missing; a DISCONTINUITY flag (the publisher
// reconnected or restarted) resets the numbering instead of counting the jump as loss.

export interface PlayStats {
  frames: number;
  /** Payload bytes received (headers excluded). */
  bytes: number;
  /** Packets missing by sequence number. */
  lost: number;
  /** Sequence restarts announced by the publisher (reconnects). */
  discontinuities: number;
}

interface Played {
  readonly streamID: string;
  handler: PlayedFrameHandler | undefined;
  pcm: Int16Array;
  /** Next expected sequence number; -1 before the first packet. */
  expected: number;
  stats: PlayStats;
}

const HALF_RANGE = 2 ** 31;

export class StreamReceiver {
  /** Frames that failed to decode, and well-formed frames of streams nobody plays here. */
  malformed = 0;
  unrouted = 0;
  private readonly byHash = new Map<number, Played>();
  private readonly header = emptyFrameHeader();

  add(streamID: string, handler?: PlayedFrameHandler): void {
    const hash = streamHash(streamID);
    const existing = this.byHash.get(hash);
    if (existing?.streamID === streamID) {
      existing.handler = handler;
      return;
    }
    this.byHash.set(hash, {
      streamID,
      handler,
      pcm: new Int16Array(0),
      expected: -1,
      stats: { frames: 0, bytes: 0, lost: 0, discontinuities: 0 },
    });
  }

  remove(streamID: string): PlayStats | undefined {
    const hash = streamHash(streamID);
    const p = this.byHash.get(hash);
    if (p?.streamID !== streamID) return undefined;
    this.byHash.delete(hash);
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
    const h = this.header;
    try {
      decodeFrameHeader(data, h);
    } catch {
      this.malformed++;
      return;
    }
    const p = this.byHash.get(h.streamHash);
    if (!p || h.codec !== Codec.PcmS16le) {
      this.unrouted++;
      return;
    }
    const st = p.stats;
    if (p.expected >= 0 && (h.flags & FrameFlag.Discontinuity) === 0) {
      const ahead = (h.seq - p.expected) >>> 0;
      if (ahead >= HALF_RANGE) {
        // Behind what we expect: a late packet, already counted as missing (or a duplicate). Keep the place.
        if (st.lost > 0) st.lost--;
      } else {
        st.lost += ahead;
        p.expected = (h.seq + 1) >>> 0;
      }
    } else {
      if (p.expected >= 0) st.discontinuities++;
      p.expected = (h.seq + 1) >>> 0;
    }
    st.frames++;
    st.bytes += h.payloadBytes;
    const samples = h.payloadBytes >>> 1;
    if (p.pcm.length !== samples) p.pcm = new Int16Array(samples);
    const pcm = p.pcm;
    // Little-endian s16 read byte-wise: correct on any host and for any alignment of the socket's buffer.
    for (let i = 0, o = FRAME_HEADER_BYTES; i < samples; i++, o += 2) {
      pcm[i] = ((data[o]! | (data[o + 1]! << 8)) << 16) >> 16;
    }
    p.handler?.(pcm, h, p.streamID);
  }
}
