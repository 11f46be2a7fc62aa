import { WebSocket } from "ws";
import type { MediaCounters } from "./metrics.ts";
import type { MediaStream } from "./streams.ts";
import { binaryFrameInto, directSocket, framedLength } from "./wire-frame.ts";

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
 * The buffer the next relayed frame is framed into, while no socket holds the last one: a write the kernel took
 * whole leaves nothing referencing its bytes (the socket's writableLength is back to 0 when write() returns), so
 * the same memory serves frame after frame. A write that queued (a slow reader, a busy socket) keeps the buffer,
 * and the next frame gets a new one. Framing into a fresh buffer per frame, as before, allocated ~2 KB of
 * off-heap memory per 10 ms PCM frame (~30 MB/s at 160 rooms) that a bare ws relay (which writes the received
 * bytes behind a separate header) does not: measured in a simulator that had served the HTTP races first
 * (bench/cases/shared-sim.ts), relaying 60 rooms ran a full mark-compact of its ~50 MB heap every 0.5-1.5 s,
 * 10-30 ms each, where the bare relay ran none.
 */
let spare: Buffer | null = null;
/** The smallest spare: a 10 ms stereo PCM frame (1,952 bytes) and its header fit. */
const SPARE_MIN_BYTES = 4096;

/**
 * Sends `frame` to each player of `stream`. A player whose socket already holds more than `limitBytes` unsent
 * skips this frame (counted): a slow reader loses audio instead of growing the server's memory, and resumes
 * at the live edge once it drains. The frame is framed for the wire once, for all players (wire-frame.ts), and
 * those bytes are written to every player's socket. Per player this reads a few fields and writes; the
 * counters are added once per frame.
 */
export function fanOut(
  stream: MediaStream,
  frame: Buffer,
  limitBytes: number,
  counters: MediaCounters,
): void {
  let framed: Buffer | null = null;
  let held = false;
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
      if (framed === null) {
        const need = framedLength(frame.length);
        const into =
          spare !== null && spare.length >= need
            ? spare
            : Buffer.allocUnsafeSlow(Math.max(need, SPARE_MIN_BYTES));
        spare = into;
        framed = into.subarray(0, binaryFrameInto(into, frame));
      }
      socket.write(framed);
      if (socket.writableLength > 0) held = true;
    } else {
      if (ws.bufferedAmount > limitBytes) {
        dropped++;
        continue;
      }
      ws.send(frame, BINARY);
    }
    sent++;
  }
  // A socket queued these bytes: they are its now, the next frame is framed elsewhere.
  if (held) spare = null;
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
