import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { mintToken04, privilegePayload } from "../../protocol/token04.ts";
import { call, testSimulator } from "../../test/sim.ts";
import type { Simulator } from "../app.ts";
import { DEV_APP } from "../options.ts";
import { loginClient, MediaTestClient } from "./test-client.ts";

// Media room login over real WebSockets: who gets in, with which code the rest are refused, and what the room
// sees (events, the shared room registry, kicks on duplicate login).

const APP = DEV_APP.app_id;
let sim: Simulator;
const open: MediaTestClient[] = [];

const token = (
  userId: string,
  o: { seconds?: number; payload?: string; appId?: number; secret?: string } = {},
) =>
  mintToken04({
    appId: o.appId ?? APP,
    userId,
    secret: o.secret ?? DEV_APP.token_secret,
    effectiveSeconds: o.seconds ?? 3600,
    payload: o.payload ?? "",
    now: Math.floor(sim.ctx.clock.now() / 1000),
  });

async function client(): Promise<MediaTestClient> {
  const c = await MediaTestClient.open(sim.url);
  open.push(c);
  return c;
}

async function tryLogin(msg: Record<string, unknown>) {
  const c = await client();
  return c.request({ type: "login", room_id: "r1", user_id: "u1", ...msg });
}

beforeAll(async () => {
  sim = await testSimulator({ media: { roomCapacity: 3 } });
});
afterAll(async () => {
  await Promise.all(open.map((c) => c.close()));
  for (const c of open) expect(c.invalid).toEqual([]);
  await sim.close();
});

