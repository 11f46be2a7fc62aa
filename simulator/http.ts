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
// here: write only when the socket is writable and no response of an earlier request on it has begun (raw
// bytes in the middle of one would corrupt it), status per error code, then close.
const CLIENT_ERROR_STATUS: Record<string, number> = {
  HPE_HEADER_OVERFLOW: 431,
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 413,
  ERR_HTTP_REQUEST_TIMEOUT: 408,
};

const REASON: Record<number, string> = {
  400: "Bad Request",
  408: "Request Timeout",
  413: "Payload Too Large",
  431: "Request Header Fields Too Large",
};

/** The raw HTTP answer to a client error: the vendor envelope (1017040), `Connection: close`. */
export function clientErrorResponse(code: string | undefined, requestId: string): Buffer {
  const status = CLIENT_ERROR_STATUS[code ?? ""] ?? 400;
  const why = status === 400 ? "malformed HTTP request" : REASON[status]!.toLowerCase();
  const body = JSON.stringify(errorEnvelope(requestId, 1017040, `illegal parameter: ${why}`));
  return Buffer.from(
    `HTTP/1.1 ${status} ${REASON[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

interface ClientErrorSocket {
  writable: boolean;
  destroyed: boolean;
  _httpMessage?: { headersSent?: boolean } | null;
  end(data: Buffer, cb?: () => void): unknown;
  destroy(err?: Error): unknown;
}

/** Fastify's `clientErrorHandler` (the server's 'clientError' listener): answers in the envelope and closes. */
export function envelopeClientErrors(nextRequestId: () => string) {
  return function onClientError(
    this: FastifyInstance,
    err: Error & { code?: string },
    socket: ClientErrorSocket,
  ): void {
    // A reset peer or an already-destroyed socket: nobody to answer.
    if (err.code === "ECONNRESET" || socket.destroyed) return;
    if (!socket.writable || socket._httpMessage?.headersSent) {
      socket.destroy(err);
      return;
    }
    const requestId = nextRequestId();
    this.log.info({ code: 1017040, err_code: err.code, request_id: requestId }, "client error");
    // end() flushes the answer; the listener must leave the socket closing, and a peer that never reads must
    // not keep it: destroy once flushed, or after a short grace.
    const grace = setTimeout(() => socket.destroy(), 5_000);
    grace.unref();
    socket.end(clientErrorResponse(err.code, requestId), () => {
      clearTimeout(grace);
      socket.destroy();
    });
  };
}
