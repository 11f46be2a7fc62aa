import { createCipheriv } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isEnvelope } from "../../protocol/envelope.ts";
import { mintToken04, privilegePayload } from "../../protocol/token04.ts";
import { type Answer, call } from "../../test/sim.ts";
import type { Simulator } from "../app.ts";
import { startSimulator } from "../app.ts";
import { manualClock } from "../clock.ts";
import { type AppConfig, DEV_APP } from "../options.ts";

// Auth over real HTTP against the whole simulator: AppSign, token04, sessions, the SDK's id limits, room
// privileges and the per-app rate limit. A manual clock makes token expiry and bucket refills exact.

const OTHER: AppConfig = {
  app_id: 2000000002,
  app_sign: "fedcba9876543210".repeat(4),
  token_secret: "fedcba9876543210fedcba9876543210",
};
const LIMITED: AppConfig = {
  app_id: 3000000003,
  app_sign: "00112233445566778899aabbccddeeff".repeat(2),
  token_secret: "limitedlimitedlimitedlimited1234",
  rate_limit_rps: 5,
};

const clock = manualClock(1_750_000_000_000);
const nowSec = () => Math.floor(clock.now() / 1000);
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({
    port: 0,
    catalogSize: 2000,
    dataDir: ":memory:",
    logLevel: "silent",
    clock,
    apps: [DEV_APP, OTHER, LIMITED],
  });
});
afterAll(() => sim.close());

const signHeaders = (a: AppConfig) => ({ "x-app-id": String(a.app_id), "x-app-sign": a.app_sign });
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
interface TokenOpts {
  app?: AppConfig;
  secret?: string;
  appId?: number;
  ttl?: number;
  payload?: string;
  /** Unix seconds the token was minted at; default: the simulator's now. */
  mintedAt?: number;
}
function token(userId: string, o: TokenOpts = {}) {
  const app = o.app ?? DEV_APP;
  return mintToken04({
    appId: o.appId ?? app.app_id,
    userId,
    secret: o.secret ?? app.token_secret,
    effectiveSeconds: o.ttl ?? 3600,
    payload: o.payload ?? "",
    now: o.mintedAt ?? nowSec(),
  });
}

const init = (headers: Record<string, string>, body: unknown = { user_id: "alice" }) =>
  call(sim.url, "POST", "/v1/music/init", { headers, body });
const login = (headers: Record<string, string>, room_id: string) =>
  call(sim.url, "POST", "/v1/room/login", { headers, body: { room_id } });

async function sessionOf(headers: Record<string, string>, userId: string): Promise<string> {
  const r = await init(headers, { user_id: userId });
  expect(r.body.code, JSON.stringify(r.body)).toBe(0);
  return r.body.data.session;
}

/** Asserts a vendor error envelope with this HTTP status and code. */
function refused(r: Answer, status: number, code: number): void {
  expect(isEnvelope(r.body), JSON.stringify(r.body)).toBe(true);
  expect({ status: r.status, code: r.body.code }, JSON.stringify(r.body)).toEqual({ status, code });
  expect(r.body.data).toBeNull();
  expect(r.body.request_id).not.toBe("");
}

describe("AppSign", () => {
  it("right sign opens a session bound to the user", async () => {
    const r = await init(signHeaders(DEV_APP));
    expect(r.status).toBe(200);
    expect(r.body.code).toBe(0);
    expect(r.body.data).toEqual({
      session: expect.stringMatching(/^s_[A-Za-z0-9_-]{24}$/),
      user_id: "alice",
    });
  });

  it("the sign is case-insensitive hex", async () => {
    const r = await init({ ...signHeaders(DEV_APP), "x-app-sign": DEV_APP.app_sign.toUpperCase() });
    expect(r.body.code).toBe(0);
  });

  it.each([
    ["wrong sign", 1001005, { "x-app-sign": "f".repeat(64) }],
    ["another app's sign", 1001005, { "x-app-sign": OTHER.app_sign }],
    ["short sign", 1001001, { "x-app-sign": "0123456789abcdef" }],
    ["long sign", 1001001, { "x-app-sign": `${DEV_APP.app_sign}00` }],
    ["non-hex sign", 1001002, { "x-app-sign": "z".repeat(64) }],
    ["unknown app id", 1001004, { "x-app-id": "123" }],
    ["app id 0", 1001004, { "x-app-id": "0" }],
    ["app id not a number", 1001004, { "x-app-id": "abc" }],
    ["app id beyond uint32", 1001004, { "x-app-id": "99999999999" }],
  ])("%s -> 401 %i", async (_, code, over) => {
    refused(await init({ ...signHeaders(DEV_APP), ...over }), 401, code);
  });

  it("a sign that just passed for one app is still checked against the next app named", async () => {
    // checkSign remembers the last sign that passed: the memory must be per app.
    expect((await init(signHeaders(DEV_APP))).body.code).toBe(0);
    refused(await init({ ...signHeaders(OTHER), "x-app-sign": DEV_APP.app_sign }), 401, 1001005);
    expect((await init(signHeaders(OTHER))).body.code).toBe(0);
    refused(await init({ ...signHeaders(DEV_APP), "x-app-sign": OTHER.app_sign }), 401, 1001005);
    expect((await init(signHeaders(DEV_APP))).body.code).toBe(0);
  });

  it("a sign without app id -> 401 1001004; no credentials at all -> 401 1002067", async () => {
    refused(await init({ "x-app-sign": DEV_APP.app_sign }), 401, 1001004);
    refused(await init({}), 401, 1002067);
  });
});

