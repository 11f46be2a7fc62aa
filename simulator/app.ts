import { randomBytes } from "node:crypto";
import swagger from "@fastify/swagger";
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from "fastify";
import { errorEnvelope } from "../protocol/envelope.ts";
import adminRoutes from "./admin/routes.ts";
import { createAppRegistry } from "./auth/apps.ts";
import { createRoomRegistry } from "./auth/rooms.ts";
import authRoutes from "./auth/routes.ts";
import { createSessionStore } from "./auth/sessions.ts";
import { createCatalog } from "./catalog/index.ts";
import cdnRoutes from "./cdn/routes.ts";
import { chunkCacheOf } from "./cdn/warm.ts";
import { systemClock } from "./clock.ts";
import { withExtendedCommands } from "./content/openapi.ts";
import contentRoutes from "./content/routes.ts";
import type { SimContext } from "./context.ts";
import { VendorError } from "./errors.ts";
import { type ExtendedFastPath, installExtendedFastPath, requestIdOf } from "./fast-path/extended.ts";
import { createFaultEngine } from "./faults/engine.ts";
import { faultHook } from "./faults/hook.ts";
import faultRoutes from "./faults/routes.ts";
import {
  answerAndClose,
  clientErrorResponse,
  envelopeClientErrors,
  installRouteFallbacks,
  refuseHostless,
} from "./http.ts";
import { resolveHttpTimeouts, watchSlowClients } from "./http-timeouts.ts";
import { openLedger } from "./ledger/sqlite-ledger.ts";
import { resolveLimits } from "./limits.ts";
import { listenLocalSocket } from "./local-socket.ts";
import lyricsRoutes from "./lyrics/routes.ts";
import mediaRoutes from "./media/routes.ts";
import { withErrorStatuses } from "./ops/error-statuses.ts";
import { lazyChildLogger } from "./ops/lazy-logger.ts";
import { createMetrics, observeChunkCache, observeLedger, observeReadings } from "./ops/metrics.ts";
import { observeRequests } from "./ops/observe.ts";
import opsRoutes from "./ops/routes.ts";
import { DEV_APP, resolveOptions, type SimOptions } from "./options.ts";
import resourceRoutes from "./resources/routes.ts";
import { createResourceStore } from "./resources/store.ts";
import { withServerApiActions } from "./server-api/openapi.ts";
import serverApiRoutes from "./server-api/routes.ts";

export interface Simulator {
  app: FastifyInstance;
  ctx: SimContext;
  /** Base URL once listening, e.g. http://127.0.0.1:7400 */
  url: string;
  /** The Unix domain socket also served (options.socketPath), or null. */
  socketPath: string | null;
  /** The extended-call fast path in front of Fastify, or null when options.fastPath is false. */
  fastPath: ExtendedFastPath | null;
  close(): Promise<void>;
}

