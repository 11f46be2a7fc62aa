import { type Static, Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { VendorError } from "../errors.ts";
import { authHeaders, envelopeSchema, ok } from "../http.ts";
import { resolveMediaOptions } from "../media/options.ts";
import { requireApp, requireSession } from "./guards.ts";
import { roomIdProblem, userIdProblem, userNameProblem } from "./ids.ts";
import { roomPrivilegeDenial } from "./privilege.ts";

const InitBody = Type.Object(
  {
    user_id: Type.String({ description: "the same user as the room login; < 64 bytes" }),
    user_name: Type.Optional(Type.String({ description: "< 256 bytes; defaults to user_id" })),
  },
  { additionalProperties: false },
);
const RoomBody = Type.Object({ room_id: Type.String() }, { additionalProperties: false });

export function checkUserId(userId: string): void {
  const code = userIdProblem(userId);
  if (code) throw new VendorError(code);
}

export function checkUserName(userName: string): void {
  const code = userNameProblem(userName);
  if (code) throw new VendorError(code);
}

export function checkRoomId(roomId: string): void {
  const code = roomIdProblem(roomId);
  if (code) throw new VendorError(code);
}

export default async function authRoutes(app: FastifyInstance): Promise<void> {
  const { roomCapacity } = resolveMediaOptions(app.sim.options.media);
  app.post(
    "/v1/music/init",
    {
      schema: {
        summary: "initCopyrightedMusic: open a session bound to this app and user",
        tags: ["vendor"],
        headers: authHeaders,
        body: InitBody,
        response: { 200: envelopeSchema(Type.Object({ session: Type.String(), user_id: Type.String() })) },
      },
      preHandler: requireApp,
    },
    async (req, reply) => {
      const body = req.body as Static<typeof InitBody>;
      checkUserId(body.user_id);
      const userName = body.user_name ?? body.user_id;
      checkUserName(userName);
      const auth = req.auth!;
      // With tokens the module must be initialised as the user the token was minted for (the room login user).
      if (auth.tokenUserId !== undefined && auth.tokenUserId !== body.user_id) {
        throw new VendorError(1002077, "user_id differs from the token's user", 401);
      }
      const s = app.sim.sessions.create(auth.app.app_id, body.user_id, userName, app.sim.clock.now());
      return ok(req, reply, { session: s.id, user_id: s.user_id });
    },
  );

  // HTTP stand-in for loginRoom/logoutRoom (the media WebSocket login writes the same registry): lets
  // protocol-level clients such as k6 scripts be room members without a media socket.
  app.post(
    "/v1/room/login",
    {
      schema: {
        summary: "loginRoom (HTTP form): make the session's user a member of room_id",
        tags: ["vendor"],
        headers: authHeaders,
        body: RoomBody,
        response: { 200: envelopeSchema(Type.Object({ room_id: Type.String(), members: Type.Integer() })) },
      },
      preHandler: requireSession,
    },
    async (req, reply) => {
      const { room_id } = req.body as Static<typeof RoomBody>;
      checkRoomId(room_id);
      const s = req.musicSession!;
      const denial = roomPrivilegeDenial(req.auth!.tokenPayload, room_id, "login");
      if (denial) throw new VendorError(1002033, `authentication failed: ${denial}`, 401);
      // The room holds as many users as a media login lets in (the test environment's 50): both logins share
      // the registry, so an HTTP member counts against the media login's capacity and the other way round.
      if (
        !app.sim.rooms.isMember(s.app_id, room_id, s.user_id) &&
        app.sim.rooms.memberCount(s.app_id, room_id) >= roomCapacity
      ) {
        throw new VendorError(1002034, `room ${JSON.stringify(room_id)} is full (${roomCapacity} users)`);
      }
      app.sim.rooms.join(s.app_id, room_id, s.user_id);
      return ok(req, reply, { room_id, members: app.sim.rooms.members(s.app_id, room_id).length });
    },
  );

  app.post(
    "/v1/room/logout",
    {
      schema: {
        summary: "logoutRoom (HTTP form)",
        tags: ["vendor"],
        headers: authHeaders,
        body: RoomBody,
        response: { 200: envelopeSchema(Type.Object({ room_id: Type.String() })) },
      },
      preHandler: requireSession,
    },
    async (req, reply) => {
      const { room_id } = req.body as Static<typeof RoomBody>;
      checkRoomId(room_id);
      const s = req.musicSession!;
      if (!app.sim.rooms.isMember(s.app_id, room_id, s.user_id)) throw new VendorError(1002002);
      app.sim.rooms.leave(s.app_id, room_id, s.user_id);
      return ok(req, reply, { room_id });
    },
  );
}