describe("token04", () => {
  it("is accepted with or without X-App-Id, and the session works for later calls", async () => {
    const t = token("tom");
    const sid = await sessionOf(bearer(t), "tom");
    expect(sim.ctx.sessions.get(sid)).toMatchObject({ app_id: DEV_APP.app_id, user_id: "tom" });
    const r = await login({ ...bearer(t), "x-session": sid }, "room-t");
    expect(r.body).toMatchObject({ code: 0, data: { room_id: "room-t", members: 1 } });
    const withId = await init({ ...bearer(t), "x-app-id": String(DEV_APP.app_id) }, { user_id: "tom" });
    expect(withId.body.code).toBe(0);
  });

  it("names its app without X-App-Id: another app's token opens a session of that app", async () => {
    const sid = await sessionOf(bearer(token("olga", { app: OTHER })), "olga");
    expect(sim.ctx.sessions.get(sid)?.app_id).toBe(OTHER.app_id);
  });

  it("expired -> 401 1002078, also in the middle of a session", async () => {
    refused(await init(bearer(token("tom", { mintedAt: nowSec() - 7200, ttl: 3600 }))), 401, 1002078);
    const t = token("tim", { ttl: 60 });
    const sid = await sessionOf(bearer(t), "tim");
    expect((await login({ ...bearer(t), "x-session": sid }, "room-x")).body.code).toBe(0);
    clock.advance(60_000);
    refused(await login({ ...bearer(t), "x-session": sid }, "room-x"), 401, 1002078);
    // A fresh token for the same user keeps using the same session.
    expect((await login({ ...bearer(token("tim")), "x-session": sid }, "room-x")).body.code).toBe(0);
  });

  it("forged with a secret no app has -> 401 1002033", async () => {
    refused(await init(bearer(token("alice", { secret: "forgedforgedforgedforgedforged12" }))), 401, 1002033);
    refused(
      await init({
        ...bearer(token("alice", { secret: OTHER.token_secret })),
        "x-app-id": String(DEV_APP.app_id),
      }),
      401,
      1002033,
    );
  });

  it("another app's token presented as this app -> 1002033 (its secret) or 1002076 (its app id)", async () => {
    const otherAppsToken = token("alice", { app: OTHER });
    refused(await init({ ...bearer(otherAppsToken), "x-app-id": String(DEV_APP.app_id) }), 401, 1002033);
    const claimsDev = token("alice", { app: OTHER, appId: DEV_APP.app_id });
    refused(await init({ ...bearer(claimsDev), "x-app-id": String(OTHER.app_id) }), 401, 1002076);
    refused(await init(bearer(claimsDev)), 401, 1002076);
  });

  it("init as another user than the token's -> 401 1002077", async () => {
    refused(await init(bearer(token("alice")), { user_id: "mallory" }), 401, 1002077);
  });

  it.each([
    ["not a token", 1002079, "Bearer garbage"],
    ["04 + junk", 1002074, "Bearer 04$$$$"],
    ["04 + short base64", 1002074, "Bearer 04AAAA"],
    ["not Bearer", 1002033, "Basic YWxpY2U6c2VjcmV0"],
    ["Bearer without a token", 1002033, "Bearer "],
    ["oversized token", 1002074, `Bearer 04${"A".repeat(5000)}`],
  ])("garbage (%s) -> 401 %i", async (_, code, authorization) => {
    refused(await init({ authorization }), 401, code);
  });

  it("a hostile token with a fractional expire is refused (1002074), not a 500", async () => {
    const exp = nowSec() + 60.5;
    const plain = JSON.stringify({
      app_id: DEV_APP.app_id,
      user_id: "alice",
      ctime: 1,
      expire: exp,
      nonce: 1,
      payload: "",
    });
    const iv = Buffer.from("abcdefghijklmnop");
    const c = createCipheriv("aes-256-cbc", Buffer.from(DEV_APP.token_secret), iv);
    const ct = Buffer.concat([c.update(plain), c.final()]);
    const head = Buffer.alloc(12 + 16);
    head.writeBigInt64BE(BigInt(Math.floor(exp)), 0);
    head.writeUInt16BE(16, 8);
    iv.copy(head, 10);
    head.writeUInt16BE(ct.length, 26);
    refused(await init(bearer(`04${Buffer.concat([head, ct]).toString("base64")}`)), 401, 1002074);
  });

  it("a token plus a wrong sign -> 401 1001005 (both credentials must hold)", async () => {
    refused(
      await init({ ...bearer(token("alice")), ...signHeaders(DEV_APP), "x-app-sign": "e".repeat(64) }),
      401,
      1001005,
    );
  });
});

