import { afterEach, describe, expect, it } from "vitest";
import { FrameFlag, type FrameHeader } from "../../protocol/media.ts";
import { mintToken04 } from "../../protocol/token04.ts";
import type { Simulator } from "../../simulator/app.ts";
import { manualClock } from "../../simulator/clock.ts";
import { DEV_APP } from "../../simulator/options.ts";
import { testSimulator } from "../../test/sim.ts";
import { createEngine, type ZegoExpressEngine } from "./engine.ts";
import { argsOf, DEV_APP_ID, DEV_APP_SIGN, eventLog, sleep, until } from "./test-fixtures.ts";
import { ZegoRoomStateChangedReason as Reason, ZegoRoomState } from "./types.ts";

// Reconnection over real sockets: the server going away (a simulator restart on the same port), a link cut
// on the client's side, a server that stays down (bounded attempts, then 1002053), a refusal that ends the
// tries at once, and a logout that cancels them.

const sims: Simulator[] = [];
const engines: ZegoExpressEngine[] = [];

afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.destroyEngine()));
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

async function simulator(o: Parameters<typeof testSimulator>[0] = {}): Promise<Simulator> {
  const s = await testSimulator(o);
  sims.push(s);
  return s;
}

/** Restarts the simulator on the same port: every media socket is closed with 1001 "going away". */
async function restart(s: Simulator, o: Parameters<typeof testSimulator>[0] = {}): Promise<Simulator> {
  const port = Number(new URL(s.url).port);
  await s.close();
  sims.splice(sims.indexOf(s), 1);
  return simulator({ ...o, port });
}

type Policy = { baseDelayMs: number; maxDelayMs: number; maxAttempts: number; random?: () => number };

function engine(
  server: string,
  reconnect: Policy = { baseDelayMs: 20, maxDelayMs: 100, maxAttempts: 20 },
  sign = true,
) {
  const e = createEngine({
    appID: DEV_APP_ID,
    ...(sign ? { appSign: DEV_APP_SIGN } : {}),
    server,
    reconnect,
  });
  engines.push(e);
  return e;
}

interface StreamsAnswer {
  data: { connections: number; streams: Record<string, unknown>[] };
}
const adminStreams = async (url: string) =>
  (await (await fetch(`${url}/admin/media/streams`)).json()) as StreamsAnswer;

const reasons = (log: ReturnType<typeof eventLog>) =>
  argsOf(log, "onRoomStateChanged").map((a) => [a[1], a[2]] as [number, number]);

