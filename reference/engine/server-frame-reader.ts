// The media socket's receive path for relayed packets: the connection's bytes walked frame by frame here, each
// whole unfragmented binary frame (FIN + opcode 2, no RSV bits, unmasked, within the payload limit) handed
// straight to the packet handler as a view of the bytes read, and every other frame (text, ping/pong/close,
// fragments, anything malformed) passed, whole and in order, to ws's own data handler, so ws still answers
// pings, runs the close handshake, reassembles fragments and refuses protocol errors exactly as before. A
// listener gets 50 packets/s per singer it plays; through ws each one went through the Receiver's Writable
// stream, its frame state machine, a fragment list, an 'message' event and the socket's own bookkeeping
// (bench/harness/socket-floor.ts prices the difference per packet).
//
// Order is kept: frames are taken strictly in stream order and each goes to one of the two handlers before
// the next is looked at. While a fragmented message is open (a data frame without FIN went to ws) every
// frame goes to ws until its final fragment has. A frame split across reads is held here (copied) until
// whole; ws only ever sees whole frames. A frame longer than the limit, or a masked one (a server must not
// mask), goes to ws as it arrives (ws closes the connection, 1009 / 1002) and from then on every byte does.

/** The socket's data handler ws installed (called with the socket as `this`). */
export type DataHandler = (this: unknown, chunk: Buffer) => void;

/**
 * Puts a ServerFrameReader in front of ws's data handler on a connection ws has just opened (call it from
 * 'open': ws installs its handler in setSocket, right before). Only when there is exactly one data handler
 * (ws's own); otherwise null and ws keeps reading alone.
 */
export function readPacketsBeforeWs(
  socket: NodeJS.EventEmitter,
  onPacket: (payload: Buffer) => void,
  maxPayload: number,
): ServerFrameReader | null {
  const listeners = socket.listeners("data");
  if (listeners.length !== 1) return null;
  const wsData = listeners[0] as DataHandler;
  const reader = new ServerFrameReader(onPacket, wsData, socket, maxPayload);
  socket.removeListener("data", wsData);
  socket.on("data", reader.onData);
  return reader;
}

const FIN_BINARY = 0x82;

export class ServerFrameReader {
  /** pending[0 .. pendingLength]: the bytes of a frame not yet whole (a copy). */
  private pending: Buffer | null = null;
  private pendingLength = 0;
  /** A fragmented message is open in ws: frames go to ws until its FIN fragment. */
  private fragmented = false;
  /** Everything goes to ws from now on (a frame this reader will not hold: too long, or masked). */
  private delegated = false;
  /** Packets handed straight to `onPacket` (tests, stats). */
  packets = 0;
  /** Reads walked in the caller's reused buffer (onBytes), not as 'data' chunks (tests, stats). */
  readsInPlace = 0;

  constructor(
    private readonly onPacket: (payload: Buffer) => void,
    private readonly wsData: DataHandler,
    private readonly wsThis: unknown,
    /** Largest payload a packet may have (ws's maxPayload). */
    private readonly maxPayload: number,
  ) {}

  /** The socket's 'data' listener: `chunk` is the reader's to keep. */
  readonly onData = (chunk: Buffer): void => this.take(chunk, chunk.length, false);

  /**
   * `n` bytes read into `buf`, a buffer the caller reuses for the next read (read-buffer-connection.ts): packets
   * are handed on as views valid during the call only (the handler consumes them synchronously), and whatever
   * must outlive the call is copied: frames for ws, a frame not yet whole.
   */
  onBytes(buf: Buffer, n: number): void {
    this.readsInPlace++;
    this.take(buf, n, true);
  }

  /** buf[0..n) read from the socket; `reused`: buf is overwritten after this call. */
  private take(buf: Buffer, n: number, reused: boolean): void {
    if (this.delegated) {
      const bytes = n === buf.length ? buf : buf.subarray(0, n);
      this.wsData.call(this.wsThis, reused ? Buffer.from(bytes) : bytes);
      return;
    }
    if (this.pendingLength > 0) {
      const joined = Buffer.concat([this.pending!.subarray(0, this.pendingLength), buf.subarray(0, n)]);
      this.pendingLength = 0;
      this.walk(joined, joined.length, false);
      return;
    }
    this.walk(buf, n, reused);
  }

  /** Frames in buf[0..end); `reused`: buf is overwritten after this call, so what ws keeps is copied. */
  private walk(buf: Buffer, end: number, reused: boolean): void {
    let at = 0;
    while (at < end) {
      if (end - at < 2) break;
      const b0 = buf[at]!;
      const b1 = buf[at + 1]!;
      let len = b1 & 0x7f;
      let head = 2;
      if (len === 126) {
        if (end - at < 4) break;
        len = (buf[at + 2]! << 8) | buf[at + 3]!;
        head = 4;
      } else if (len === 127) {
        if (end - at < 10) break;
        // Above 2^32 it is over any limit here: let ws refuse it.
        const hi = buf.readUInt32BE(at + 2);
        len = hi !== 0 ? Number.MAX_SAFE_INTEGER : buf.readUInt32BE(at + 6);
        head = 10;
      }
      if ((b1 & 0x80) !== 0 || len > this.maxPayload) {
        // Masked by a server, or longer than allowed: ws closes the connection on it.
        this.delegated = true;
        const rest = at === 0 && end === buf.length ? buf : buf.subarray(at, end);
        this.wsData.call(this.wsThis, reused ? Buffer.from(rest) : rest);
        return;
      }
      const frameEnd = at + head + len;
      if (frameEnd > end) break;
      if (b0 === FIN_BINARY && !this.fragmented) {
        this.packets++;
        this.onPacket(buf.subarray(at + head, frameEnd));
      } else {
        const opcode = b0 & 0x0f;
        // A data frame without FIN opens a fragmented message; a continuation with FIN closes it.
        if (opcode < 8) this.fragmented = (b0 & 0x80) === 0;
        const whole = buf.subarray(at, frameEnd);
        this.wsData.call(this.wsThis, reused ? Buffer.from(whole) : whole);
      }
      at = frameEnd;
    }
    if (at < end) this.hold(buf, at, end);
  }

  /** Keeps buf[at..end) (a frame not yet whole) for the next read. */
  private hold(buf: Buffer, at: number, end: number): void {
    const n = end - at;
    if (this.pending === null || this.pending.length < n)
      this.pending = Buffer.allocUnsafe(Math.max(n, 4096));
    buf.copy(this.pending, 0, at, end);
    this.pendingLength = n;
  }
}
