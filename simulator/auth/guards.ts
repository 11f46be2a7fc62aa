import type { FastifyReply, FastifyRequest } from "fastify";
import { Token04Error, verifyToken04 } from "../../protocol/token04.ts";
import { VendorError } from "../errors.ts";
import type { AppConfig } from "../options.ts";
import type { Session } from "./sessions.ts";

export interface AuthInfo {
  app: AppConfig;
  via: "sign" | "token";
  /** The token's user, when authenticated by token04. */
  tokenUserId?: string;
  /** The token's payload string ("" when none), when authenticated by token04: room privileges live here. */
  tokenPayload?: string;
}

declare module "fastify" {
  interface FastifyRequest {
    auth?: AuthInfo;
    musicSession?: Session;
  }
}

const HEX64 = /^[0-9a-fA-F]{64}$/;
// Hoisted: a regex literal in a function body is a new RegExp object each time it is evaluated (every request).
const UINT32_TEXT = /^[0-9]{1,10}$/;
/** Real tokens are a few hundred bytes; refusing huge ones early bounds the decrypt work per request. */
const MAX_TOKEN_CHARS = 4096;
const unauthorized = (code: number, msg?: string) => new VendorError(code, msg, 401);

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

// The last sign that passed, with its app and that app's sign at the time: a client sends the same sign on every
// call, and checking it again (a regex and two lowercased copies) was most of authenticating a request.
const passed = { app: null as AppConfig | null, appSign: "", sign: "" };

function checkSign(app: AppConfig, sign: string): void {
  if (app === passed.app && sign === passed.sign && app.app_sign === passed.appSign) return;
  if (sign.length !== 64) throw unauthorized(1001001);
  if (!HEX64.test(sign)) throw unauthorized(1001002);
  if (sign.toLowerCase() !== app.app_sign.toLowerCase()) throw unauthorized(1001005);
  passed.app = app;
  passed.appSign = app.app_sign;
  passed.sign = sign;
}

function verifyToken(req: FastifyRequest, authz: string, app: AppConfig | undefined): AuthInfo {
  const m = /^Bearer\s+(\S+)$/i.exec(authz);
  if (!m?.[1]) throw unauthorized(1002033, "Authorization must be 'Bearer <token04>'");
  const token = m[1];
  if (token.length > MAX_TOKEN_CHARS)
    throw unauthorized(1002074, `token longer than ${MAX_TOKEN_CHARS} chars`);
  const nowSec = Math.floor(req.server.sim.clock.now() / 1000);
  const apps = req.server.sim.apps;
  // A token verified before for this app (token-cache.ts): its expiry is still judged now, every call.
  const known = app ?? apps.tokens.appOf(token);
  const hit = known === undefined ? undefined : apps.tokens.get(token, known);
  if (hit !== undefined && apps.get(hit.app.app_id) === hit.app) {
    if (hit.expire <= nowSec) {
      apps.tokens.delete(token);
      throw unauthorized(1002078, "token expired");
    }
    return { app: hit.app, via: "token", tokenUserId: hit.userId, tokenPayload: hit.payload };
  }
  // Without X-App-Id the token names its app only inside the ciphertext: try each app's secret.
  const candidates = app ? [app] : apps.list();
  let last: Token04Error | undefined;
  for (const a of candidates) {
    try {
      const claims = verifyToken04(token, a.token_secret, { appId: a.app_id, now: nowSec });
      apps.tokens.set(token, {
        app: a,
        secret: a.token_secret,
        userId: claims.user_id,
        payload: claims.payload,
        expire: claims.expire,
      });
      return { app: a, via: "token", tokenUserId: claims.user_id, tokenPayload: claims.payload };
    } catch (e) {
      // Anything but a Token04Error is a decoder surprise on hostile bytes: still the client's bad token.
      last = e instanceof Token04Error ? e : new Token04Error(1002074, "token malformed");
      // Only a signature failure means "maybe another app's secret"; anything else is this app's verdict.
      if (last.code !== 1002033) break;
    }
  }
  throw unauthorized(last?.code ?? 1002033, last?.message);
}