describe("reconnect", () => {
  it("after a server restart: logs in again, re-publishes, re-plays, and the player hears the stream again", async () => {
    let sim = await simulator();
    const singer = engine(sim.url);
    const fan = engine(sim.url);
    const singerLog = eventLog(singer);
    await singer.loginRoom("r", { userID: "singer" });
    await fan.loginRoom("r", { userID: "fan" });
    const heard: FrameHeader[] = [];
    await fan.startPlayingStream("s_main", (_pcm, h) => heard.push({ ...h }));
    await singer.startPublishingStream("s_main");
    await until(() => heard.length >= 5, "packets before the restart");

    sim = await restart(sim);
    const before = heard.length;
    await until(() => singer.reconnectCount === 1 && fan.reconnectCount === 1, "both to reconnect");
    await until(() => heard.length >= before + 10, "packets after the restart");

    expect(reasons(singerLog)).toEqual([
      [Reason.Logining, 0],
      [Reason.Logined, 0],
      [Reason.Reconnecting, 1002051],
      [Reason.Reconnected, 0],
    ]);
    expect(singer.roomState).toBe(ZegoRoomState.Connected);
    // The fan's own socket was replaced too: its sequence tracking starts over, so nothing counts as lost.
    expect(fan.getPlayStats("s_main")!.lost).toBe(0);
    expect(argsOf(singerLog, "onPublisherStateUpdate").map((a) => a[1])).toEqual([1, 2, 2]);
    // The new server sees one publisher of the stream and counts its frames from the restart.
    const streams = await adminStreams(sim.url);
    expect(streams.data.streams).toEqual([
      expect.objectContaining({ stream_id: "s_main", publisher: "singer", players: 1, lost: 0 }),
    ]);
  });

  it("after the publisher's own link drops: packets meanwhile are dropped, numbering restarts with the flag", async () => {
    const sim = await simulator();
    // No jitter here (random() = 1: the full 150 ms): with full jitter the reconnect can come back within one
    // 20 ms packet period, and then no packet falls in the gap to be dropped.
    const e = engine(sim.url, { baseDelayMs: 150, maxDelayMs: 150, maxAttempts: 5, random: () => 1 });
    const fan = engine(sim.url);
    await e.loginRoom("r", { userID: "u" });
    await fan.loginRoom("r", { userID: "fan" });
    const heard: FrameHeader[] = [];
    await fan.startPlayingStream("u_main", (_pcm, h) => heard.push({ ...h }));
    await e.startPublishingStream("u_main");
    await until(() => heard.length >= 5, "packets before the drop");
    e.simulateNetworkDrop();
    await until(() => e.reconnectCount === 1, "the reconnect");
    const st = e.getPublishStats();
    expect(st.packetsDropped).toBeGreaterThan(0);
    const before = heard.length;
    await until(() => heard.length > before + 5, "packets after the reconnect");
    // The fan stayed connected: it sees the restart (seq 0, flag) and counts it as a discontinuity, not loss.
    const restart = heard.findIndex(
      (h, i) => i > 0 && h.seq === 0 && (h.flags & FrameFlag.Discontinuity) !== 0,
    );
    expect(restart).toBeGreaterThan(0);
    expect(heard[restart - 1]!.seq).toBeGreaterThan(3);
    expect(fan.getPlayStats("u_main")).toMatchObject({ lost: 0, discontinuities: 1 });
    expect(fan.reconnectCount).toBe(0);
  });

  it("gives up after maxAttempts with 1002053 while the server stays down", async () => {
    const sim = await simulator();
    const e = engine(sim.url, { baseDelayMs: 10, maxDelayMs: 20, maxAttempts: 3 });
    const log = eventLog(e);
    await e.loginRoom("r", { userID: "u" });
    await e.startPublishingStream("u_main");
    await sim.close();
    sims.length = 0;
    await until(() => reasons(log).some(([r]) => r === Reason.ReconnectFailed), "the reconnect to give up");
    expect(reasons(log).at(-1)).toEqual([Reason.ReconnectFailed, 1002053]);
    expect(e.roomState).toBe(ZegoRoomState.Disconnected);
    expect(argsOf(log, "onPublisherStateUpdate").at(-1)).toEqual(["u_main", 0, 1002053, {}]);
    expect(e.getPublishStats().clock).not.toBeNull();
  });

  it("stops when the new login is refused for good (the token expired meanwhile) and the app gives no new token", async () => {
    const clock = manualClock();
    const sim = await simulator({ clock });
    const token = mintToken04({
      appId: DEV_APP.app_id,
      userId: "t",
      secret: DEV_APP.token_secret,
      effectiveSeconds: 60,
      payload: "",
      now: Math.floor(clock.now() / 1000),
    });
    // The log listens for every event, the token warning too: the reconnect waits a request's timeout (kept
    // short here) for a renewToken that never comes.
    const e = createEngine({
      appID: DEV_APP_ID,
      server: sim.url,
      reconnect: { baseDelayMs: 10, maxDelayMs: 20, maxAttempts: 20 },
      requestTimeoutMs: 300,
    });
    engines.push(e);
    const log = eventLog(e);
    expect((await e.loginRoom("r", { userID: "t" }, { token })).errorCode).toBe(0);
    const later = manualClock(clock.now() + 120_000);
    await restart(sim, { clock: later });
    await until(() => reasons(log).some(([r]) => r === Reason.ReconnectFailed), "the refusal");
    const failed = reasons(log).at(-1)!;
    expect(failed[0]).toBe(Reason.ReconnectFailed);
    expect(failed[1]).toBe(1002078);
    expect(argsOf(log, "onRoomTokenWillExpire")).toEqual([["r", 0]]);
  });

  it("the token expired while the link was down: the app is asked (remaining 0 s), renews, and the reconnect logs in", async () => {
    const clock = manualClock();
    const sim = await simulator({ clock });
    const mint = (now: number) =>
      mintToken04({
        appId: DEV_APP.app_id,
        userId: "t",
        secret: DEV_APP.token_secret,
        effectiveSeconds: 60,
        payload: "",
        now: Math.floor(now / 1000),
      });
    const e = engine(sim.url, { baseDelayMs: 10, maxDelayMs: 20, maxAttempts: 20 }, false);
    const log = eventLog(e);
    expect((await e.loginRoom("r", { userID: "t" }, { token: mint(clock.now()) })).errorCode).toBe(0);
    await e.startPublishingStream("t_main");
    const later = manualClock(clock.now() + 120_000);
    // The careful app: a fresh token whenever the room says the token is (about to be) out.
    const asked: number[] = [];
    e.on("onRoomTokenWillExpire", (roomID, remain) => {
      asked.push(remain);
      void e.renewToken(roomID, mint(later.now()));
    });
    const next = await restart(sim, { clock: later });
    await until(() => e.reconnectCount === 1, "the reconnect with the renewed token");
    expect(asked).toEqual([0]);
    expect(reasons(log).map(([r]) => r)).toEqual([
      Reason.Logining,
      Reason.Logined,
      Reason.Reconnecting,
      Reason.Reconnected,
    ]);
    expect(e.roomState).toBe(ZegoRoomState.Connected);
    // Re-published before Reconnected was reported.
    expect((await adminStreams(next.url)).data.streams).toHaveLength(1);
  });

  it("logoutRoom cancels a reconnect in progress: no further attempts", async () => {
    const sim = await simulator();
    // Jitter pinned near the top: the first attempt waits ~300 ms, and the logout lands inside that wait.
    const e = engine(sim.url, { baseDelayMs: 300, maxDelayMs: 300, maxAttempts: 20, random: () => 0.99 });
    const log = eventLog(e);
    await e.loginRoom("r", { userID: "u" });
    const next = await restart(sim);
    await until(() => reasons(log).some(([r]) => r === Reason.Reconnecting), "reconnecting");
    expect((await e.logoutRoom()).errorCode).toBe(0);
    await sleep(600);
    expect(reasons(log).at(-1)).toEqual([Reason.Logout, 0]);
    expect(reasons(log).some(([r]) => r === Reason.Reconnected || r === Reason.ReconnectFailed)).toBe(false);
    const streams = await adminStreams(next.url);
    expect(streams.data.connections).toBe(0);
  });
});
