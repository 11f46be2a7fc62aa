import type { LoginMsg } from "../../protocol/media.ts";
import { Token04Error, verifyToken04 } from "../../protocol/token04.ts";
import type { AppRegistry } from "../auth/apps.ts";
import { roomIdProblem, userIdProblem, userNameProblem } from "../auth/ids.ts";
import { roomPrivilegeDenial } from "../auth/privilege.ts";
import { VendorError } from "../errors.ts";
import type { AppConfig } from "../options.ts";

// Who may log in to a media room: the SDK's id rules, then the app's credentials (app id + app sign, or a
// token04 minted for this user with the app's secret), then the token's room privileges. Pure: the hub
// applies the room-level rules (capacity, one login per user) afterwards.

export interface LoginGrant {
  app: AppConfig;
  via: "sign" | "token";
  /** ms on the simulator clock; null for app-sign logins. */
  tokenExpireAt: number | null;
  tokenPayload: string;
}

const HEX64 = /^[0-9a-fA-F]{64}$/;

function checkIds(m: LoginMsg): void {
  const code =
    roomIdProblem(m.room_id) ||
    userIdProblem(m.user_id) ||
    (m.user_name === undefined ? 0 : userNameProblem(m.user_name));
  if (code) throw new VendorError(code);
}

function checkSign(app: AppConfig, sign: string): void {
  if (sign.length !== 64) throw new VendorError(1001001);
  if (!HEX64.test(sign)) throw new VendorError(1001002);
  if (sign.toLowerCase() !== app.app_sign.toLowerCase()) throw new VendorError(1001005);
}

/**
 * Verifies a token04 for `userId` against `candidates` (one app when the client named it, else every app: a
 * token names its app only inside the ciphertext). Throws VendorError with the token's 10020xx code.
 */
export function verifyMediaToken(token: string, userId: string, candidates: AppConfig[], nowMs: number) {
  const now = Math.floor(nowMs / 1000);
  let last: Token04Error | undefined;
  for (const app of candidates) {
    try {
      const claims = verifyToken04(token, app.token_secret, { appId: app.app_id, userId, now });
      return { app, claims };
    } catch (e) {
      // Anything but a Token04Error is the decoder meeting hostile bytes: still the client's bad token.
      last = e instanceof Token04Error ? e : new Token04Error(1002074, "token malformed");
      // Only a failed decryption means "maybe another app's secret"; other verdicts are this app's.
      if (last.code !== 1002033) break;
    }
  }
  throw new VendorError(last?.code ?? 1002033, last?.message);
}

/** Checks a login message; throws VendorError with the code the SDK would report. */
export function checkLogin(m: LoginMsg, apps: AppRegistry, nowMs: number): LoginGrant {
  checkIds(m);
  let app: AppConfig | undefined;
  if (m.app_id !== undefined) {
    app = apps.get(m.app_id);
    if (!app) throw new VendorError(1001004, `app id ${m.app_id} is not served here`);
  }
  if (m.token !== undefined) {
    const { app: tokenApp, claims } = verifyMediaToken(m.token, m.user_id, app ? [app] : apps.list(), nowMs);
    if (m.app_sign !== undefined) checkSign(tokenApp, m.app_sign);
    const denial = roomPrivilegeDenial(claims.payload, m.room_id, "login");
    if (denial) throw new VendorError(1002033, `authentication failed: ${denial}`);
    return { app: tokenApp, via: "token", tokenExpireAt: claims.expire * 1000, tokenPayload: claims.payload };
  }
  if (m.app_sign !== undefined) {
    if (!app) throw new VendorError(1001004, "app_sign needs app_id");
    checkSign(app, m.app_sign);
    return { app, via: "sign", tokenExpireAt: null, tokenPayload: "" };
  }
  throw new VendorError(1002067);
}

/** Checks a renew_token for a logged-in user; `publishing` makes a token without publish privilege 1002082. */
export function checkRenewal(
  token: string,
  login: { appId: number; roomId: string; userId: string },
  apps: AppRegistry,
  nowMs: number,
  publishing: boolean,
): { tokenExpireAt: number; tokenPayload: string } {
  const app = apps.get(login.appId);
  if (!app) throw new VendorError(1001004, `app id ${login.appId} is no longer served`);
  const { claims } = verifyMediaToken(token, login.userId, [app], nowMs);
  const loginDenial = roomPrivilegeDenial(claims.payload, login.roomId, "login");
  if (loginDenial) throw new VendorError(1002033, `authentication failed: ${loginDenial}`);
  if (publishing && roomPrivilegeDenial(claims.payload, login.roomId, "publish")) {
    throw new VendorError(
      1002082,
      "the renewed token does not grant publish privilege while this user publishes",
    );
  }
  return { tokenExpireAt: claims.expire * 1000, tokenPayload: claims.payload };
}