describe("media login", () => {
  it("accepts the app sign and the room registry sees the member", async () => {
    const c = await client();
    const r = await c.request({
      type: "login",
      room_id: "sign-room",
      user_id: "alice",
      app_id: APP,
      app_sign: DEV_APP.app_sign,
    });
    expect(r).toMatchObject({
      type: "login_ok",
      room_id: "sign-room",
      user_id: "alice",
      user_name: "alice",
      users: [],
      streams: [],
    });
    expect(r.type === "login_ok" && r.token_expire_at).toBeNull();
    expect(sim.ctx.rooms.isMember(APP, "sign-room", "alice")).toBe(true);
    await c.close();
    // Closing the socket leaves the room (the close handler runs on the server's next turn).
    await expect.poll(() => sim.ctx.rooms.isMember(APP, "sign-room", "alice"), { timeout: 2000 }).toBe(false);
  });

  it("accepts a token04 with or without app_id and reports its expiry", async () => {
    const c1 = await client();
    const r1 = await c1.request({ type: "login", room_id: "tok", user_id: "tk1", token: token("tk1") });
    expect(r1.type).toBe("login_ok");
    const expireAt = r1.type === "login_ok" ? r1.token_expire_at : 0;
    expect(expireAt).toBeGreaterThan(sim.ctx.clock.now() + 3_590_000);
    const c2 = await client();
    const r2 = await c2.request({
      type: "login",
      room_id: "tok",
      user_id: "tk2",
      app_id: APP,
      token: token("tk2"),
      user_name: "Tee",
    });
    expect(r2).toMatchObject({ type: "login_ok", users: [{ user_id: "tk1", user_name: "tk1" }] });
    expect(await c1.next("room_user_update")).toMatchObject({
      room_id: "tok",
      update_type: 0,
      users: [{ user_id: "tk2", user_name: "Tee" }],
    });
    await c2.request({ type: "logout" });
    expect(await c1.next("room_user_update")).toMatchObject({ update_type: 1, users: [{ user_id: "tk2" }] });
    expect(sim.ctx.rooms.members(APP, "tok")).toEqual(["tk1"]);
  });

  it.each([
    ["no credentials", {}, 1002067],
    ["app id alone", { app_id: APP }, 1002067],
    ["unknown app", { app_id: 42, app_sign: DEV_APP.app_sign }, 1001004],
    ["sign without app id", { app_sign: DEV_APP.app_sign }, 1001004],
    ["short sign", { app_id: APP, app_sign: "abc" }, 1001001],
    ["non-hex sign", { app_id: APP, app_sign: "z".repeat(64) }, 1001002],
    ["wrong sign", { app_id: APP, app_sign: "f".repeat(64) }, 1001005],
    ["empty room id", { room_id: "", app_id: APP, app_sign: DEV_APP.app_sign }, 1002011],
    ["bad room id", { room_id: "r 1", app_id: APP, app_sign: DEV_APP.app_sign }, 1002012],
    ["long room id", { room_id: "r".repeat(128), app_id: APP, app_sign: DEV_APP.app_sign }, 1002013],
    ["empty user id", { user_id: "", app_id: APP, app_sign: DEV_APP.app_sign }, 1002005],
    ["bad user id", { user_id: "u\u00e9", app_id: APP, app_sign: DEV_APP.app_sign }, 1002006],
    ["long user id", { user_id: "u".repeat(64), app_id: APP, app_sign: DEV_APP.app_sign }, 1002007],
    ["empty user name", { user_name: "", app_id: APP, app_sign: DEV_APP.app_sign }, 1002008],
  ])("refuses %s", async (_what, msg, code) => {
    const r = await tryLogin(msg);
    expect(r).toMatchObject({ type: "error", op: "login", code });
  });

  it("refuses bad tokens with the token codes", async () => {
    const cases: [Record<string, unknown>, number][] = [
      [{ token: "03abc" }, 1002079],
      [{ token: "04!!!" }, 1002074],
      [{ token: token("u1", { secret: "x".repeat(32) }) }, 1002033],
      [{ token: token("u1", { appId: 77 }) }, 1002076],
      [{ token: token("someone-else") }, 1002077],
      [
        {
          token: mintToken04({
            appId: APP,
            userId: "u1",
            secret: DEV_APP.token_secret,
            effectiveSeconds: 10,
            now: Math.floor(sim.ctx.clock.now() / 1000) - 60,
          }),
        },
        1002078,
      ],
      [{ token: token("u1", { payload: privilegePayload("r1", false, true) }) }, 1002033],
      [{ token: token("u1", { payload: privilegePayload("other-room") }) }, 1002033],
      [{ token: token("u1"), app_sign: "f".repeat(64) }, 1001005],
    ];
    for (const [msg, code] of cases) {
      expect(await tryLogin(msg), JSON.stringify(msg)).toMatchObject({ type: "error", op: "login", code });
    }
    expect(sim.ctx.rooms.isMember(APP, "r1", "u1")).toBe(false);
  });

  it("refuses a second login on one socket with 1002001", async () => {
    const c = await loginClient(sim.url, "twice", "tw");
    open.push(c);
    expect(
      await c.request({
        type: "login",
        room_id: "twice-2",
        user_id: "tw",
        app_id: APP,
        app_sign: DEV_APP.app_sign,
      }),
    ).toMatchObject({
      type: "error",
      code: 1002001,
    });
  });

  it("refuses the member beyond the room capacity with 1002034, counting HTTP room logins", async () => {
    const s = await call(sim.url, "POST", "/v1/music/init", {
      headers: { "x-app-id": String(APP), "x-app-sign": DEV_APP.app_sign },
      body: { user_id: "http-user" },
    });
    const h = { "x-app-id": String(APP), "x-app-sign": DEV_APP.app_sign, "x-session": s.body.data.session };
    expect(
      (await call(sim.url, "POST", "/v1/room/login", { headers: h, body: { room_id: "full" } })).body.code,
    ).toBe(0);
    open.push(await loginClient(sim.url, "full", "f1"), await loginClient(sim.url, "full", "f2"));
    const r = await tryLogin({ room_id: "full", user_id: "f3", app_id: APP, app_sign: DEV_APP.app_sign });
    expect(r).toMatchObject({ type: "error", code: 1002034 });
    // A member logging in again does not count twice.
    const again = await client();
    expect(
      (
        await again.request({
          type: "login",
          room_id: "full",
          user_id: "f2",
          app_id: APP,
          app_sign: DEV_APP.app_sign,
        })
      ).type,
    ).toBe("login_ok");
  });

  it("refuses an HTTP room login beyond the capacity with 1002034 too, media members counted; a member again is 0", async () => {
    const httpLogin = async (user: string) => {
      const s = await call(sim.url, "POST", "/v1/music/init", {
        headers: { "x-app-id": String(APP), "x-app-sign": DEV_APP.app_sign },
        body: { user_id: user },
      });
      const h = { "x-app-id": String(APP), "x-app-sign": DEV_APP.app_sign, "x-session": s.body.data.session };
      return (await call(sim.url, "POST", "/v1/room/login", { headers: h, body: { room_id: "full-http" } }))
        .body;
    };
    open.push(await loginClient(sim.url, "full-http", "m1"));
    expect((await httpLogin("h1")).code).toBe(0);
    expect((await httpLogin("h2")).code).toBe(0);
    const refused = await httpLogin("h3");
    expect(refused).toMatchObject({ code: 1002034, message: 'room "full-http" is full (3 users)' });
    // h2 logging in again is no new member.
    expect(await httpLogin("h2")).toMatchObject({ code: 0, data: { members: 3 } });
  });

  it("kicks the older socket with 1002050 when the same user logs in elsewhere", async () => {
    const first = await loginClient(sim.url, "dup-a", "dup");
    const watcher = await loginClient(sim.url, "dup-a", "watch");
    open.push(first, watcher);
    const second = await loginClient(sim.url, "dup-b", "dup");
    open.push(second);
    expect(await first.next("kicked")).toMatchObject({ code: 1002050 });
    expect(await first.closed).toEqual({ code: 4000, reason: "1002050" });
    expect(await watcher.next("room_user_update")).toMatchObject({
      update_type: 1,
      users: [{ user_id: "dup" }],
    });
    expect(sim.ctx.rooms.isMember(APP, "dup-a", "dup")).toBe(false);
    expect(sim.ctx.rooms.isMember(APP, "dup-b", "dup")).toBe(true);
    expect((await second.request({ type: "ping" })).type).toBe("pong");
  });

  it("answers logout without a login with 1002002 and publish/play with 1000002", async () => {
    const c = await client();
    expect(await c.request({ type: "logout" })).toMatchObject({ type: "error", code: 1002002 });
    expect(await c.request({ type: "publish", stream_id: "s" })).toMatchObject({
      type: "error",
      code: 1000002,
    });
    expect(await c.request({ type: "play", stream_id: "s" })).toMatchObject({ type: "error", code: 1000002 });
    expect(await c.request({ type: "renew_token", token: "04x" })).toMatchObject({
      type: "error",
      code: 1002002,
    });
  });

  it("counts logins by result code in /metrics", async () => {
    const m = await call(sim.url, "GET", "/metrics");
    expect(m.body).toMatch(/ktv_media_logins_total\{code="0"\} [1-9]/);
    expect(m.body).toMatch(/ktv_media_logins_total\{code="1002067"\} [1-9]/);
    // The capacity test re-logs f2 and the duplicate test re-logs dup: two kicks.
    expect(m.body).toMatch(/ktv_media_kicks_total\{code="1002050"\} 2\n/);
  });
});

