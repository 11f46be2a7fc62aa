import type { Writable } from "node:stream";

// A published packet as one WebSocket client frame, written straight to the connection's socket: one
// `socket.write` of one buffer per packet. Through ws, `send` cost a frame-options object, a header buffer, a
// fresh masking key and a masked copy of the payload (or, unmasked, a cork + two writes + uncork: a writev), plus
// the Sender's and the stream's bookkeeping around it, 3.6 µs of CPU more per packet than a bare socket write on
// this project's 2-core VM (bench/harness/socket-floor.ts), at 12,500 packets/s in rooms-250.
//
// Framing (RFC 6455 §5.2): FIN + binary opcode, the MASK bit set (a client must mask), the 7/16/64-bit length,
// then a masking key of 0x00000000 and the payload as is (XOR with a zero key is the identity). A zero key is
// legal framing: the RFC asks a client for an unpredictable key to protect intermediaries that cache by content,
// which a load generator talking to its own target on loopback has none of; a browser or a real SDK would pick
// random keys. It is this load generator's choice, and the `ws` server in the simulator (and any RFC 6455
// server) accepts it; `ws` even skips the XOR for a zero key, so the relay saves the unmasking too.
//
// Writing around ws's Sender is safe because the media socket never uses what could reorder frames: no
// permessage-deflate (negotiation is off) and no Blob data, so the Sender writes every text message
// synchronously to the same socket, in call order with these writes.
//
// The frame buffer is reused when the socket has finished with it: after a write that completed synchronously
// (the usual case: the kernel took all the bytes), `writableLength` is back to 0 and the stream holds no
// reference to any buffer. When a write from it was not taken at once (the kernel's buffer was full), the
// stream's queue holds it: until the queue has drained (writableLength 0 again), each frame gets a buffer of
// its own, of exactly its size (small ones from Node's shared pool).

/** RFC 6455 header bytes of a masked client frame for a payload of `n` bytes (2/4/10 + the 4-byte key). */
export function clientFrameHeaderBytes(n: number): number {
  return (n <= 125 ? 2 : n <= 0xffff ? 4 : 10) + 4;
}

/**
 * Writes the masked (zero-key) client frame of `payload` into `out` from 0; returns the frame's length. `out`
 * must have room for clientFrameHeaderBytes(payload.length) + payload.length bytes.
 */
export function writeClientBinaryFrame(payload: Uint8Array, out: Uint8Array): number {
  const n = payload.length;
  out[0] = 0x82; // FIN, opcode 2 (binary)
  let o: number;
  if (n <= 125) {
    out[1] = 0x80 | n;
    o = 2;
  } else if (n <= 0xffff) {
    out[1] = 0x80 | 126;
    out[2] = n >>> 8;
    out[3] = n & 0xff;
    o = 4;
  } else {
    out[1] = 0x80 | 127;
    // Frames here are far below 2^32 bytes: the upper four length bytes are 0.
    out[2] = out[3] = out[4] = out[5] = 0;
    out[6] = n >>> 24;
    out[7] = (n >>> 16) & 0xff;
    out[8] = (n >>> 8) & 0xff;
    out[9] = n & 0xff;
    o = 10;
  }
  out[o] = out[o + 1] = out[o + 2] = out[o + 3] = 0; // the masking key
  out.set(payload, o + 4);
  return o + 4 + n;
}

/** The socket's side this writer needs (a net.Socket or tls.TLSSocket). */
export type FrameSink = Pick<Writable, "write" | "writableLength">;

export class ClientFrameWriter {
  /** The reused frame buffer. */
  private readonly buf: Buffer;
  /** buf[0 .. length] by frame length, made on first use (one view per packet size seen: bounded). */
  private readonly views: (Buffer | undefined)[] = [];
  /** The socket may still hold a frame written from `buf` (that write did not complete at once). */
  private held = false;
  /** Frames written into a buffer of their own because `buf` was held or too small (tests, stats). */
  fresh = 0;
  /** Frames written (tests, stats). */
  written = 0;

  constructor(
    private readonly socket: FrameSink,
    /** The largest payload to expect in the reused buffer; larger ones get a buffer of their own. */
    capacity = 4096,
  ) {
    this.buf = Buffer.allocUnsafe(clientFrameHeaderBytes(capacity) + capacity);
  }

  /** Writes one binary message; returns what socket.write returned (false: the socket is backed up). */
  write(payload: Uint8Array): boolean {
    const socket = this.socket;
    this.written++;
    // Once nothing is queued, every earlier write has completed and released its buffer.
    if (this.held && socket.writableLength === 0) this.held = false;
    const need = clientFrameHeaderBytes(payload.length) + payload.length;
    if (this.held || need > this.buf.length) {
      // Exactly the frame's size: small ones come from Node's shared pool, not a fresh 4 KiB each.
      this.fresh++;
      const own = Buffer.allocUnsafe(need);
      writeClientBinaryFrame(payload, own);
      return socket.write(own);
    }
    const len = writeClientBinaryFrame(payload, this.buf);
    let view = this.views[len];
    if (view === undefined) {
      view = this.buf.subarray(0, len);
      this.views[len] = view;
    }
    const ok = socket.write(view);
    // Not taken at once (the kernel's buffer was full): the stream's queue holds `buf` until it drains.
    if (socket.writableLength !== 0) this.held = true;
    return ok;
  }
}
