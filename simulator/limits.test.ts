import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, metricSum, session, testSimulator } from "../test/sim.ts";
import type { Simulator } from "./app.ts";
import { createRoomRegistry } from "./auth/rooms.ts";
import { createSessionStore } from "./auth/sessions.ts";
import { audioLayout } from "./cdn/format.ts";
import { jsonKnobs } from "./cli.ts";
import { manualClock } from "./clock.ts";
import { DEFAULT_LIMITS, resolveLimits } from "./limits.ts";
import { MediaTestClient } from "./media/test-client.ts";
import { DEFAULT_OPTIONS, DEV_APP } from "./options.ts";
import { createResourceStore } from "./resources/store.ts";

// The caps of limits.ts: refused over the real surfaces with the vendor's codes, forgotten where the vendor
// refuses nothing, and at their defaults out of the way of a 10,000-user load.

describe("limits at their defaults", () => {
  it("hold a 10,000-user load in one app without forgetting or refusing anything", () => {
    const limits = resolveLimits();
    const clock = manualClock();
    const sessions = createSessionStore(limits);
    const rooms = createRoomRegistry(limits);
    const resources = createResourceStore({ clock, options: DEFAULT_OPTIONS, limits });
    const APP = DEV_APP.app_id;
    const layout = audioLayout(0, 180_000, 1);
    for (let u = 0; u < 10_000; u++) {
      // Each VU re-inits per login (rooms-250's songsPerLogin 8: a handful of logins per run)...
      let s = sessions.create(APP, `vu-${u}`, "vu", 0);
      for (let login = 0; login < 4; login++) s = sessions.create(APP, `vu-${u}`, "vu", 0);
      // ...is in a room of 4 (media) and alone in one (an HTTP-only client), and requests 3 songs.
      rooms.join(APP, `room-${u >> 2}`, `vu-${u}`);
      rooms.join(APP, `solo-${u}`, `vu-${u}`);
      for (let i = 0; i < 3; i++) {
        resources.add(
          resources.create({
            app_id: APP,
            user_id: s.user_id,
            session_id: s.id,
            song_id: String(i),
            vendor_id: 0,
            resource_type: 1,
            quality: 0,
            billing_mode: 0,
            room_id: null,
            span: { begin: 0, end: 180_000 },
            layout,
            via_share: false,
            krc_token: null,
          }),
        );
      }
    }
    expect(sessions.count).toBe(50_000);
    expect(sessions.evicted).toBe(0);
    expect(resources.count).toBe(30_000);
    expect(resources.evicted).toBe(0);
    expect(rooms.members(APP, "room-2499")).toHaveLength(4);
  });

  it("refuse what is not a positive integer cap, naming it", () => {
    expect(() => resolveLimits({ roomsPerApp: 0 })).toThrow(/roomsPerApp must be a positive integer/);
    expect(() => resolveLimits({ sessionsPerUser: 1.5 })).toThrow(/sessionsPerUser/);
    expect(() => resolveLimits({ roomz: 3 } as never)).toThrow(/unknown limit roomz/);
    expect(resolveLimits({ roomsPerUser: 4 })).toEqual({ ...DEFAULT_LIMITS, roomsPerUser: 4 });
  });

  it("come from `ktv sim --limits <json>`, a bad one refused with a clear message", () => {
    const parse = (v: string) => jsonKnobs("--limits", v, resolveLimits);
    expect(parse('{"roomsPerUser":4}')).toEqual({ roomsPerUser: 4 });
    expect(() => parse("{roomsPerUser:4}")).toThrow(/--limits is not valid JSON/);
    expect(() => parse("[4]")).toThrow(/--limits must be a JSON object/);
    expect(() => parse('{"roomsPerUser":-1}')).toThrow(
      /--limits: limit roomsPerUser must be a positive integer/,
    );
  });
});

describe("limits over the real surfaces", () => {
  let sim: Simulator;
  const open: MediaTestClient[] = [];
  beforeAll(async () => {
    sim = await testSimulator({ limits: { roomsPerUser: 1, roomsPerApp: 2, sessionsPerUser: 2 } });
  });
  afterAll(async () => {
    await Promise.all(open.map((c) => c.close()));
    await sim.close();
  });

  it("HTTP room login past roomsPerUser answers 1002001 and the room does not see the user", async () => {
    const h = await session(sim.url, "hoarder");
    const login = (room_id: string) =>
      call(sim.url, "POST", "/v1/room/login", { headers: h, body: { room_id } });
    expect((await login("r-one")).body.code).toBe(0);
    const r = await login("r-two");
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ code: 1002001, data: null });
    expect(r.body.message).toMatch(/roomsPerUser/);
    expect(sim.ctx.rooms.isMember(DEV_APP.app_id, "r-two", "hoarder")).toBe(false);
  });

  it("media login to a room past roomsPerApp answers 1002035; a room that exists still takes members", async () => {
    const h = await session(sim.url, "second");
    expect(
      (await call(sim.url, "POST", "/v1/room/login", { headers: h, body: { room_id: "r-2" } })).body.code,
    ).toBe(0);
    const c = await MediaTestClient.open(sim.url);
    open.push(c);
    const creds = { app_id: DEV_APP.app_id, app_sign: DEV_APP.app_sign };
    const refused = await c.request({ type: "login", room_id: "r-3", user_id: "m1", ...creds });
    expect(refused).toMatchObject({ type: "error", code: 1002035 });
    expect(sim.ctx.rooms.members(DEV_APP.app_id, "r-3")).toEqual([]);
    // Refused, nothing held: the same socket logs in to an existing room.
    expect(await c.request({ type: "login", room_id: "r-2", user_id: "m1", ...creds })).toMatchObject({
      type: "login_ok",
    });
  });

  it("an init past sessionsPerUser forgets that user's oldest session, which then answers 1017096", async () => {
    const first = await session(sim.url, "looper");
    const second = await session(sim.url, "looper");
    const bystander = await session(sim.url, "bystander");
    const third = await session(sim.url, "looper");
    // A session-guarded call that changes nothing: 1002002 (not in that room) proves the session was accepted.
    const use = async (h: Record<string, string>) =>
      (await call(sim.url, "POST", "/v1/room/logout", { headers: h, body: { room_id: "nowhere" } })).body
        .code;
    expect(await use(first)).toBe(1017096);
    for (const h of [second, third, bystander]) expect(await use(h)).toBe(1002002);
  });

  it("shows what the caps forgot and refused in /metrics", async () => {
    expect(await metricSum(sim.url, /^ktv_sessions_forgotten /)).toBeGreaterThanOrEqual(1);
    expect(await metricSum(sim.url, /^ktv_room_logins_refused /)).toBeGreaterThanOrEqual(2);
    expect(await metricSum(sim.url, /^ktv_sessions /)).toBe(sim.ctx.sessions.count);
  });
});