describe("media socket hygiene", () => {
  it("answers a plain GET /v1/media with 426 and unknown upgrade paths with 404", async () => {
    const r = await call(sim.url, "GET", "/v1/media");
    expect(r.status).toBe(426);
    expect(r.body).toMatchObject({ code: 1000017, data: null });
    const ws = new WebSocket(`${sim.url.replace("http", "ws")}/v1/elsewhere`);
    const status = await new Promise<number>((resolve) =>
      ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0)),
    );
    expect(status).toBe(404);
  });

  it("answers malformed JSON and unknown messages with 1000017 and keeps the socket", async () => {
    const c = await client();
    c.send("{not json");
    expect(await c.next("error")).toMatchObject({ op: null, code: 1000017 });
    c.send(JSON.stringify({ type: "sing", req_id: 5 }));
    expect(await c.next("error")).toMatchObject({ op: null, code: 1000017, req_id: 5 });
    expect(await c.request({ type: "login", room_id: 7, user_id: "x" })).toMatchObject({
      type: "error",
      op: "login",
      code: 1000017,
    });
    expect(await c.request({ type: "ping", t: 12.5 })).toMatchObject({ type: "pong", t: 12.5 });
  });

  it("closes a socket that sends a message over the size limit (1009), not the server", async () => {
    const c = await client();
    c.send("x".repeat(70_000));
    expect((await c.closed).code).toBe(1009);
    const d = await client();
    expect((await d.request({ type: "ping" })).type).toBe("pong");
  });
});