describe("sessions", () => {
  it("missing or unknown X-Session -> 401 1017096", async () => {
    refused(await login(signHeaders(DEV_APP), "r"), 401, 1017096);
    refused(await login({ ...signHeaders(DEV_APP), "x-session": "s_nope" }, "r"), 401, 1017096);
  });

  it("another app's session -> 401 1017096", async () => {
    const otherSid = await sessionOf(signHeaders(OTHER), "alice");
    refused(await login({ ...signHeaders(DEV_APP), "x-session": otherSid }, "r"), 401, 1017096);
    refused(await login({ ...bearer(token("alice")), "x-session": otherSid }, "r"), 401, 1017096);
    expect((await login({ ...signHeaders(OTHER), "x-session": otherSid }, "r")).body.code).toBe(0);
  });

  it("another user's session under a token -> 401 1002077", async () => {
    const bobSid = await sessionOf(signHeaders(DEV_APP), "bob");
    refused(await login({ ...bearer(token("alice")), "x-session": bobSid }, "r"), 401, 1002077);
    expect((await login({ ...bearer(token("bob")), "x-session": bobSid }, "r")).body.code).toBe(0);
  });

  it("room membership is per app and per user", async () => {
    const a = await sessionOf(signHeaders(DEV_APP), "m1");
    const b = await sessionOf(signHeaders(DEV_APP), "m2");
    const c = await sessionOf(signHeaders(OTHER), "m1");
    expect((await login({ ...signHeaders(DEV_APP), "x-session": a }, "shared")).body.data.members).toBe(1);
    expect((await login({ ...signHeaders(DEV_APP), "x-session": b }, "shared")).body.data.members).toBe(2);
    expect((await login({ ...signHeaders(OTHER), "x-session": c }, "shared")).body.data.members).toBe(1);
    expect(sim.ctx.rooms.isMember(DEV_APP.app_id, "shared", "m2")).toBe(true);
    expect(sim.ctx.rooms.isMember(OTHER.app_id, "shared", "m2")).toBe(false);
    const out = await call(sim.url, "POST", "/v1/room/logout", {
      headers: { ...signHeaders(DEV_APP), "x-session": b },
      body: { room_id: "shared" },
    });
    expect(out.body.code).toBe(0);
    expect(sim.ctx.rooms.members(DEV_APP.app_id, "shared")).toEqual(["m1"]);
    const again = await call(sim.url, "POST", "/v1/room/logout", {
      headers: { ...signHeaders(DEV_APP), "x-session": b },
      body: { room_id: "shared" },
    });
    refused(again, 200, 1002002);
  });
});

