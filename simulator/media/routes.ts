import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { type Static, Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { type WebSocket, WebSocketServer } from "ws";
import { MAX_FRAME_BYTES, MEDIA_PATH, MediaClose, StreamStats } from "../../protocol/media.ts";
import { requireAdminAccess } from "../admin/loopback.ts";
import { VendorError } from "../errors.ts";
import { mediaFaultShaper } from "../faults/media-shaping.ts";
import { envelopeSchema, errorEnvelopeSchema, ok } from "../http.ts";
import { onControl } from "./control.ts";
import { onFrame } from "./frames.ts";
import { MediaHub, streamStats } from "./hub.ts";
import { registerMediaMetrics } from "./metrics.ts";
import { resolveMediaOptions } from "./options.ts";
import { startSweep } from "./sweep.ts";

// The media surface: `GET /v1/media` upgrades to a WebSocket (handled on the HTTP server's `upgrade` event
// with the `ws` package; Fastify only documents the route and answers plain GETs with 426), plus the
// loopback-only `GET /admin/media/streams`. Closing the simulator closes every media socket.

/** How long shutdown waits for clients to answer the close handshake before cutting their sockets. */
const CLOSE_GRACE_MS = 500;

const StreamsQuery = Type.Object(
  { app_id: Type.Optional(Type.String({ pattern: "^[0-9]{1,10}$" })) },
  { additionalProperties: false },
);

function refuseUpgrade(socket: Duplex, status: number, reason: string): void {
  socket.on("error", () => {});
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

export default async function mediaRoutes(app: FastifyInstance): Promise<void> {
  const options = resolveMediaOptions(app.sim.options.media);
  const log = app.log.child({ surface: "media" });
  const hub: MediaHub = new MediaHub({
    apps: app.sim.apps,
    rooms: app.sim.rooms,
    clock: app.sim.clock,
    log,
    options,
    metrics: registerMediaMetrics(app.sim.metrics.registry, {
      connections: () => hub.peers.size,
      rooms: () => hub.roomCount(),
      activeStreams: () => count(hub.streams.all(), (s) => s.publisher !== null),
      players: () => count(hub.streams.all(), (s) => s.players.size),
    }),
    shaper: mediaFaultShaper(app.sim.faults),
  });
  app.sim.media = hub;
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });
  let closing = false;

  const attach = (ws: WebSocket, req: IncomingMessage) => {
    const peer = hub.accept(ws, req.socket.remoteAddress ?? "");
    log.debug({ peer: peer.id, remote: peer.remote }, "media socket open");
    ws.on("message", (data, isBinary) => {
      if (peer.gone) return;
      try {
        if (isBinary) onFrame(hub, peer, data as Buffer);
        else onControl(hub, peer, data.toString("utf8"));
      } catch (err) {
        log.error({ err, peer: peer.id }, "media message failed");
      }
    });
    ws.on("pong", () => {
      peer.awaitingPong = false;
    });
    // ws reports protocol violations (oversized message, bad UTF-8, bad opcode) here, then closes the socket.
    ws.on("error", (err) => log.info({ peer: peer.id, msg: err.message }, "media socket error"));
    ws.on("close", (code) => {
      hub.drop(peer);
      log.debug({ peer: peer.id, code }, "media socket closed");
    });
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? "").split("?")[0];
    if (path !== MEDIA_PATH) return refuseUpgrade(socket, 404, "Not Found");
    if (closing) return refuseUpgrade(socket, 503, "Service Unavailable");
    if (wss.clients.size >= options.maxConnections) {
      log.warn({ max: options.maxConnections }, "media socket refused: too many connections");
      return refuseUpgrade(socket, 503, "Service Unavailable");
    }
    wss.handleUpgrade(req, socket, head, (ws) => attach(ws, req));
  };
  app.server.on("upgrade", onUpgrade);
  const stopSweep = startSweep(hub, app.sim.clock);

  app.addHook("preClose", async () => {
    closing = true;
    stopSweep();
    app.server.off("upgrade", onUpgrade);
    hub.closeAll();
    for (const ws of wss.clients)
      if (ws.readyState === ws.OPEN) ws.close(MediaClose.GoingAway, "simulator shutting down");
    const deadline = performance.now() + CLOSE_GRACE_MS;
    while (wss.clients.size > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    for (const ws of wss.clients) ws.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
  });

  app.get(
    MEDIA_PATH,
    {
      schema: {
        summary:
          "Media server WebSocket (send Upgrade: websocket): JSON control messages and binary audio frames (protocol/media.ts)",
        tags: ["vendor"],
        response: { 426: errorEnvelopeSchema },
      },
    },
    async () => {
      throw new VendorError(1000017, "GET /v1/media is a WebSocket endpoint: send Upgrade: websocket", 426);
    },
  );

  app.get(
    "/admin/media/streams",
    {
      onRequest: requireAdminAccess,
      schema: {
        summary: "Live media streams with their counters (frames, bytes, loss, gaps, relay latency, drops)",
        tags: ["admin"],
        querystring: StreamsQuery,
        response: {
          200: envelopeSchema(
            Type.Object({
              connections: Type.Integer(),
              rooms: Type.Integer(),
              streams: Type.Array(StreamStats),
            }),
          ),
        },
      },
    },
    async (req, reply) => {
      const { app_id } = req.query as Static<typeof StreamsQuery>;
      const streams = [];
      for (const s of hub.streams.all()) {
        if (app_id === undefined || s.appId === Number(app_id)) streams.push(streamStats(s));
      }
      return ok(req, reply, { connections: hub.peers.size, rooms: hub.roomCount(), streams });
    },
  );
}

function count<T>(items: Iterable<T>, f: (t: T) => number | boolean): number {
  let n = 0;
  for (const t of items) n += Number(f(t));
  return n;
}
