import type { TSchema } from "@sinclair/typebox";
import { Type } from "@sinclair/typebox";
import type { FastifyReply, FastifyRequest } from "fastify";
import { okEnvelope } from "../protocol/envelope.ts";

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
