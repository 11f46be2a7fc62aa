import type { TSchema } from "@sinclair/typebox";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { errorEnvelope, okEnvelope } from "../protocol/envelope.ts";

/** Answers the vendor envelope with code 0. */
export function ok<T>(req: FastifyRequest, reply: FastifyReply, data: T): FastifyReply {
  return reply.code(200).send(okEnvelope(req.id, data));
}

/** Response schema of an envelope whose data is `data` (documents the route; extra fields are kept). */
export function envelopeSchema(data: TSchema = Type.Object({}, { additionalProperties: true })) {
  return Type.Object(
    {
      code: Type.Integer({ description: "0 on success, else the vendor error code" }),
      message: Type.String(),
      request_id: Type.String(),
      data: Type.Union([data, Type.Null()]),
    },
    { additionalProperties: false },
  );
}

/** Error envelope, for documenting 4xx answers. */
export const errorEnvelopeSchema = Type.Object({
  code: Type.Integer(),
  message: Type.String(),
  request_id: Type.String(),
  data: Type.Null(),
});

/** Headers of authenticated vendor routes (documented in OpenAPI; checked by the auth guards). */
export const authHeaders = Type.Object(
  {
    "x-app-id": Type.Optional(Type.String({ description: "uint32 app id" })),
    "x-app-sign": Type.Optional(Type.String({ description: "64 hex chars" })),
    authorization: Type.Optional(Type.String({ description: "Bearer <token04>" })),
    "x-session": Type.Optional(Type.String({ description: "session from /v1/music/init" })),
  },
  { additionalProperties: true },
);

// Errors node:http meets before a request exists (headers over --max-http-header-size, a malformed request
// line, a header timeout) reach the server's 'clientError' event with only the socket. Fastify's default
// answer is its own JSON shape and no `Connection: close`, then destroys the socket: a keep-alive client sees
// its connection vanish with no warning. Node's own default (lib/_http_server.js socketOnError) is the model
// here (status per error code, then close), except that the answer waits for a pipelined earlier request's
// response instead of cutting or pre-empting it.
const CLIENT_ERROR_STATUS: Record<string, number> = {
  HPE_HEADER_OVERFLOW: 431,
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 413,
  ERR_HTTP_REQUEST_TIMEOUT: 408,
  // Not node's: a CONNECT request, which no route serves (the 'connect' event in app.ts).
  KTV_CONNECT: 405,
};

const REASON: Record<number, string> = {
  400: "Bad Request",
  405: "Method Not Allowed",
  408: "Request Timeout",
  413: "Payload Too Large",
  431: "Request Header Fields Too Large",
};