/** Builds the whole simulator (not listening yet). */
export async function buildSimulator(
  partial: Partial<SimOptions> = {},
): Promise<{ app: FastifyInstance; ctx: SimContext; fastPath: ExtendedFastPath | null }> {
  const options = resolveOptions(partial);
  const clock = options.clock ?? systemClock();
  const reqPrefix = randomBytes(4).toString("hex");
  let reqSeq = 0;
  const nextReqId = () => `${reqPrefix}-${(++reqSeq).toString(36)}`;
  const timeouts = resolveHttpTimeouts(options.http);
  const app = Fastify({
    // Slow clients on purpose (slowloris, endless bodies, idle keep-alive): http-timeouts.ts.
    http: {
      // node's own check answers a Host-less HTTP/1.1 request 400 with an empty body: refuseHostless below
      // answers it in the envelope instead.
      requireHostHeader: false,
      headersTimeout: timeouts.headersTimeoutMs,
      connectionsCheckingInterval: timeouts.checkIntervalMs,
    },
    requestTimeout: timeouts.requestTimeoutMs,
    keepAliveTimeout: timeouts.keepAliveTimeoutMs,
    logger: { level: options.logLevel, ...(options.logStream ? { stream: options.logStream } : {}) },
    bodyLimit: options.bodyLimit,
    // The fast path gives a request its id when its headers arrive, as Fastify would; kept if handed over.
    genReqId: (req) => requestIdOf(req, nextReqId),
    childLoggerFactory: lazyChildLogger,
    clientErrorHandler: envelopeClientErrors(nextReqId),
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    // A response schema with a union (every envelope's `data: T | null`) makes fast-json-stringify compile an ajv
    // validator on the route's first answer of that shape: ~200 ms of the simulator's thread spread over the
    // first users' answers (profiled at smoke load). With warmUp it is compiled with the route instead.
    ...(options.warmUp ? { serializerOpts: { compileValidators: true } } : {}),
    // Keep-alive connections from load generators must not pin the process on close.
    forceCloseConnections: true,
    // Errors raised before routing (an undecodable URL such as "/x/%E0%A4%A") still get the envelope.
    frameworkErrors: (err, req, reply) => {
      req.log.info({ code: 1017040, msg: err.message }, "bad request");
      (reply as FastifyReply)
        .code(400)
        .send(errorEnvelope(String(req.id), 1017040, `illegal parameter: ${err.message}`));
    },
  });

  // The fields the guards, the fault seam and the metrics hooks set on a request or reply, declared up front:
  // every request and reply object then starts with its final shape (Fastify's advice), rather than taking a new
  // hidden class for each field a hook adds, which leaves Fastify's own per-request code seeing many shapes.
  app.decorateRequest("auth", undefined);
  app.decorateRequest("musicSession", undefined);
  app.decorateRequest("faultKey", undefined);
  app.decorateRequest("faultSubject", undefined);
  app.decorateReply("vendorCode", undefined);
  app.decorateReply("pageAnswer", undefined);
  app.addHook("onRequest", refuseHostless);
  // No route serves CONNECT; without a listener node drops the socket without a word.
  app.server.on("connect", (_req: unknown, socket: import("node:net").Socket) => {
    const requestId = nextReqId();
    app.log.info({ code: 1017040, request_id: requestId }, "CONNECT refused");
    answerAndClose(socket, clientErrorResponse("KTV_CONNECT", requestId));
  });

  const noDevApp = options.apps.length === 0;
  const apps = createAppRegistry(noDevApp ? [DEV_APP] : options.apps);
  if (noDevApp) {
    app.log.warn(
      { app_id: DEV_APP.app_id, app_sign: DEV_APP.app_sign, token_secret: DEV_APP.token_secret },
      "no --apps given: serving the development app (never expose this simulator beyond loopback)",
    );
  }
  const t0 = performance.now();
  const catalog = createCatalog(options.seed, options.catalogSize);
  app.log.info(
    { seed: options.seed, songs: catalog.size, ms: Math.round(performance.now() - t0) },
    "catalog generated",
  );
  const metrics = createMetrics();
  const ledger = openLedger(options.dataDir, { synchronous: options.ledgerSync });
  app.log.info(ledger.info(), "ledger open");
  const limits = resolveLimits(options.limits);
  const resources = createResourceStore({ clock, options, limits });
  const ctx: SimContext = {
    options,
    clock,
    catalog,
    ledger,
    resources,
    apps,
    sessions: createSessionStore(limits),
    rooms: createRoomRegistry(limits),
    faults: createFaultEngine({
      seed: options.seed,
      clock,
      profile: options.faults,
      catalog,
      resources,
      registry: metrics.registry,
    }),
    metrics,
  };
  app.decorate("sim", ctx);
  const slow = watchSlowClients(app.server, timeouts, {
    onStalledReader: (socket, ms) =>
      app.log.info(
        { remote: socket.remoteAddress, queued_bytes: socket.writableLength, stalled_ms: Math.round(ms) },
        "socket cut: its client stopped reading",
      ),
    answerSlowBody: (socket, ms) => {
      const requestId = nextReqId();
      app.log.info(
        { code: 1017040, request_id: requestId, remote: socket.remoteAddress, ms: Math.round(ms) },
        "request body not received in time: 408",
      );
      answerAndClose(socket, clientErrorResponse("ERR_HTTP_REQUEST_TIMEOUT", requestId));
    },
  });
  app.addHook("onClose", async () => slow.stop());
  observeReadings(metrics, [
    ["ktv_sessions", "Music sessions held", () => ctx.sessions.count],
    [
      "ktv_sessions_forgotten",
      "Sessions forgotten at a per-user or per-app cap (limits.ts)",
      () => ctx.sessions.evicted,
    ],
    ["ktv_resources", "Resources held", () => ctx.resources.count],
    [
      "ktv_resources_forgotten",
      "Resources forgotten at a per-session or per-app cap",
      () => ctx.resources.evicted,
    ],
    ["ktv_room_logins_refused", "Room logins refused at a cap (1002001, 1002035)", () => ctx.rooms.refused],
    [
      "ktv_http_stalled_readers_cut",
      "Sockets cut because their client stopped reading",
      () => slow.stalledReaders,
    ],
    [
      "ktv_http_slow_bodies_cut",
      "Requests answered 408 because their body did not arrive in time",
      () => slow.slowBodies,
    ],
  ]);
  observeLedger(metrics, ctx.ledger);
  observeChunkCache(metrics, () => chunkCacheOf(ctx));
  app.addHook("onClose", async () => ctx.ledger.close());

  app.setErrorHandler((err: FastifyError | VendorError, req, reply) => {
    if (err instanceof VendorError) {
      req.log.info({ code: err.code, msg: err.message }, "vendor error");
      return reply.code(err.httpStatus).send(errorEnvelope(req.id, err.code, err.message));
    }
    const status = err.statusCode ?? 500;
    if (err.validation) {
      const where = err.validationContext ?? "request";
      const first = err.validation[0];
      const field = first?.instancePath ? `${where}${first.instancePath}` : where;
      const msg = `illegal parameter: ${field} ${first?.message ?? "is invalid"}`;
      req.log.info({ code: 1017040, msg }, "bad request");
      return reply.code(400).send(errorEnvelope(req.id, 1017040, msg));
    }
    if (status >= 400 && status < 500) {
      req.log.info({ code: 1017040, status, msg: err.message }, "bad request");
      return reply.code(status).send(errorEnvelope(req.id, 1017040, `illegal parameter: ${err.message}`));
    }
    req.log.error({ err }, "unexpected error");
    return reply.code(500).send(errorEnvelope(req.id, 1017099));
  });
  installRouteFallbacks(app);

  await app.register(swagger, {
    openapi: {
      info: {
        title: "ktv-harness simulator",
        description: "Simulated copyrighted-music vendor and media server (wire-api.md contract v0)",
        version: "0.1.0",
      },
      tags: [
        { name: "vendor", description: "content center, resources, lyrics, download" },
        { name: "admin", description: "simulator control (loopback only by default)" },
        { name: "ops", description: "health, metrics, docs" },
        { name: "server-api", description: "the vendor's server-side KTV REST API (GET /?Action=...)" },
      ],
    },
    // Every error status each route can answer, derived from its guards and handler (ops/error-statuses.ts).
    transform: withErrorStatuses,
    // Each extended command's params and answer, from the schemas the dispatcher checks params with.
    transformObject: (d) =>
      "openapiObject" in d ? withServerApiActions(withExtendedCommands(d.openapiObject)) : d.swaggerObject,
  });
  app.addHook("preHandler", faultHook);
  observeRequests(app);

  await app.register(opsRoutes);
  await app.register(authRoutes);
  await app.register(contentRoutes);
  await app.register(resourceRoutes);
  await app.register(lyricsRoutes);
  await app.register(cdnRoutes);
  await app.register(mediaRoutes);
  await app.register(adminRoutes);
  await app.register(faultRoutes);
  await app.register(serverApiRoutes);
  await app.ready();
  const fastPath =
    options.fastPath === false
      ? null
      : installExtendedFastPath(app, { bodyLimit: options.bodyLimit, nextReqId });
  return { app, ctx, fastPath };
}

