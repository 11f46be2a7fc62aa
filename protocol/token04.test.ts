import { createCipheriv } from "node:crypto";
import { describe, expect, it } from "vitest";
import { decodeToken04, mintToken04, privilegePayload, Token04Error, verifyToken04 } from "./token04.ts";

const SECRET = "0123456789abcdef0123456789abcdef";
const OTHER_SECRET = "fedcba9876543210fedcba9876543210";
const APP = 1000000001;
const NOW = 1_700_000_000;

/** Packs any plaintext the way the spec says, so tests can build tokens mint would never produce. */
function pack(
  plaintext: string,
  o: { expire: number; secret?: string; iv?: string; ivLenField?: number; ctLenDelta?: number } = {
    expire: NOW + 60,
  },
): string {
  const iv = Buffer.from(o.iv ?? "abcdefghijklmnop");
  const c = createCipheriv("aes-256-cbc", Buffer.from(o.secret ?? SECRET), iv);
  const ct = Buffer.concat([c.update(plaintext, "utf8"), c.final()]);
  const head = Buffer.alloc(10);
  head.writeBigInt64BE(BigInt(o.expire), 0);
  head.writeUInt16BE(o.ivLenField ?? iv.length, 8);
  const ctLen = Buffer.alloc(2);
  ctLen.writeUInt16BE(ct.length + (o.ctLenDelta ?? 0), 0);
  return `04${Buffer.concat([head, iv, ctLen, ct]).toString("base64")}`;
}

const claims = (over: Record<string, unknown> = {}) =>
  JSON.stringify({
    app_id: APP,
    user_id: "alice",
    ctime: NOW,
    expire: NOW + 60,
    nonce: 7,
    payload: "",
    ...over,
  });

function codeOf(f: () => unknown): number {
  try {
    f();
  } catch (e) {
    if (e instanceof Token04Error) return e.code;
    throw e;
  }
  throw new Error("expected a Token04Error, got success");
}

describe("mintToken04 / decodeToken04", () => {
  it("round-trips every claim", () => {
    const payload = privilegePayload("room-1", true, false);
    const t = mintToken04({
      appId: APP,
      userId: "alice",
      secret: SECRET,
      effectiveSeconds: 600,
      payload,
      now: NOW,
    });
    const c = decodeToken04(t, SECRET);
    expect(c).toMatchObject({ app_id: APP, user_id: "alice", ctime: NOW, expire: NOW + 600, payload });
    expect(Number.isInteger(c.nonce)).toBe(true);
    expect(c.nonce).toBeGreaterThanOrEqual(-0x80000000);
    expect(c.nonce).toBeLessThanOrEqual(0x7fffffff);
    expect(verifyToken04(t, SECRET, { appId: APP, userId: "alice", now: NOW + 599 })).toEqual(c);
  });

  it('has the spec\'s byte layout: "04" + base64(int64 expire | u16 ivLen | iv | u16 ctLen | ct)', () => {
    const t = mintToken04({ appId: APP, userId: "bob", secret: SECRET, effectiveSeconds: 3600, now: NOW });
    expect(t.slice(0, 2)).toBe("04");
    const b = Buffer.from(t.slice(2), "base64");
    expect(b.toString("base64")).toBe(t.slice(2)); // standard base64, with padding
    expect(b.readBigInt64BE(0)).toBe(BigInt(NOW + 3600));
    expect(b.readUInt16BE(8)).toBe(16);
    expect(b.subarray(10, 26).toString()).toMatch(/^[0-9a-z]{16}$/);
    const ctLen = b.readUInt16BE(26);
    expect(ctLen % 16).toBe(0);
    expect(b.length).toBe(28 + ctLen);
  });

  it("matches a fixed vector (fixed iv, nonce and now), cross-checked with the openssl CLI", () => {
    // printf '%s' '{"app_id":1000000001,"user_id":"alice","nonce":123456789,"ctime":1700000000,
    //   "expire":1700003600,"payload":""}' | openssl enc -aes-256-cbc -K <hex secret> -iv <hex "0123456789abcdef">
    // then packed by hand as int64 expire | 0x0010 | iv | u16 len | ct, base64, "04" prefix.
    const t = mintToken04({
      appId: APP,
      userId: "alice",
      secret: SECRET,
      effectiveSeconds: 3600,
      now: NOW,
      iv: "0123456789abcdef",
      nonce: 123456789,
    });
    expect(t).toBe(
      "04AAAAAGVT/xAAEDAxMjM0NTY3ODlhYmNkZWYAcH2F7HLflLSJNrmJNaYjkfD/4JK/HzzHbwIsd5/7G4yZr9k4PWI4qSZNfbRyBW" +
        "SoJd8EUZsiYcVm3zcgjnUq14PZeN1i2/JYsRoMl2HoJNGNUjXhJcB3PRR0epM9Pji90AB5J3E3/XZefeTPTZ/4LJo=",
    );
  });

  it("two mints differ (random iv and nonce) but both verify", () => {
    const o = { appId: APP, userId: "alice", secret: SECRET, effectiveSeconds: 60, now: NOW };
    const [a, b] = [mintToken04(o), mintToken04(o)];
    expect(a).not.toBe(b);
    expect(decodeToken04(a, SECRET).user_id).toBe("alice");
    expect(decodeToken04(b, SECRET).user_id).toBe("alice");
  });

  it("accepts tokens whose JSON keys are in zego_server_assistant's order (nonce before ctime)", () => {
    const zegoOrder = JSON.stringify({
      app_id: APP,
      user_id: "alice",
      nonce: -5,
      ctime: NOW,
      expire: NOW + 60,
      payload: "",
    });
    expect(verifyToken04(pack(zegoOrder), SECRET, { appId: APP, userId: "alice", now: NOW })).toMatchObject({
      nonce: -5,
    });
  });

  it("privilegePayload has the spec's shape", () => {
    expect(JSON.parse(privilegePayload("r", true, false))).toEqual({
      room_id: "r",
      privilege: { "1": 1, "2": 0 },
      stream_id_list: null,
    });
    expect(JSON.parse(privilegePayload("r", false, true)).privilege).toEqual({ "1": 0, "2": 1 });
  });
});

