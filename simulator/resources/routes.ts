import type { FastifyInstance, FastifyRequest } from "fastify";
import { requireSession } from "../auth/guards.ts";
import { authHeaders, envelopeSchema, ok } from "../http.ts";
import type { Caller } from "./caller.ts";
import { requestResource } from "./request-resource.ts";
import { RequestResourceBody, ResourceData, SharedResourceBody } from "./schemas.ts";
import { getSharedResource } from "./shared-resource.ts";

const callerOf = (req: FastifyRequest): Caller => ({
  session: req.musicSession!,
  app: req.auth!.app,
  faultKey: req.faultKey,
});

export default async function resourceRoutes(app: FastifyInstance): Promise<void> {
  app.post(
    "/v1/music/resource",
    {
      schema: {
        summary: "requestResource (V2): bill once and issue a song / accompaniment / clip / segment resource",
        description:
          "Checks, in order: 1017002 song_id empty, 1017071 vendor id, 1017052 vendor not enabled, 1017053 type or " +
          "quality not offered by the vendor (1017040 for a quality no vendor has for the type), 1017042 / 1017073 " +
          "/ 1017040 / 1017032 / 1017043 billing, 1017076 scene, 1017054 room not logged in, 1017072 song not in " +
          "the vendor's library, 1017030 / 1017031 / 1017033 / 1017034 rights and availability. On success one " +
          "ledger row is committed before the answer; 1017099 (nothing billed or issued) if that fails.",
        tags: ["vendor"],
        headers: authHeaders,
        body: RequestResourceBody,
        response: { 200: envelopeSchema(ResourceData) },
      },
      preHandler: requireSession,
    },
    async (req, reply) => {
      const data = requestResource(app.sim, callerOf(req), req.body as RequestResourceBody, req.id, req.log);
      return ok(req, reply, data);
    },
  );

  app.post(
    "/v1/music/shared-resource",
    {
      schema: {
        summary:
          "getSharedResource (V2): free, once per user, a resource another member of the room requested",
        description:
          "1017054 when the caller is not logged in to room_id, 1017050 when nobody else in the room requested " +
          "(song, type, vendor) there within the share TTL, 1017051 when the caller already fetched it, 1017030 " +
          "when the song was revoked, 1017031 for an accompaniment type of a song that became listen-only. " +
          "Never billed.",
        tags: ["vendor"],
        headers: authHeaders,
        body: SharedResourceBody,
        response: { 200: envelopeSchema(ResourceData) },
      },
      preHandler: requireSession,
    },
    async (req, reply) =>
      ok(req, reply, getSharedResource(app.sim, callerOf(req), req.body as SharedResourceBody)),
  );
}
