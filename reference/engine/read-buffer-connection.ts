import net from "node:net";
import type { ServerFrameReader } from "./server-frame-reader.ts";

// The media socket's connection for `readPackets` (load runs): reads land in one buffer per thread, passed to
// the ServerFrameReader in place (net.connect's documented `onread` option), instead of each read becoming a
// new Buffer pushed through the socket's Readable stream and emitted as 'data'. A listener VU reads one
// packet per 20 ms per stream it plays: 18,750 reads a second in each of rooms-250's two workers. Measured
// (/tmp-style probe: 100 Unix sockets, a child sending one 352-byte frame per socket per 20 ms, this process's
// CPU per packet, 3 interleaved rounds, load 4.4-5.3): 'data' events 11.2 µs, onread 7.1 µs.
//
// What it changes and what it does not: every byte still reaches the same place in the same order. Until the
// reader is in front of ws (the HTTP upgrade, and ws's own first moments) each read is copied into a new
// Buffer and emitted as 'data', exactly what the stream would have emitted, so the HTTP client and ws parse
// it as before. Then the reader walks the buffer in place: packets go to the handler as views that live for
// the call (the stream receiver consumes them synchronously and keeps nothing), and whatever ws keeps (control
// frames, fragments, a frame split across reads) is copied first (server-frame-reader.ts onBytes). One buffer
// serves every socket of the thread because a read is consumed before the next one can happen.

/** Largest read; a frame longer than this is reassembled by the reader across reads. */
const READ_BYTES = 64 * 1024;
let threadBuffer: Buffer | null = null;

/** Where a connection's reads go once the reader is installed (null: emitted as 'data', copied). */
export interface ReadRoute {
  reader: ServerFrameReader | null;
}

/** ws's `createConnection` option for a client whose reads go through `route` (see the header). */
export function readBufferConnection(route: ReadRoute): (options: net.NetConnectOpts) => net.Socket {
  return (options) => {
    threadBuffer ??= Buffer.allocUnsafe(READ_BYTES);
    // As ws's own netConnect: a ws+unix: URL's socket path (http's socketPath) is net's path.
    const o = options as net.NetConnectOpts & { socketPath?: string };
    let socket: net.Socket | null = null;
    const onRead = (n: number, buf: Uint8Array): boolean => {
      const reader = route.reader;
      if (reader !== null) reader.onBytes(buf as Buffer, n);
      else socket!.emit("data", Buffer.from(buf.subarray(0, n)));
      return true;
    };
    socket = net.connect({
      ...o,
      ...(o.socketPath !== undefined ? { path: o.socketPath } : {}),
      onread: { buffer: threadBuffer, callback: onRead },
    } as net.NetConnectOpts);
    return socket;
  };
}