describe("mint errors", () => {
  const base = { appId: APP, userId: "alice", secret: SECRET, effectiveSeconds: 60 };
  it.each([
    ["app id 0", { appId: 0 }, 1002076],
    ["app id > uint32", { appId: 2 ** 32 }, 1002076],
    ["app id not an integer", { appId: 1.5 }, 1002076],
    ["empty user id", { userId: "" }, 1002077],
    ["effective seconds 0", { effectiveSeconds: 0 }, 1002078],
    ["secret of 31 bytes", { secret: SECRET.slice(1) }, 1002074],
    ["iv of 15 bytes", { iv: "0123456789abcde" }, 1002074],
  ])("%s -> %i", (_, over, code) => {
    expect(codeOf(() => mintToken04({ ...base, ...over }))).toBe(code);
  });
});

describe("decode/verify errors carry the vendor's 10020xx codes", () => {
  const good = mintToken04({ appId: APP, userId: "alice", secret: SECRET, effectiveSeconds: 60, now: NOW });
  const raw = Buffer.from(good.slice(2), "base64");
  const reb64 = (b: Buffer) => `04${b.toString("base64")}`;

  it.each([
    ["1002079 wrong version", () => decodeToken04(`03${good.slice(2)}`, SECRET), 1002079],
    ["1002079 empty", () => decodeToken04("", SECRET), 1002079],
    ["1002079 not a string", () => decodeToken04(42 as unknown as string, SECRET), 1002079],
    ["1002074 not base64", () => decodeToken04("04!!not-base64!!", SECRET), 1002074],
    ["1002074 too short", () => decodeToken04("04AAAA", SECRET), 1002074],
    [
      "1002074 iv length field not 16",
      () => decodeToken04(pack(claims(), { expire: NOW + 60, ivLenField: 12 }), SECRET),
      1002074,
    ],
    [
      "1002074 ciphertext length field off",
      () => decodeToken04(pack(claims(), { expire: NOW + 60, ctLenDelta: -16 }), SECRET),
      1002074,
    ],
    [
      "1002074 truncated ciphertext",
      () => decodeToken04(reb64(raw.subarray(0, raw.length - 16)), SECRET),
      1002074,
    ],
    [
      "1002074 trailing bytes",
      () => decodeToken04(reb64(Buffer.concat([raw, Buffer.alloc(16)])), SECRET),
      1002074,
    ],
    [
      "1002074 header expire differs from claims",
      () => decodeToken04(pack(claims(), { expire: NOW + 61 }), SECRET),
      1002074,
    ],
    [
      "1002074 claims without user_id",
      () => decodeToken04(pack(claims({ user_id: undefined })), SECRET),
      1002074,
    ],
    ["1002074 claims without app_id", () => decodeToken04(pack(claims({ app_id: "1" })), SECRET), 1002074],
    ["1002033 another secret (forged)", () => decodeToken04(good, OTHER_SECRET), 1002033],
    ["1002033 decrypts to non-JSON", () => decodeToken04(pack("not json at all"), SECRET), 1002033],
    [
      "1002075 payload not a string",
      () => decodeToken04(pack(claims({ payload: { room_id: "r" } })), SECRET),
      1002075,
    ],
    ["1002075 payload not JSON", () => decodeToken04(pack(claims({ payload: "{room" })), SECRET), 1002075],
    ["1002080 nonce not an integer", () => decodeToken04(pack(claims({ nonce: 1.5 })), SECRET), 1002080],
    ["1002080 nonce a string", () => decodeToken04(pack(claims({ nonce: "7" })), SECRET), 1002080],
    ["1002076 other app", () => verifyToken04(good, SECRET, { appId: APP + 1, now: NOW }), 1002076],
    [
      "1002077 other user",
      () => verifyToken04(good, SECRET, { appId: APP, userId: "bob", now: NOW }),
      1002077,
    ],
    ["1002078 expired at expire", () => verifyToken04(good, SECRET, { appId: APP, now: NOW + 60 }), 1002078],
  ])("%s", (_, f, code) => {
    expect(codeOf(f)).toBe(code);
  });

  it("is still valid one second before expiry and without a user expectation", () => {
    expect(verifyToken04(good, SECRET, { appId: APP, now: NOW + 59 }).user_id).toBe("alice");
  });
});
