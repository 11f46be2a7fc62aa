import { Type } from "@sinclair/typebox";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import {
  isServerApiAction,
  SERVER_API_ACTIONS,
  type ServerApiEnvelope,
  serverApiMessageFor,
} from "../../protocol/server-api.ts";
import { ACTIONS } from "./actions.ts";
import { authenticateServerApi, single } from "./auth.ts";
import { illegalParam, isVendorError, ServerApiError, serverCodeFor, translate } from "./errors.ts";
import { type Query, readParams, renamer } from "./params.ts";
import { createServerApiQps } from "./qps.ts";

// The vendor's server-side KTV REST API on the simulator's own port: `GET /?Action=<Name>&...`, the same base
// URL swap a partner makes (ktv-api.zego.im -> the simulator). Every answer is `{Code, Message, RequestId,
// Data}` with HTTP 200, as the vendor's pages show, including failures; answers made elsewhere for this route
// (a fault's injected error, the app-wide error handler) are rewritten into that shape by the onSend hook, so a
// partner's parser never meets the SDK path's snake_case envelope here. The Date header carries the simulator
// clock, which is the clock Timestamp is judged against (the reference client corrects its skew with it).

export const SERVER_API_ROUTE = "GET /";

const INT = /^-?\d{1,15}$/;

/** What the fault engine sees of a server API request (faults/hook.ts): the SDK command it shares, and ids. */
function faultSubject(query: Query) {
  const str = (k: string) => {
    const v = query[k];
    return typeof v === "string" && v !== "" ? v : undefined;
  };
  const action = str("Action");
  const appId = str("AppId");
  const vendor = str("VendorId");
  return {
    command: action && isServerApiAction(action) ? ACTIONS.get(action)?.command : undefined,
    action,
    app_id: appId && /^\d{1,10}$/.test(appId) ? Number(appId) : undefined,
    user_id: str("UserId"),
    vendor_id: vendor && INT.test(vendor) ? Number(vendor) : undefined,
    song_id: str("SongId"),
    room_id: str("RoomId"),
  };
}

function envelope<T>(
  req: FastifyRequest,
  code: number,
  message: string,
  data: T | null,
): ServerApiEnvelope<T> {
  return { Code: code, Message: message, RequestId: String(req.id), Data: data };
}

const SNAKE_ENVELOPE = /^\{"code":/;

/** A snake_case envelope made for this route elsewhere (fault hook, error handler) in the server API's shape. */
function rewrite(req: FastifyRequest, payload: string): string {
  try {
    const e = JSON.parse(payload) as { code: number; message?: string };
    const code = serverCodeFor(e.code);
    const message =
      code === 320050003 ? `${e.message ?? ""} (SDK code ${e.code})` : serverApiMessageFor(code);
    return JSON.stringify(envelope(req, code, message, null));
  } catch {
    return payload;
  }
}

function vendorOf(query: Query): number {
  const raw = single(query, "VendorId");
  if (raw === undefined || raw === "") return 0;
  if (!INT.test(raw))
    throw new ServerApiError(320040001, `invalid VendorId: ${JSON.stringify(raw.slice(0, 20))}`);
  return Number(raw);
}

const CommonQuery = Type.Object(
  {
    Action: Type.String({ description: `one of ${SERVER_API_ACTIONS.join(", ")}` }),
    AppId: Type.String({ description: "uint32 app id; unknown: 320040002" }),
    SignatureNonce: Type.String({ description: "random string, new for every request" }),
    Timestamp: Type.String({
      description: "Unix seconds, within 10 minutes of the server's clock (else 100000004)",
    }),
    Signature: Type.String({
      description:
        "lowercase hex md5(AppId + SignatureNonce + ServerSecret + Timestamp); ServerSecret is the app's token04 secret. Wrong: 100000005",
    }),
    SignatureVersion: Type.Optional(Type.String({ description: "2.0 (the default); another: 320000004" })),
    UserId: Type.String({ description: "the user the backend acts for (the SDK's user id rules)" }),
    RoomId: Type.Optional(Type.String({ description: "room id (room-monthly plans)" })),
    VendorId: Type.Optional(
      Type.String({ description: "0 (default), 1, 2, 4; invalid: 320040001; not enabled: 320010013" }),
    ),
  },
  { additionalProperties: true },
);

export const ServerApiResponse = Type.Object(
  {
    Code: Type.Integer({ description: "0 on success, else the server API's code" }),
    Message: Type.String(),
    RequestId: Type.String(),
    Data: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]),
  },
  { additionalProperties: false },
);

export default async function serverApiRoutes(app: FastifyInstance): Promise<void> {
  const sim = app.sim;
  const qps = createServerApiQps();
  const send = (reply: FastifyReply, body: ServerApiEnvelope, status = 200) =>
    reply
      .code(status)
      .header("content-type", "application/json; charset=utf-8")
      .header("date", new Date(sim.clock.now()).toUTCString())
      .send(JSON.stringify(body));

  app.get(
    "/",
    {
      schema: {
        summary: "Server KTV REST API: GET /?Action=<Name>&<common params>&<action params> (see x-actions)",
        tags: ["server-api"],
        querystring: CommonQuery,
        response: { 200: ServerApiResponse },
      },
      // Another method on `/` (installRouteFallbacks' 405) answers in this API's envelope too: HTTP 405 with
      // Allow, Code 320000004 as for any illegal request, Message naming the method.
      config: {
        methodNotAllowed: (req, reply, allow) =>
          send(
            reply.header("allow", allow.join(", ")),
            envelope(
              req,
              320000004,
              `illegal parameter: method ${req.method} not allowed on /: the server API is GET /?Action=<Name>&...`,
              null,
            ),
            405,
          ),
      },
      // The schemas above document; the handler checks, so every problem answers the server API's codes.
      validatorCompiler: () => () => true,
      serializerCompiler: () => (data) => JSON.stringify(data),
      preValidation: async (req) => {
        req.faultSubject = faultSubject(req.query as Query);
      },
      onSend: async (req, reply, payload) => {
        if (typeof payload !== "string" || !SNAKE_ENVELOPE.test(payload)) return payload;
        reply.header("date", new Date(sim.clock.now()).toUTCString());
        return rewrite(req, payload);
      },
    },
    async (req, reply) => {
      const query = req.query as Query;
      let rename = (m: string) => m;
      try {
        const name = single(query, "Action");
        if (name === undefined || name === "") throw illegalParam("Action", "is required");
        if (!isServerApiAction(name)) {
          throw illegalParam(
            "Action",
            `${JSON.stringify(name.slice(0, 60))} is not one of ${SERVER_API_ACTIONS.join(", ")}`,
          );
        }
        const action = ACTIONS.get(name)!;
        rename = renamer(action.params);
        const caller = authenticateServerApi(sim, qps, query, name);
        const vendor = vendorOf(query);
        const params = readParams(query, action.params);
        const data = action.run({ sim, app: caller.app, userId: caller.userId, vendor, params });
        return send(reply, envelope(req, 0, "succeed", data));
      } catch (e) {
        const err = isVendorError(e) ? translate(e, rename) : e;
        if (!(err instanceof ServerApiError)) throw err;
        req.log.info({ code: err.code, msg: err.message }, "server api error");
        return send(reply, envelope(req, err.code, err.message, null), err.httpStatus);
      }
    },
  );
}
