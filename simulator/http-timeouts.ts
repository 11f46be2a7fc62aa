import type { Server } from "node:http";
import type { Socket } from "node:net";

// How long the simulator's HTTP server (API, CDN, and the media WebSocket's upgrade request) waits on a client
// that is slow on purpose: slowloris headers a byte at a time, a body that never ends, a keep-alive connection
// left idle, a download or a media socket whose reader stopped reading. Each bound frees the socket and what
// it holds; a normal client never comes near them on loopback.
//
// Before this file: node's own headersTimeout (60 s), checked every 30 s (so up to 90 s per slowloris socket);
// Fastify's requestTimeout 0 (a body could dribble forever); and nothing for a reader that stops: a download
// whose client never reads held its socket, its stream and the bytes queued for it forever (an upgraded media
// socket has ping/pong, up to 2 x pingIntervalMs, and the hard buffer limit).
export interface HttpTimeouts {
  /** A request's headers (the media WebSocket's upgrade request included) must be complete this long after the
   * connection opened or the previous response: else 408 in the envelope, `Connection: close`. */
  headersTimeoutMs: number;
  /** The whole request (headers and body) must be received by then: else 408 (a body that never ends). */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this long (Fastify's default, 72 s). */
  keepAliveTimeoutMs: number;
  /** A socket with bytes queued for its client that takes none of them for this long is cut (a reader that
   * stopped: a download, or a media socket). A server-side pause (a fault's stall) queues nothing: never cut. */
  stalledReaderMs: number;
  /** How often the three bounds above are checked (node's connectionsCheckingInterval, and the stalled sweep). */
  checkIntervalMs: number;
}

export const DEFAULT_HTTP_TIMEOUTS: HttpTimeouts = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 72_000,
  stalledReaderMs: 60_000,
  checkIntervalMs: 1_000,
};

/** Defaults + overrides; throws RangeError naming the first bad or unknown knob. */
export function resolveHttpTimeouts(partial: Partial<HttpTimeouts> = {}): HttpTimeouts {
  for (const k of Object.keys(partial)) {
    if (!(k in DEFAULT_HTTP_TIMEOUTS)) throw new RangeError(`unknown http timeout ${k}`);
  }
  const o: HttpTimeouts = { ...DEFAULT_HTTP_TIMEOUTS, ...partial };
  for (const [k, v] of Object.entries(o)) {
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1) {
      throw new RangeError(`http timeout ${k} must be a positive integer (ms), got ${JSON.stringify(v)}`);
    }
  }
  // node refuses a headers timeout above the request timeout (the request includes its headers).
  if (o.headersTimeoutMs > o.requestTimeoutMs) {
    throw new RangeError(
      `http timeout headersTimeoutMs (${o.headersTimeoutMs}) must not exceed requestTimeoutMs (${o.requestTimeoutMs})`,
    );
  }
  return o;
}

export interface SlowClients {
  /** Sockets cut because their reader stopped, and requests whose body did not arrive in time (since start). */
  readonly stalledReaders: number;
  readonly slowBodies: number;
  stop(): void;
}

interface Progress {
  bytesWritten: number;
  /** Bytes libuv still holds of the writes in flight (see unsentInFlight). */
  inFlight: number;
  /** performance.now() when the socket last had nothing queued or took some of it. */
  since: number;
  /** The request whose body is being received, and since when (performance.now()). */
  incoming: unknown;
  bodySince: number;
}

/**
 * What libuv still has to send of the writes handed to it. bytesWritten and writableLength only move when a
 * whole write completes, and the CDN's fast path writes a whole file at once: measured, a 20 MB write to a
 * client reading 1 MB per 300 ms kept both still for seconds while this fell 16.8 -> 7.7 MB. It is the TCP
 * handle's `writeQueueSize` (libuv's write_queue_size, which node's own net.js reads); -1 when absent.
 */
function unsentInFlight(socket: Socket): number {
  const handle = (socket as unknown as { _handle?: { writeQueueSize?: number } | null })._handle;
  return typeof handle?.writeQueueSize === "number" ? handle.writeQueueSize : -1;
}

/**
 * The request node's parser is receiving on this socket, while its body is incomplete (null otherwise). node's
 * requestTimeout stops applying once the headers are in and the request is handed to the app (measured: a
 * body dribbled over 5.6 s went through with requestTimeout 600 ms), so the body's deadline is kept here, read
 * from the parser (`socket.parser.incoming`, node's http server internals) rather than by a timer per request.
 */
function incompleteRequest(socket: Socket): { complete: boolean } | null {
  const incoming = (socket as unknown as { parser?: { incoming?: { complete: boolean } | null } | null })
    .parser?.incoming;
  return incoming && !incoming.complete ? incoming : null;
}

export interface SlowClientHooks {
  /** A request's body did not arrive within requestTimeoutMs: answer it (the socket is destroyed after). */
  answerSlowBody(socket: Socket, ms: number): void;
  /** A socket is about to be cut because its client stopped reading. */
  onStalledReader(socket: Socket, ms: number): void;
}

/**
 * Watches every socket of `server` from one timer: cuts those whose client stopped reading (bytes are queued
 * in the process because the kernel's buffers are full, and none has left for `stalledReaderMs`), and answers
 * 408 to a request whose body has not all arrived `requestTimeoutMs` after its headers. A few reads per socket
 * per check. Upgraded (media) sockets are watched too: ws writes through the same socket.
 */
export function watchSlowClients(
  server: Pick<Server, "on" | "off">,
  o: Pick<HttpTimeouts, "stalledReaderMs" | "requestTimeoutMs" | "checkIntervalMs">,
  hooks: SlowClientHooks,
): SlowClients {
  const sockets = new Map<Socket, Progress>();
  let stalledReaders = 0;
  let slowBodies = 0;
  const onConnection = (socket: Socket) => {
    const now = performance.now();
    sockets.set(socket, {
      bytesWritten: socket.bytesWritten,
      inFlight: -1,
      since: now,
      incoming: null,
      bodySince: now,
    });
    socket.once("close", () => sockets.delete(socket));
  };
  server.on("connection", onConnection);
  const timer = setInterval(() => {
    const now = performance.now();
    for (const [socket, p] of sockets) {
      const inFlight = unsentInFlight(socket);
      if (socket.writableLength === 0 || socket.bytesWritten !== p.bytesWritten || inFlight !== p.inFlight) {
        p.bytesWritten = socket.bytesWritten;
        p.inFlight = inFlight;
        p.since = now;
      } else if (now - p.since >= o.stalledReaderMs) {
        sockets.delete(socket);
        stalledReaders++;
        hooks.onStalledReader(socket, now - p.since);
        socket.destroy();
        continue;
      }
      const incoming = incompleteRequest(socket);
      if (incoming !== p.incoming) {
        p.incoming = incoming;
        p.bodySince = now;
      } else if (incoming && now - p.bodySince >= o.requestTimeoutMs) {
        sockets.delete(socket);
        slowBodies++;
        hooks.answerSlowBody(socket, now - p.bodySince);
      }
    }
  }, o.checkIntervalMs);
  timer.unref();
  return {
    get stalledReaders() {
      return stalledReaders;
    },
    get slowBodies() {
      return slowBodies;
    },
    stop() {
      clearInterval(timer);
      server.off("connection", onConnection);
      sockets.clear();
    },
  };
}