// Connections the kernel completes and queues while the event loop is busy. Node's default, 511, is below what
// a load test opens at once: 10,000 k6 VUs starting together overflowed it and every SYN past the queue waited
// for its retransmit (1 s, then 3 s...): a 10 s stall that was ours, not the vendor's. Linux caps it at
// net.core.somaxconn (4096 on current kernels).
const LISTEN_BACKLOG = 4096;

/** Builds and listens; port 0 picks a free port. */
export async function startSimulator(partial: Partial<SimOptions> = {}): Promise<Simulator> {
  const { app, ctx, fastPath } = await buildSimulator(partial);
  await app.listen({ host: ctx.options.host, port: ctx.options.port, backlog: LISTEN_BACKLOG });
  const addr = app.server.address();
  const port = typeof addr === "object" && addr ? addr.port : ctx.options.port;
  const host = ctx.options.host.includes(":") ? `[${ctx.options.host}]` : ctx.options.host;
  const url = `http://${host}:${port}`;
  const local = ctx.options.socketPath
    ? await listenLocalSocket(app.server, ctx.options.socketPath).catch(async (err: unknown) => {
        await app.close();
        throw err;
      })
    : null;
  app.log.info(
    { url, ...(local ? { socket: local.path } : {}), fast_path: fastPath !== null },
    "simulator listening",
  );
  return {
    app,
    ctx,
    url,
    socketPath: local?.path ?? null,
    fastPath,
    close: async () => {
      try {
        await app.close();
      } finally {
        await local?.close();
      }
    },
  };
}