/** The raw HTTP answer to a client error: the vendor envelope (1017040), `Connection: close`. */
export function clientErrorResponse(code: string | undefined, requestId: string): Buffer {
  const status = CLIENT_ERROR_STATUS[code ?? ""] ?? 400;
  const why =
    status === 400
      ? "malformed HTTP request"
      : status === 405
        ? "method CONNECT"
        : REASON[status]!.toLowerCase();
  const body = JSON.stringify(errorEnvelope(requestId, 1017040, `illegal parameter: ${why}`));
  return Buffer.from(
    `HTTP/1.1 ${status} ${REASON[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

interface ClientErrorSocket {
  writable: boolean;
  destroyed: boolean;
  _httpMessage?: { writableFinished?: boolean; once(event: "finish", cb: () => void): unknown } | null;
  end(data: Buffer, cb?: () => void): unknown;
  destroy(err?: Error): unknown;
}

/**
 * Writes a raw answer and closes. end() flushes it; a peer that never reads must not keep the socket: destroyed
 * once flushed, or after a short grace.
 */
export function answerAndClose(
  socket: Pick<ClientErrorSocket, "destroyed" | "end" | "destroy">,
  answer: Buffer,
): void {
  if (socket.destroyed) return;
  const grace = setTimeout(() => socket.destroy(), 5_000);
  grace.unref();
  socket.end(answer, () => {
    clearTimeout(grace);
    socket.destroy();
  });
}

/** Fastify's `clientErrorHandler` (the server's 'clientError' listener): answers in the envelope and closes. */
export function envelopeClientErrors(nextRequestId: () => string) {
  // The parser stays in error after its first error: later data on the socket raises 'clientError' again.
  const answering = new WeakSet<object>();
  return function onClientError(
    this: FastifyInstance,
    err: Error & { code?: string },
    socket: ClientErrorSocket,
  ): void {
    // A reset peer, an already-destroyed socket, or one already being answered: nothing more to say.
    if (err.code === "ECONNRESET" || socket.destroyed || answering.has(socket)) return;
    if (!socket.writable) {
      socket.destroy(err);
      return;
    }
    answering.add(socket);
    const requestId = nextRequestId();
    this.log.info({ code: 1017040, err_code: err.code, request_id: requestId }, "client error");
    const answer = () => answerAndClose(socket, clientErrorResponse(err.code, requestId));
    // A pipelined earlier request on this connection is still being answered (node parsed both in one go): its
    // response goes out whole first. Written now, the error would land inside it, or before it and be taken
    // for its answer (node's own default destroys or pre-empts it, losing a request the client sent fine).
    const inFlight = socket._httpMessage;
    if (inFlight && !inFlight.writableFinished) {
      inFlight.once("finish", answer);
      return;
    }
    answer();
  };
}

// A path the simulator serves under other methods answers 405 with `Allow` (RFC 9110 §15.5.6), any other
// unknown path 404, both in the envelope: the vendor one, or the route's own when it names one in its config
// (`methodNotAllowed`: the server REST API on `/` answers in `{Code, Message, RequestId, Data}`). Routes are indexed as they are registered (the onRoute hook sees
// every route, in every plugin), and the answer is given in onRequest, before any body is parsed: a bad JSON
// body on a wrong method must not turn the answer into a 400.
interface RoutePattern {
  re: RegExp;
  methods: Set<string>;
  answer?: MethodNotAllowedAnswer;
}

/** A route's own 405 answer, for an API whose envelope is not the vendor one; `allow` is the Allow list. */
export type MethodNotAllowedAnswer = (req: FastifyRequest, reply: FastifyReply, allow: string[]) => void;

declare module "fastify" {
  interface FastifyContextConfig {
    /** This path's 405 answer in its own envelope (installRouteFallbacks); must set the status and Allow. */
    methodNotAllowed?: MethodNotAllowedAnswer;
  }
}

function patternOf(url: string): RegExp {
  const src = url
    .split("/")
    .map((seg) => {
      if (seg === "*") return ".*";
      if (seg.startsWith(":")) return "[^/]+";
      return seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    })
    .join("/");
  return new RegExp(`^${src}$`);
}

/** Methods the simulator serves for a concrete path (sorted, HEAD wherever GET is), or [] for none. */
export type AllowedMethods = (path: string) => string[];

/**
 * Installs the 404 / 405 answers; call before registering routes. Returns the path -> methods look-up (the
 * OpenAPI crawl test and the fuzzers use it too).
 */
export function installRouteFallbacks(app: FastifyInstance): AllowedMethods {
  const patterns = new Map<string, RoutePattern>();
  app.addHook("onRoute", (route) => {
    const p = patterns.get(route.url) ?? { re: patternOf(route.url), methods: new Set<string>() };
    for (const m of Array.isArray(route.method) ? route.method : [route.method]) p.methods.add(m);
    if (p.methods.has("GET")) p.methods.add("HEAD");
    const answer = (route.config as { methodNotAllowed?: MethodNotAllowedAnswer } | undefined)
      ?.methodNotAllowed;
    if (answer) p.answer = answer;
    patterns.set(route.url, p);
  });
  const allowed: AllowedMethods = (path) => {
    const out = new Set<string>();
    for (const p of patterns.values()) if (p.re.test(path)) for (const m of p.methods) out.add(m);
    return [...out].sort();
  };
  // Callback style and an early return: this runs on every request, and costs one property read when routed.
  app.addHook("onRequest", (req, reply, done) => {
    if (!req.is404) {
      done();
      return;
    }
    const path = req.url.split("?")[0] ?? req.url;
    const methods = allowed(path);
    if (methods.length > 0) {
      req.log.info({ url: req.url, allow: methods }, "method not allowed");
      for (const p of patterns.values()) {
        if (p.answer && p.re.test(path)) {
          p.answer(req, reply, methods);
          return;
        }
      }
      reply
        .code(405)
        .header("allow", methods.join(", "))
        .send(errorEnvelope(req.id, 1017040, `method ${req.method} not allowed on ${path}`));
      return;
    }
    req.log.info({ url: req.url }, "no such route");
    reply.code(404).send(errorEnvelope(req.id, 1017040, `no route ${req.method} ${path}`));
  });
  // Reached only if the onRequest answer above did not happen (kept so a 404 is never fastify's own shape).
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send(errorEnvelope(req.id, 1017040, `no route ${req.method} ${req.url.split("?")[0]}`)),
  );
  return allowed;
}

/**
 * onRequest: an HTTP/1.1 request without Host is malformed (RFC 9112 3.2): 400 in the envelope, and the
 * connection closed, as node's own check would (which answers with an empty body: requireHostHeader is off).
 */
export function refuseHostless(req: FastifyRequest, reply: FastifyReply, done: () => void): void {
  if (req.headers.host !== undefined || req.raw.httpVersion !== "1.1") {
    done();
    return;
  }
  req.log.info({ code: 1017040 }, "request without Host");
  reply
    .code(400)
    .header("connection", "close")
    .send(
      errorEnvelope(String(req.id), 1017040, "illegal parameter: an HTTP/1.1 request needs a Host header"),
    );
}
