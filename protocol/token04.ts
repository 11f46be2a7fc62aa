import { createCipheriv, createDecipheriv, randomInt } from "node:crypto";

// ZEGO token04 (zego_server_assistant): "04" + base64( int64 expire | u16 ivLen | iv | u16 ctLen | ct ),
// ct = AES-256-CBC(key = 32-char server secret, iv = 16 chars [0-9a-z], PKCS#7) of the JSON payload below.
// Shared by the simulator (verify), `ktv token` (mint) and the reference client (mint for tests).

export interface Token04Claims {
  app_id: number;
  user_id: string;
  ctime: number;
  expire: number;
  nonce: number;
  payload: string;
}

export interface MintOptions {
  appId: number;
  userId: string;
  secret: string;
  effectiveSeconds: number;
  payload?: string;
  /** Unix seconds; defaults to now. Lets tests mint already-expired tokens. */
  now?: number;
  /** Fixed IV and nonce make a token reproducible (tests); production callers leave them random. */
  iv?: string;
  nonce?: number;
}

const IV_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";

export class Token04Error extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = "Token04Error";
  }
}

function checkSecret(secret: string): Buffer {
  const key = Buffer.from(secret, "utf8");
  if (key.length !== 32) throw new Token04Error(1002074, "token secret must be 32 bytes");
  return key;
}

export function mintToken04(o: MintOptions): string {
  if (!Number.isInteger(o.appId) || o.appId <= 0 || o.appId > 0xffffffff) {
    throw new Token04Error(1002076, "app id must be a non-zero uint32");
  }
  if (!o.userId) throw new Token04Error(1002077, "user id must not be empty");
  if (!(o.effectiveSeconds > 0)) throw new Token04Error(1002078, "effective seconds must be > 0");
  const key = checkSecret(o.secret);
  const ctime = o.now ?? Math.floor(Date.now() / 1000);
  const iv = o.iv ?? Array.from({ length: 16 }, () => IV_ALPHABET[randomInt(IV_ALPHABET.length)]).join("");
  if (Buffer.byteLength(iv) !== 16) throw new Token04Error(1002074, "iv must be 16 bytes");
  // Key order as ZEGO's zego_server_assistant writes it, so our tokens are byte-comparable with theirs.
  const claims: Token04Claims = {
    app_id: o.appId,
    user_id: o.userId,
    nonce: o.nonce ?? randomInt(-0x80000000, 0x7fffffff),
    ctime,
    expire: ctime + Math.floor(o.effectiveSeconds),
    payload: o.payload ?? "",
  };
  const cipher = createCipheriv("aes-256-cbc", key, Buffer.from(iv, "utf8"));
  const ct = Buffer.concat([cipher.update(JSON.stringify(claims), "utf8"), cipher.final()]);
  const ivBuf = Buffer.from(iv, "utf8");
  const out = Buffer.alloc(8 + 2 + ivBuf.length + 2 + ct.length);
  let o2 = 0;
  out.writeBigInt64BE(BigInt(claims.expire), o2);
  o2 += 8;
  out.writeUInt16BE(ivBuf.length, o2);
  o2 += 2;
  ivBuf.copy(out, o2);
  o2 += ivBuf.length;
  out.writeUInt16BE(ct.length, o2);
  o2 += 2;
  ct.copy(out, o2);
  return `04${out.toString("base64")}`;
}

/**
 * Decodes and decrypts a token04 without judging who it is for. Throws Token04Error with the
 * vendor's 10020xx code: wrong version 1002079, undecodable/undecryptable 1002074, payload not JSON 1002075,
 * nonce not an integer 1002080.
 */
export function decodeToken04(token: string, secret: string): Token04Claims {
  if (typeof token !== "string" || !token.startsWith("04")) {
    throw new Token04Error(1002079, "token version is not 04");
  }
  const b64 = token.slice(2);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw new Token04Error(1002074, "token is not base64");
  const buf = Buffer.from(b64, "base64");
  if (buf.length < 12) throw new Token04Error(1002074, "token too short");
  const expireHeader = buf.readBigInt64BE(0);
  const ivLen = buf.readUInt16BE(8);
  if (ivLen !== 16 || buf.length < 10 + ivLen + 2) throw new Token04Error(1002074, "token iv malformed");
  const iv = buf.subarray(10, 10 + ivLen);
  const ctLen = buf.readUInt16BE(10 + ivLen);
  const ctStart = 12 + ivLen;
  if (ctLen === 0 || ctLen % 16 !== 0 || buf.length !== ctStart + ctLen) {
    throw new Token04Error(1002074, "token ciphertext malformed");
  }
  const key = checkSecret(secret);
  let plain: string;
  try {
    const d = createDecipheriv("aes-256-cbc", key, iv);
    plain = Buffer.concat([d.update(buf.subarray(ctStart)), d.final()]).toString("utf8");
  } catch {
    // A wrong key almost always fails the padding check: to the caller this is a forged token.
    throw new Token04Error(1002033, "token signature invalid");
  }
  let claims: unknown;
  try {
    claims = JSON.parse(plain);
  } catch {
    throw new Token04Error(1002033, "token signature invalid");
  }
  const c = claims as Partial<Token04Claims>;
  if (typeof c !== "object" || c === null || typeof c.user_id !== "string" || typeof c.app_id !== "number") {
    throw new Token04Error(1002074, "token claims malformed");
  }
  if (!Number.isInteger(c.nonce)) throw new Token04Error(1002080, "token nonce is not an integer");
  if (!Number.isSafeInteger(c.expire) || BigInt(c.expire as number) !== expireHeader) {
    throw new Token04Error(1002074, "token expire mismatch");
  }
  if (typeof c.payload !== "string") throw new Token04Error(1002075, "token payload is not a string");
  if (c.payload !== "") {
    try {
      JSON.parse(c.payload);
    } catch {
      throw new Token04Error(1002075, "token payload is not JSON");
    }
  }
  return c as Token04Claims;
}

export interface VerifyExpect {
  appId: number;
  /** When given, the token must be for this user (1002077 otherwise). */
  userId?: string;
  /** Unix seconds; defaults to now. */
  now?: number;
}

/** decode + the checks a server makes: app id (1002076), user id (1002077), expiry (1002078). */
export function verifyToken04(token: string, secret: string, expect: VerifyExpect): Token04Claims {
  const c = decodeToken04(token, secret);
  if (c.app_id !== expect.appId) throw new Token04Error(1002076, "token app_id mismatch");
  if (expect.userId !== undefined && c.user_id !== expect.userId) {
    throw new Token04Error(1002077, "token user_id mismatch");
  }
  const now = expect.now ?? Math.floor(Date.now() / 1000);
  if (c.expire <= now) throw new Token04Error(1002078, "token expired");
  return c;
}

/** Privilege payload of the spec: 1 = login room, 2 = publish; 1 allow, 0 deny. */
export function privilegePayload(roomId: string, canLogin = true, canPublish = true): string {
  return JSON.stringify({
    room_id: roomId,
    privilege: { "1": canLogin ? 1 : 0, "2": canPublish ? 1 : 0 },
    stream_id_list: null,
  });
}
