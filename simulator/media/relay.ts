import { WebSocket } from "ws";
import type { MediaCounters } from "./metrics.ts";
import type { MediaStream } from "./streams.ts";
import { binaryFrame, writeFramed } from "./wire-frame.ts";

// Every published frame passes through relay() exactly once, on its way from the publisher to the players.
// This is the media fault seam: a shaper decides what reaches the players and when. The default passes each
// frame through untouched; the fault engine's `media` kind (loss, jitter, duplication, reordering, delay) is
// carried out by a shaper (faults/media-shaping.ts) that drops a frame (never calls deliver), delays it
// (calls deliver later), duplicates it (calls deliver twice) or holds it back behind later ones. deliver()
// sends to whoever plays the stream at the moment it is called, so a delayed frame never reaches a player
// who left. The hub tells the shaper when a stream stops being published, so nothing is held past that.

/** What a shaper may base its decision on. Built per frame; a shaper that defers may keep it. */
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

/**
 * Sends `frame` to each player of `stream`. A player whose socket already holds more than `limitBytes` unsent
 * skips this frame (counted): a slow reader loses audio instead of growing the server's memory, and resumes
 * at the live edge once it drains. The frame is framed for the wire once, for all players (wire-frame.ts).
 */
export function fanOut(
  stream: MediaStream,
  frame: Buffer,
  limitBytes: number,
  counters: MediaCounters,
): void {
  const stats = stream.stats;
  let framed: Buffer | null = null;
  for (const p of stream.players) {
    const ws = p.ws;
    if (p.gone || ws.readyState !== WebSocket.OPEN) continue;
    if (ws.bufferedAmount > limitBytes) {
      stats.backpressureDrops++;
      counters.droppedBackpressure++;
      continue;
    }
    framed ??= binaryFrame(frame);
    if (!writeFramed(ws, framed)) ws.send(frame, BINARY);
    stats.relayedFrames++;
    stats.relayedBytes += frame.length;
    counters.framesRelayed++;
    counters.bytesRelayed += frame.length;
  }
}