describe("the SDK's id limits", () => {
  it.each([
    ["empty user_id", 1002005, { user_id: "" }],
    ["user_id with a space", 1002006, { user_id: "a b" }],
    ["user_id with a colon", 1002006, { user_id: "a:b" }],
    ["user_id of 64 bytes", 1002007, { user_id: "u".repeat(64) }],
    ["user_id of 64 bytes in 32 chars", 1002007, { user_id: "é".repeat(32) }],
    ["empty user_name", 1002008, { user_id: "ok", user_name: "" }],
    ["user_name with a control char", 1002009, { user_id: "ok", user_name: "a\u0007b" }],
    ["user_name of 256 bytes", 1002010, { user_id: "ok", user_name: "n".repeat(256) }],
  ])("init: %s -> %i", async (_, code, body) => {
    refused(await init(signHeaders(DEV_APP), body), 200, code);
  });

  it("init accepts the limits' edges: 63-byte user_id of every allowed symbol, 255-byte unicode name", async () => {
    const symbols = "~!@#$%^&*()_+=-`;',.<>/\\";
    const userId = (symbols + "x".repeat(63)).slice(0, 63);
    const r = await init(signHeaders(DEV_APP), { user_id: userId, user_name: `${"名".repeat(85)}` });
    expect(r.body).toMatchObject({ code: 0, data: { user_id: userId } });
  });

  it.each([
    ["empty", 1002011, ""],
    ["with a space", 1002012, "room 1"],
    ["with a newline", 1002012, "room\n1"],
    ["of 128 bytes", 1002013, "r".repeat(128)],
  ])("room login: room_id %s -> %i", async (_, code, roomId) => {
    const sid = await sessionOf(signHeaders(DEV_APP), "roomer");
    refused(await login({ ...signHeaders(DEV_APP), "x-session": sid }, roomId), 200, code);
  });

  it("room login accepts a 127-byte room id", async () => {
    const sid = await sessionOf(signHeaders(DEV_APP), "roomer");
    expect((await login({ ...signHeaders(DEV_APP), "x-session": sid }, "r".repeat(127))).body.code).toBe(0);
  });
});

describe("token room privileges", () => {
  it("a room-bound token logs in to its room only; a login-denied token nowhere", async () => {
    const t = token("pia", { payload: privilegePayload("stage", true, false) });
    const sid = await sessionOf(bearer(t), "pia");
    expect((await login({ ...bearer(t), "x-session": sid }, "stage")).body.code).toBe(0);
    const r = await login({ ...bearer(t), "x-session": sid }, "backstage");
    refused(r, 401, 1002033);
    expect(r.body.message).toMatch(/for room "stage"/);
    const denied = token("pia", { payload: privilegePayload("stage", false, true) });
    refused(await login({ ...bearer(denied), "x-session": sid }, "stage"), 401, 1002033);
    expect(sim.ctx.rooms.members(DEV_APP.app_id, "backstage")).toEqual([]);
  });

  it("a token whose payload is not JSON is refused at the door (1002075)", async () => {
    refused(await init(bearer(token("pia", { payload: "{room" }))), 401, 1002075);
  });
});

describe("per-app rate limit", () => {
  // LIMITED: 5 requests/s, burst 10. Every authenticated vendor route draws from the same bucket.
  it("answers 429 + 1017097 + Retry-After past the burst, recovers at the rate, and spares other apps", async () => {
    // Failed authentication does not spend the app's quota (nobody can drain another app's budget).
    for (let i = 0; i < 15; i++)
      refused(await init({ ...signHeaders(LIMITED), "x-app-sign": "0".repeat(64) }), 401, 1001005);

    const sid = await sessionOf(signHeaders(LIMITED), "busy");
    const h = { ...signHeaders(LIMITED), "x-session": sid };
    for (let i = 0; i < 9; i++) expect((await login(h, "room-busy")).body.code).toBe(0);
    const over = await login(h, "room-busy");
    refused(over, 429, 1017097);
    expect(over.headers.get("retry-after")).toBe("1");
    expect(over.body.message).toMatch(/app 3000000003 is over its 5 requests\/s/);
    refused(await init(signHeaders(LIMITED), { user_id: "busy" }), 429, 1017097);

    // Other apps are not affected.
    expect((await init(signHeaders(DEV_APP))).body.code).toBe(0);

    // One token every 200 ms.
    clock.advance(199);
    refused(await login(h, "room-busy"), 429, 1017097);
    clock.advance(1);
    expect((await login(h, "room-busy")).body.code).toBe(0);
    refused(await login(h, "room-busy"), 429, 1017097);

    // After 2 s of quiet the whole burst is back, and no more.
    clock.advance(2_000);
    for (let i = 0; i < 10; i++) expect((await login(h, "room-busy")).body.code).toBe(0);
    refused(await login(h, "room-busy"), 429, 1017097);
  });

  it("applies to token-authenticated requests and to every session route (content center too)", async () => {
    clock.advance(10_000);
    const t = token("tok", { app: LIMITED });
    const sid = await sessionOf(bearer(t), "tok");
    const h = { ...bearer(t), "x-session": sid };
    const codes: number[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await call(sim.url, "POST", "/v1/music/extended", {
        headers: h,
        body: { command: "/tag/list", params: {} },
      });
      codes.push(r.status);
    }
    expect(codes).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 429]);
  });
});
