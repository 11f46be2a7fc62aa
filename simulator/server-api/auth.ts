import { timingSafeEqual } from "node:crypto";
import {
  DEFAULT_SERVER_API_QPS,
  SIGNATURE_VERSION,
  SIGNATURE_WINDOW_SECONDS,
  serverApiSignature,
} from "../../protocol/server-api.ts";
import { roomIdProblem, userIdProblem } from "../auth/ids.ts";
import type { SimContext } from "../context.ts";
import type { AppConfig } from "../options.ts";
import { illegalParam, ServerApiError } from "./errors.ts";
import type { Query } from "./params.ts";
import type { ServerApiQps } from "./qps.ts";

// The common params of every server API request (online-ktv-server/accessing-server-apis), checked in this
// order so the first problem a partner has is the one they are told about:
//   1. presence and form: AppId (uint32), SignatureNonce, Timestamp (integer seconds), Signature,
//      SignatureVersion ("2.0"; absent counts as the documented default) -> 320000004 naming the param;
//   2. the app: unknown AppId -> 320040002;
//   3. Timestamp more than 10 minutes from the simulator clock, either way -> 100000004;
//   4. Signature != lowercase hex md5(AppId + SignatureNonce + ServerSecret + Timestamp) -> 100000005, where
//      ServerSecret is the app's token_secret (the same secret that signs its token04 tokens);
//   5. the rate limit (qps.ts) -> 320000002, counted only for correctly signed requests so nobody can spend
//      another app's quota;
//   6. UserId (required; the SDK's id rules) and RoomId (optional) -> 320000004.

export interface Caller {
  app: AppConfig;
  userId: string;
  roomId?: string;
}

/** One value of a scalar query param (320000004 when given twice). */
export function single(query: Query, name: string): string | undefined {
  const v = query[name];
  if (Array.isArray(v)) throw illegalParam(name, "is given more than once");
  return v;
}

function required(query: Query, name: string): string {
  const v = single(query, name);
  if (v === undefined || v === "") throw illegalParam(name, "is required");
  return v;
}

const UINT32 = /^\d{1,10}$/;
const SECONDS = /^\d{1,12}$/;
const HEX32 = /^[0-9a-f]{32}$/;

export function authenticateServerApi(
  sim: SimContext,
  qps: ServerApiQps,
  query: Query,
  action: string,
): Caller {
  const appIdRaw = required(query, "AppId");
  const nonce = required(query, "SignatureNonce");
  const tsRaw = required(query, "Timestamp");
  const signature = required(query, "Signature");
  const version = single(query, "SignatureVersion");
  if (!UINT32.test(appIdRaw) || Number(appIdRaw) < 1 || Number(appIdRaw) > 0xffffffff) {
    throw illegalParam("AppId", "must be a non-zero uint32");
  }
  if (!SECONDS.test(tsRaw)) throw illegalParam("Timestamp", "must be a Unix time in whole seconds");
  if (nonce.length > 128) throw illegalParam("SignatureNonce", "is longer than 128 characters");
  if (version !== undefined && version !== SIGNATURE_VERSION) {
    throw illegalParam("SignatureVersion", `must be ${SIGNATURE_VERSION}`);
  }
  const appId = Number(appIdRaw);
  const app = sim.apps.get(appId);
  if (!app) throw new ServerApiError(320040002, `invalid AppId: app ${appId} is not served here`);

  const nowMs = sim.clock.now();
  const skew = Number(tsRaw) - Math.floor(nowMs / 1000);
  if (Math.abs(skew) > SIGNATURE_WINDOW_SECONDS) {
    throw new ServerApiError(
      100000004,
      `signature expired: Timestamp ${tsRaw} is ${Math.abs(skew)} s ${skew < 0 ? "behind" : "ahead of"} the server's clock (at most ${SIGNATURE_WINDOW_SECONDS} s)`,
    );
  }
  const want = serverApiSignature(appId, nonce, app.token_secret, Number(tsRaw));
  if (!HEX32.test(signature) || !timingSafeEqual(Buffer.from(signature), Buffer.from(want))) {
    const why =
      signature.toLowerCase() === want
        ? "Signature must be lowercase hex"
        : "Signature is not md5(AppId + SignatureNonce + ServerSecret + Timestamp) with this app's ServerSecret";
    throw new ServerApiError(100000005, `signature invalid: ${why}`);
  }
  const limit = app.server_api_qps ?? DEFAULT_SERVER_API_QPS;
  if (!qps.admit(appId, action, limit, nowMs)) {
    throw new ServerApiError(
      320000002,
      `rate limited: app ${appId} is over ${limit} ${action} requests in this second; retry after it`,
    );
  }
  const userId = required(query, "UserId");
  if (userIdProblem(userId) !== 0) {
    throw illegalParam("UserId", "must be under 64 bytes of letters, digits and ~!@#$%^&*()_+=-`;',.<>/\\");
  }
  const roomId = single(query, "RoomId");
  if (roomId !== undefined && roomId !== "" && roomIdProblem(roomId) !== 0) {
    throw illegalParam("RoomId", "must be under 128 bytes of letters, digits and ~!@#$%^&*()_+=-`;',.<>/\\");
  }
  return { app, userId, ...(roomId ? { roomId } : {}) };
}
