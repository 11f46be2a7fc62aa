import type { Socket } from "node:net";
import type { WebSocket } from "ws";

// One relayed packet, framed once, written to every player's socket as is. A server's WebSocket frames are
// unmasked (RFC 6455 §5.1), so the bytes of one binary message are the same on every connection: framing it
// per player (what ws.send does) repeats the same header work, allocation and two-buffer writev N times.
// Measured on this 2-core machine (375 sockets, one 330-byte packet each per 20 ms, server process CPU per
// send, medians of 3 interleaved rounds): ws.send 7.2 µs, one pre-framed write 5.6 µs over a Unix socket
// (13.0 -> 10.9 µs over loopback TCP).
//
// The write goes to the socket under the WebSocket, which is only safe while ws itself has nothing queued
// for it: ws sends synchronously unless it is compressing or reading a Blob (neither happens on these
// sockets: permessage-deflate is off and the server only sends Buffers), so a non-empty sender queue or an
// unexpected shape falls back to ws.send, which keeps order. ws.bufferedAmount counts these bytes (it reads
// the socket's own buffer), so the relay's backpressure limit still holds.

const OPCODE_BINARY = 0x2;
const FIN = 0x80;

/** Bytes of `payload` (n bytes) framed as one unmasked binary message: the header and the payload. */
export function framedLength(n: number): number {
  return (n < 126 ? 2 : n < 65_536 ? 4 : 10) + n;
}

/**
 * Writes `payload` as one unmasked, final binary frame at the start of `out` (at least framedLength bytes) and
 * returns how many bytes that took.
 */
export function binaryFrameInto(out: Buffer, payload: Uint8Array): number {
  const n = payload.length;
  const head = n < 126 ? 2 : n < 65_536 ? 4 : 10;
  out[0] = FIN | OPCODE_BINARY;
  if (n < 126) out[1] = n;
  else if (n < 65_536) {
    out[1] = 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 127;
    out.writeUInt32BE(Math.floor(n / 2 ** 32), 2);
    out.writeUInt32BE(n >>> 0, 6);
  }
  out.set(payload, head);
  return head + n;
}

/** `payload` as one unmasked, final binary frame (header + payload in one new buffer). */
export function binaryFrame(payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(framedLength(payload.length));
  binaryFrameInto(out, payload);
  return out;
}

/** What ws keeps on a WebSocket that this path reads (private fields, checked before every use). */
interface WsInternals {
  _socket?: Socket;
  _sender?: { _queue?: unknown[]; _state?: number };
}

/**
 * The socket under `ws` when a frame made by binaryFrame() may be written to it directly right now, else null
 * (then send the payload with ws.send instead). While this answers a socket, ws has nothing queued of its own, so
 * `socket.writableLength` is exactly ws.bufferedAmount (the socket's buffer plus the sender's queue, empty):
 * the relay's backpressure check reads it here instead of through ws's getter.
 */
export function directSocket(ws: WebSocket): Socket | null {
  const w = ws as unknown as WsInternals;
  const socket = w._socket;
  const sender = w._sender;
  if (socket === undefined || sender === undefined || socket.destroyed) return null;
  const queue = sender._queue;
  // A sender not in its default state (0) is between the parts of a message (compressing, reading a Blob).
  if (!Array.isArray(queue) || queue.length > 0 || (sender._state ?? 0) !== 0) return null;
  return socket;
}
