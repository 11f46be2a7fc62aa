import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { VENDOR_IDS, type VendorId } from "../../protocol/enums.ts";
import { VendorError } from "../errors.ts";

// krc_tokens are stateless: "krc1.<payload>.<mac>", payload = base64url(JSON [song_id, vendor_id, app_id,
// user_id, expires_at]), mac = base64url(HMAC-SHA256(key, "krc1.<payload>")). Stateless so a token outlives nothing it
// does not carry, and the lyrics route needs no store look-up. The key is random per process: tokens never
// survive a restart, like the vendor's SDK-lifetime tokens, and every simulator in one process (tests) agrees.

export interface KrcTokenClaims {
  song_id: string;
  vendor_id: VendorId;
  /** The app and user the token was issued to: the lyrics route refuses it to anyone else (1017046), so a
   * token that leaks (a log, a shared screen) reads no lyrics for another account. */
  app_id: number;
  user_id: string;
  /** ms since epoch */
  expires_at: number;
}

const PREFIX = "krc1.";
// Far above any real token (~130 chars, ~300 with a 63-byte user id): a bigger input is refused before any decoding work.
const MAX_TOKEN_CHARS = 1024;
const PROCESS_KEY = randomBytes(32);

function mac(key: Buffer, signed: string): Buffer {
  return createHmac("sha256", key).update(signed).digest();
}

export function issueKrcToken(claims: KrcTokenClaims, key: Buffer = PROCESS_KEY): string {
  const body = [claims.song_id, claims.vendor_id, claims.app_id, claims.user_id, claims.expires_at];
  const signed = PREFIX + Buffer.from(JSON.stringify(body), "utf8").toString("base64url");
  return `${signed}.${mac(key, signed).toString("base64url")}`;
}

const illegal = (why: string) => new VendorError(1017046, `krc_token illegal: ${why}`);

function parseClaims(payload: string): KrcTokenClaims | undefined {
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
  if (!Array.isArray(body) || body.length !== 5) return undefined;
  const [song_id, vendor_id, app_id, user_id, expires_at] = body as unknown[];
  if (typeof song_id !== "string" || !VENDOR_IDS.includes(vendor_id as VendorId)) return undefined;
  if (typeof user_id !== "string") return undefined;
  if (!Number.isSafeInteger(app_id) || !Number.isSafeInteger(expires_at)) return undefined;
  return {
    song_id,
    vendor_id: vendor_id as VendorId,
    app_id: app_id as number,
    user_id,
    expires_at: expires_at as number,
  };
}

/**
 * The token's claims if it is genuine and unexpired at `now` (ms). Throws VendorError 1017008 (empty),
 * 1017046 (malformed or forged), 1017047 (expired). The signature is checked before expiry, so a forged token
 * never learns whether its claimed expiry would have passed.
 */
export function verifyKrcToken(token: unknown, now: number, key: Buffer = PROCESS_KEY): KrcTokenClaims {
  if (token === undefined || token === null || token === "") throw new VendorError(1017008);
  if (typeof token !== "string") throw illegal("not a string");
  if (token.length > MAX_TOKEN_CHARS) throw illegal("too long");
  if (!token.startsWith(PREFIX)) throw illegal("unknown format");
  const dot = token.lastIndexOf(".");
  const signed = token.slice(0, dot);
  const given = Buffer.from(token.slice(dot + 1), "base64url");
  const expected = mac(key, signed);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw illegal("bad signature");
  const claims = parseClaims(signed.slice(PREFIX.length));
  if (!claims) throw illegal("bad payload");
  if (now >= claims.expires_at) throw new VendorError(1017047);
  return claims;
}

/** Issuer and verifier bound to one key and TTL: what a simulator instance uses (`app.sim.resources.krc`). */
export interface KrcTokens {
  readonly ttlMs: number;
  issue(
    songId: string,
    vendorId: VendorId,
    appId: number,
    userId: string,
    now: number,
  ): { krc_token: string; krc_token_ttl: number };
  verify(token: unknown, now: number): KrcTokenClaims;
}

export function createKrcTokens(ttlMs: number, key: Buffer = PROCESS_KEY): KrcTokens {
  return {
    ttlMs,
    issue: (song_id, vendor_id, app_id, user_id, now) => ({
      krc_token: issueKrcToken({ song_id, vendor_id, app_id, user_id, expires_at: now + ttlMs }, key),
      krc_token_ttl: ttlMs,
    }),
    verify: (token, now) => verifyKrcToken(token, now, key),
  };
}
