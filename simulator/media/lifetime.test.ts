import { afterEach, describe, expect, it } from "vitest";
import { mintToken04, privilegePayload } from "../../protocol/token04.ts";
import { testSimulator } from "../../test/sim.ts";
import type { Simulator } from "../app.ts";
import { manualClock } from "../clock.ts";
import { DEV_APP } from "../options.ts";
import { loginClient, MediaTestClient, pcmFrame } from "./test-client.ts";

// How long a media socket lives: token expiry (warning, renewal, kick), sockets that never log in, keepalive,
// periodic stream stats, and simulator shutdown. Token time runs on a manual clock moved by the test; the
// sweep runs every 20 ms of real time so each step settles quickly.

let sim: Simulator | undefined;
const open: MediaTestClient[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
  await sim?.close();
  sim = undefined;
});

async function start(media: Record<string, number> = {}, clock = manualClock()) {
  sim = await testSimulator({ clock, media: { sweepIntervalMs: 20, ...media } });
  return { sim, clock };
}

function token(userId: string, seconds: number, nowMs: number, payload = ""): string {
  return mintToken04({
    appId: DEV_APP.app_id,
    userId,
    secret: DEV_APP.token_secret,
    effectiveSeconds: seconds,
    payload,
    now: Math.floor(nowMs / 1000),
  });
}

async function tokenLogin(s: Simulator, room: string, user: string, tok: string) {
  const c = await MediaTestClient.open(s.url);
  open.push(c);
  const r = await c.request({ type: "login", room_id: room, user_id: user, token: tok });
  expect(r.type).toBe("login_ok");
  return c;
}

/** Waits a few sweeps of real time (the server acts on the clock at its next sweep). */
const settle = () => new Promise((r) => setTimeout(r, 100));

describe("token lifetime", () => {
  it("warns 30 s ahead, accepts renew_token, and kicks with 1002056 at the renewed expiry", async () => {
    const { sim, clock } = await start();
    const c = await tokenLogin(sim, "exp", "ex", token("ex", 60, clock.now()));
    clock.advance(20_000);
    await settle();
    expect(c.messages.filter((m) => m.type === "token_will_expire")).toEqual([]);
    clock.advance(11_000);
    expect(await c.next("token_will_expire")).toEqual({
      type: "token_will_expire",
      room_id: "exp",
      remain_seconds: 29,
    });

    const renewed = await c.request({ type: "renew_token", token: token("ex", 120, clock.now()) });
    expect(renewed).toMatchObject({ type: "renew_token_ok", token_expire_at: clock.now() + 120_000 });
    clock.advance(60_000); // past the first token's expiry
    await settle();
    expect((await c.request({ type: "ping" })).type).toBe("pong");
    expect(sim.ctx.rooms.isMember(DEV_APP.app_id, "exp", "ex")).toBe(true);

    clock.advance(60_000); // past the renewed expiry
    expect(await c.next("kicked")).toMatchObject({ code: 1002056 });
    expect(await c.closed).toEqual({ code: 4000, reason: "1002056" });
    expect(sim.ctx.rooms.isMember(DEV_APP.app_id, "exp", "ex")).toBe(false);
  });

  it("refuses renewals for another user, expired ones, and ones without publish privilege while publishing", async () => {
    const { sim, clock } = await start();
    const c = await tokenLogin(sim, "ren", "rn", token("rn", 600, clock.now()));
    expect(await c.request({ type: "renew_token", token: token("other", 600, clock.now()) })).toMatchObject({
      type: "error",
      op: "renew_token",
      code: 1002077,
    });
    expect(
      await c.request({ type: "renew_token", token: token("rn", 10, clock.now() - 60_000) }),
    ).toMatchObject({
      code: 1002078,
    });
    expect((await c.request({ type: "publish", stream_id: "st-ren" })).type).toBe("publish_ok");
    const noPublish = token("rn", 600, clock.now(), privilegePayload("ren", true, false));
    expect(await c.request({ type: "renew_token", token: noPublish })).toMatchObject({ code: 1002082 });
    await c.request({ type: "stop_publish", stream_id: "st-ren" });
    expect((await c.request({ type: "renew_token", token: noPublish })).type).toBe("renew_token_ok");
    expect(await c.request({ type: "publish", stream_id: "st-ren" })).toMatchObject({ code: 1002082 });
  });

  it("warns at once when the login token has less than 30 s left", async () => {
    const { sim, clock } = await start();
    const c = await tokenLogin(sim, "short", "sh", token("sh", 10, clock.now()));
    expect(await c.next("token_will_expire")).toMatchObject({ remain_seconds: 10 });
  });
});

describe("socket lifetime", () => {
  it("closes a socket that never logs in with 1002031", async () => {
    const { sim } = await start({ loginTimeoutMs: 100 });
    const c = await MediaTestClient.open(sim.url);
    open.push(c);
    expect(await c.next("error")).toMatchObject({ op: null, code: 1002031 });
    expect(await c.closed).toEqual({ code: 4001, reason: "1002031" });
  });

  it("pings sockets, keeps those that answer and terminates those that do not", async () => {
    const { sim } = await start({ pingIntervalMs: 60 });
    const alive = await loginClient(sim.url, "ka", "alive");
    const silent = await MediaTestClient.open(sim.url, { autoPong: false });
    open.push(alive, silent);
    await silent.request({
      type: "login",
      room_id: "ka",
      user_id: "silent",
      app_id: DEV_APP.app_id,
      app_sign: DEV_APP.app_sign,
    });
    let pings = 0;
    alive.ws.on("ping", () => pings++);
    expect((await silent.closed).code).toBe(1006);
    await expect
      .poll(() => sim.ctx.rooms.isMember(DEV_APP.app_id, "ka", "silent"), { timeout: 2000 })
      .toBe(false);
    await expect.poll(() => pings, { timeout: 2000 }).toBeGreaterThanOrEqual(2);
    expect((await alive.request({ type: "ping" })).type).toBe("pong");
  });

  it("pushes stream_stats to the publisher and players every statsIntervalMs", async () => {
    const { sim } = await start({ statsIntervalMs: 50 });
    const pub = await loginClient(sim.url, "stats", "st-pub");
    const fan = await loginClient(sim.url, "stats", "st-fan");
    open.push(pub, fan);
    await pub.request({ type: "publish", stream_id: "st-stats" });
    await fan.request({ type: "play", stream_id: "st-stats" });
    pub.sendFrame(pcmFrame("st-stats", 0));
    await fan.nextFrame();
    await expect
      .poll(() => fan.messages.some((m) => m.type === "stream_stats" && m.frames === 1), { timeout: 2000 })
      .toBe(true);
    expect(await pub.next("stream_stats")).toMatchObject({ stream_id: "st-stats", players: 1 });
  });

  it("closes every media socket when the simulator closes, and the close completes", async () => {
    const { sim } = await start();
    const a = await loginClient(sim.url, "bye", "a");
    const idle = await MediaTestClient.open(sim.url);
    const t0 = performance.now();
    await sim.close();
    const { code } = await a.closed;
    expect(code).toBe(1001);
    expect((await idle.closed).code).toBe(1001);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(sim.ctx.rooms.isMember(DEV_APP.app_id, "bye", "a")).toBe(false);
  });
});
