import { WebSocket } from "ws";
import type { MediaCounters } from "./metrics.ts";
import type { MediaStream } from "./streams.ts";

// Every published frame passes through relay() exactly once, on its way from the publisher to the players.
// This is the media fault seam: a shaper decides what reaches the players and when. The default passes each
// frame through untouched; the fault engine's future `media` kind (loss, jitter, duplication, reordering,
// delay) is a shaper that drops a frame (never calls deliver), delays it (calls deliver later, under an
// AbortSignal), duplicates it (calls deliver twice) or holds it back behind later ones. deliver() sends to
// whoever plays the stream at the moment it is called, so a delayed frame never reaches a player who left.

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
  shape(frame: Buffer, ctx: RelayContext, deliver: Deliver): void;
}

export const passThrough: MediaShaper = {
  shape(frame, _ctx, deliver) {
    deliver(frame);
  },
};

/** Hands one received frame to the shaper, which delivers it to the stream's players (or not). */
export function relay(frame: Buffer, ctx: RelayContext, stream: MediaStream, shaper: MediaShaper): void {
  shaper.shape(frame, ctx, stream.deliver);
}

const BINARY = { binary: true } as const;

/**
 * Sends `frame` to each player of `stream`. A player whose socket already holds more than `limitBytes` unsent
 * skips this frame (counted): a slow reader loses audio instead of growing the server's memory, and resumes
 * at the live edge once it drains.
 */
export function fanOut(
  stream: MediaStream,
  frame: Buffer,
  limitBytes: number,
  counters: MediaCounters,
): void {
  const stats = stream.stats;
  for (const p of stream.players) {
    const ws = p.ws;
    if (p.gone || ws.readyState !== WebSocket.OPEN) continue;
    if (ws.bufferedAmount > limitBytes) {
      stats.backpressureDrops++;
      counters.droppedBackpressure++;
      continue;
    }
    ws.send(frame, BINARY);
    stats.relayedFrames++;
    stats.relayedBytes += frame.length;
    counters.framesRelayed++;
    counters.bytesRelayed += frame.length;
  }
}
