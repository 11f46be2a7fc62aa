import { WebSocket } from "ws";
import type { MediaCounters } from "./metrics.ts";
import type { MediaStream } from "./streams.ts";
import { binaryFrame, directSocket } from "./wire-frame.ts";

// Every published frame passes through relay() exactly once, on its way from the publisher to the players.
// This is the media fault seam: a shaper decides what reaches the players and when. The default passes each
// frame through untouched; the fault engine's `media` kind (loss, jitter, duplication, reordering, delay) is
// carried out by a shaper (faults/media-shaping.ts) that drops a frame (never calls deliver), delays it
// (calls deliver later), duplicates it (calls deliver twice) or holds it back behind later ones. deliver()
// sends to whoever plays the stream at the moment it is called, so a delayed frame never reaches a player
// who left. The hub tells the shaper when a stream stops being published, so nothing is held past that.

/**
 * What a shaper may base its decision on. Valid during the shape() call only: the relay fills one object for
 * every frame (no allocation per packet), so a shaper that needs any of it later copies the fields it needs.
 */
export interface RelayContext {
  app_id: number;
  room_id: string;
  stream_id: string;
  /** Publisher's user id. */
  user_id: string;
  seq: number;
  capture_us: number;
  received_us: number;
}

export type Deliver = (frame: Buffer) => void;

export interface MediaShaper {
  /** `stream` is the same object for every frame of a stream: the key of whatever the shaper keeps for it. */
  shape(frame: Buffer, ctx: RelayContext, deliver: Deliver, stream: MediaStream): void;
  /** `stream` lost its publisher (stop, logout, socket gone, reset): what is held for it goes out now. */
  ended?(stream: MediaStream): void;
}

export const passThrough: MediaShaper = {
  shape(frame, _ctx, deliver) {
    deliver(frame);
  },
};

/** Hands one received frame to the shaper, which delivers it to the stream's players (or not). */
export function relay(frame: Buffer, ctx: RelayContext, stream: MediaStream, shaper: MediaShaper): void {
  shaper.shape(frame, ctx, stream.deliver, stream);
}

const BINARY = { binary: true } as const;
const OPEN = WebSocket.OPEN;

/**
 * Sends `frame` to each player of `stream`. A player whose socket already holds more than `limitBytes` unsent
 * skips this frame (counted): a slow reader loses audio instead of growing the server's memory, and resumes
 * at the live edge once it drains. The frame is framed for the wire once, for all players (wire-frame.ts), and
 * that one Buffer is written to every player's socket. Per player this reads a few fields and writes; the
 * counters are added once per frame.
 */
export function fanOut(
  stream: MediaStream,
  frame: Buffer,
  limitBytes: number,
  counters: MediaCounters,
): void {
  let framed: Buffer | null = null;
  let sent = 0;
  let dropped = 0;
  for (const p of stream.players) {
    if (p.gone) continue;
    const ws = p.ws;
    if (ws.readyState !== OPEN) continue;
    const socket = directSocket(ws);
    if (socket !== null) {
      // ws.bufferedAmount, read without the getter (equal while directSocket answers: see there).
      if (socket.writableLength > limitBytes) {
        dropped++;
        continue;
      }
      framed ??= binaryFrame(frame);
      socket.write(framed);
    } else {
      if (ws.bufferedAmount > limitBytes) {
        dropped++;
        continue;
      }
      ws.send(frame, BINARY);
    }
    sent++;
  }
  const stats = stream.stats;
  if (dropped > 0) {
    stats.backpressureDrops += dropped;
    counters.droppedBackpressure += dropped;
  }
  if (sent > 0) {
    const bytes = sent * frame.length;
    stats.relayedFrames += sent;
    stats.relayedBytes += bytes;
    counters.framesRelayed += sent;
    counters.bytesRelayed += bytes;
  }
}