/**
 * Authenticates the app: X-App-Id + X-App-Sign, or `Authorization: Bearer <token04>` (X-App-Id optional).
 * When both a token and a sign are sent, both must be valid for the same app.
 */
export function authenticate(req: FastifyRequest): AuthInfo {
  const apps = req.server.sim.apps;
  const appIdRaw = header(req, "x-app-id");
  const sign = header(req, "x-app-sign");
  const authz = header(req, "authorization");
  let app: AppConfig | undefined;
  if (appIdRaw !== undefined) {
    if (!UINT32_TEXT.test(appIdRaw)) throw unauthorized(1001004, "X-App-Id must be a uint32");
    app = apps.get(Number(appIdRaw));
    if (!app) throw unauthorized(1001004);
  }
  if (authz !== undefined) {
    const auth = verifyToken(req, authz, app);
    if (sign !== undefined) checkSign(auth.app, sign);
    return auth;
  }
  if (sign !== undefined) {
    if (!app) throw unauthorized(1001004, "X-App-Sign needs X-App-Id");
    checkSign(app, sign);
    return { app, via: "sign" };
  }
  throw unauthorized(1002067);
}

/**
 * The app's request quota (AppConfig.rate_limit_rps). Over it: HTTP 429 with the vendor envelope code 1017097
 * "system busy, retry" and a Retry-After header (whole seconds, at least 1). 1017097 because it is the code the
 * SDK surfaces for a vendor-side overload and tells the client exactly what to do (retry later); 1002071 is
 * the room-login limit and 320000002 the server REST API's, neither of which this SDK-shaped API returns.
 */
function admit(req: FastifyRequest, reply: FastifyReply, app: AppConfig): void {
  // An app without a quota is always admitted (as the registry would answer): no clock read, no look-up.
  const rps = app.rate_limit_rps;
  if (rps === undefined || !(rps > 0)) return;
  const waitMs = req.server.sim.apps.admit(app.app_id, req.server.sim.clock.now());
  if (waitMs === 0) return;
  reply.header("retry-after", String(Math.max(1, Math.ceil(waitMs / 1000))));
  throw new VendorError(
    1017097,
    `system busy, retry: app ${app.app_id} is over its ${app.rate_limit_rps} requests/s (retry in ${waitMs} ms)`,
    429,
  );
}

/** The app guard: a known app (authenticate), within its rate limit; sets req.auth. Throws VendorError. */
function appGuard(req: FastifyRequest, reply: FastifyReply): AuthInfo {
  const auth = authenticate(req);
  req.auth = auth;
  admit(req, reply, auth.app);
  return auth;
}

// The guards are callback-style hooks that throw: Fastify's hook runner catches a synchronous throw and hands it
// to the error handler exactly as it does an async hook's rejection, without the promise and the microtask turn
// an async hook costs every request (seen as runMicrotasks and the hook runner's handleResolve in a /top/song
// profile). done() is called last, outside any try, so an error can never be reported twice.

/** preHandler: the request must come from a known app, within its rate limit. */
export function requireApp(req: FastifyRequest, reply: FastifyReply, done: () => void): void {
  appGuard(req, reply);
  done();
}

/**
 * preHandler: requireApp, plus a session of this app (X-Session from /v1/music/init) and, with token auth, of
 * the token's user. A session is a bearer credential of its app: another app's session is unknown here.
 */
export function requireSession(req: FastifyRequest, reply: FastifyReply, done: () => void): void {
  const auth = appGuard(req, reply);
  const sid = header(req, "x-session");
  if (!sid) throw unauthorized(1017096, "X-Session missing: call /v1/music/init first");
  const s = req.server.sim.sessions.get(sid);
  if (!s || s.app_id !== auth.app.app_id) throw unauthorized(1017096, "unknown session for this app");
  if (auth.tokenUserId !== undefined && auth.tokenUserId !== s.user_id) {
    throw unauthorized(1002077, "the session belongs to another user than the token's");
  }
  req.musicSession = s;
  done();
}
