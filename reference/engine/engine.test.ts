import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FrameFlag, type FrameHeader, nowMicros } from "../../protocol/media.ts";
import { mintToken04 } from "../../protocol/token04.ts";
import type { Simulator } from "../../simulator/app.ts";
import { manualClock } from "../../simulator/clock.ts";
import { DEV_APP } from "../../simulator/options.ts";
import { testSimulator } from "../../test/sim.ts";
import { ZegoError } from "../errors.ts";
import { BufferSource } from "../mixer/source.ts";
import { createEngine, type ZegoExpressEngine } from "./engine.ts";
import { type MediaSocket, mediaUrl } from "./media-socket.ts";
import { argsOf, DEV_APP_ID, DEV_APP_SIGN, eventLog, sleep, until } from "./test-fixtures.ts";
import {
  type MediaSocketTuning,
  ZegoRoomStateChangedReason as Reason,
  ZegoRoomState,
  ZegoUpdateType,
} from "./types.ts";

// The engine against the real media server: room login and its 1002xxx refusals, room events, publishing and
// playing real frames, token renewal, kicks, and the media-player limit.

let sim: Simulator | undefined;
const engines: ZegoExpressEngine[] = [];

afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.destroyEngine()));
  await sim?.close();
  sim = undefined;
});

function engine(
  over: {
    appSign?: string;
    appID?: number;
    server?: string;
    mediaSocketPath?: string;
    mediaSocket?: MediaSocketTuning;
  } = {},
): ZegoExpressEngine {
  const e = createEngine({
    appID: over.appID ?? DEV_APP_ID,
    ...("appSign" in over ? (over.appSign ? { appSign: over.appSign } : {}) : { appSign: DEV_APP_SIGN }),
    server: over.server ?? sim!.url,
    ...(over.mediaSocketPath ? { mediaSocketPath: over.mediaSocketPath } : {}),
    ...(over.mediaSocket ? { mediaSocket: over.mediaSocket } : {}),
  });
  engines.push(e);
  return e;
}

/** A singer and a fan logged in to `room` (the fan's events logged from before its login). */
async function singerAndFan(room: string) {
  const singer = engine();
  const fan = engine();
  const fanLog = eventLog(fan);
  await singer.loginRoom(room, { userID: "singer" });
  await fan.loginRoom(room, { userID: "fan" });
  return { singer, fan, fanLog };
}

/** An engine logged in to room "r" as "viewer" with a token that may log in but not publish. */
async function viewerInRoom(): Promise<ZegoExpressEngine> {
  const token = mintToken04({
    appId: DEV_APP.app_id,
    userId: "viewer",
    secret: DEV_APP.token_secret,
    effectiveSeconds: 600,
    payload: JSON.stringify({ room_id: "r", privilege: { "1": 1, "2": 0 }, stream_id_list: null }),
  });
  const e = engine({ appSign: "" });
  expect((await e.loginRoom("r", { userID: "viewer" }, { token })).errorCode).toBe(0);
  return e;
}

const codeOf = async (p: Promise<unknown>) => {
  try {
    await p;
    return 0;
  } catch (e) {
    if (e instanceof ZegoError) return e.code;
    throw e;
  }
};

describe("room login", () => {
  it("logs in, lists who is there, and reports joins and leaves", async () => {
    sim = await testSimulator();
    const a = engine();
    const b = engine();
    const logA = eventLog(a);
    const logB = eventLog(b);
    expect(await a.loginRoom("r1", { userID: "alice", userName: "Alice" })).toEqual({
      errorCode: 0,
      extendedData: { token_expire_at: null },
    });
    expect(a.roomState).toBe(ZegoRoomState.Connected);
    expect((await b.loginRoom("r1", { userID: "bob" })).errorCode).toBe(0);
    expect(argsOf(logB, "onRoomUserUpdate")).toEqual([
      ["r1", ZegoUpdateType.Add, [{ userID: "alice", userName: "Alice" }]],
    ]);
    await until(() => argsOf(logA, "onRoomUserUpdate").length === 1, "alice to see bob");
    expect(argsOf(logA, "onRoomUserUpdate")[0]).toEqual([
      "r1",
      ZegoUpdateType.Add,
      [{ userID: "bob", userName: "bob" }],
    ]);
    expect(argsOf(logA, "onRoomStateChanged").map((a) => a[1])).toEqual([Reason.Logining, Reason.Logined]);
    // One room at a time, also while a login is still under way.
    expect((await a.loginRoom("r2", { userID: "alice" })).errorCode).toBe(1002001);
    const c = engine();
    const both = await Promise.all([
      c.loginRoom("r3", { userID: "carol" }),
      c.loginRoom("r3", { userID: "carol" }),
    ]);
    expect(both.map((r) => r.errorCode)).toEqual([0, 1002001]);
    expect((await b.logoutRoom("r1")).errorCode).toBe(0);
    await until(() => argsOf(logA, "onRoomUserUpdate").length === 2, "alice to see bob leave");
    expect(argsOf(logA, "onRoomUserUpdate")[1]).toEqual([
      "r1",
      ZegoUpdateType.Delete,
      [{ userID: "bob", userName: "bob" }],
    ]);
    expect(b.roomState).toBe(ZegoRoomState.Disconnected);
    expect((await b.logoutRoom("r1")).errorCode).toBe(1002002);
  });

  it("answers the SDK's codes: 1002067 locally, the server's 1001xxx/1002xxx, 1002030 unreachable", async () => {
    sim = await testSimulator();
    expect((await engine({ appSign: "" }).loginRoom("r", { userID: "u" })).errorCode).toBe(1002067);
    expect((await engine({ appSign: "f".repeat(64) }).loginRoom("r", { userID: "u" })).errorCode).toBe(
      1001005,
    );
    expect((await engine({ appID: 42 }).loginRoom("r", { userID: "u" })).errorCode).toBe(1001004);
    expect((await engine().loginRoom("", { userID: "u" })).errorCode).toBe(1002011);
    expect((await engine().loginRoom("r", { userID: "" })).errorCode).toBe(1002005);
    const closed = await testSimulator();
    const deadUrl = closed.url;
    await closed.close();
    const offline = engine({ server: deadUrl });
    const log = eventLog(offline);
    expect((await offline.loginRoom("r", { userID: "u" })).errorCode).toBe(1002030);
    expect(argsOf(log, "onRoomStateChanged").map((a) => [a[1], a[2]])).toEqual([
      [Reason.Logining, 0],
      [Reason.LoginFailed, 1002030],
    ]);
    expect(() => createEngine({ appID: 1, appSign: "abc", server: sim!.url })).toThrow(
      expect.objectContaining({ code: 1001001 }),
    );
    expect(() => createEngine({ appID: 0, server: sim!.url })).toThrow(
      expect.objectContaining({ code: 1001000 }),
    );
  });
});

describe("publishing and playing", () => {
  it("reaches the media server over its Unix domain socket as over TCP", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ktv-engine-sock-"));
    try {
      sim = await testSimulator({ socketPath: join(dir, "sim.sock") });
      // The singer's TCP address answers nothing (port 9, discard): only the socket can carry its media.
      const singer = engine({ server: "http://127.0.0.1:9", mediaSocketPath: sim.socketPath! });
      const fan = engine();
      await singer.loginRoom("r-uds", { userID: "singer" });
      await fan.loginRoom("r-uds", { userID: "fan" });
      singer.setMicrophoneSource(new BufferSource(new Int16Array(48_000 * 2)));
      const seqs: number[] = [];
      await fan.startPlayingStream("uds_main", (_p, h) => {
        seqs.push(h.seq);
      });
      await singer.startPublishingStream("uds_main");
      await until(() => seqs.length >= 5, "packets relayed from the socket to TCP");
      await singer.stopPublishingStream();
      expect(seqs.slice(0, 5)).toEqual([0, 1, 2, 3, 4]);
    } finally {
      await Promise.all(engines.splice(0).map((e) => e.destroyEngine()));
      await sim?.close();
      sim = undefined;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("names a media socket path it cannot use", () => {
    expect(mediaUrl("http://127.0.0.1:1", "/tmp/s.sock")).toBe("ws+unix:/tmp/s.sock:/v1/media");
    expect(() => mediaUrl("http://127.0.0.1:1", "relative.sock")).toThrow(/absolute/);
    expect(() => mediaUrl("http://127.0.0.1:1", "/tmp/a:b.sock")).toThrow(/free of ':'/);
  });

  it("a player receives exactly the mixed frames, as 20 ms packets with capture times", async () => {
    sim = await testSimulator();
    const { singer, fan, fanLog } = await singerAndFan("r1");
    expect(await codeOf(fan.startPublishingStream("bad id!"))).toBe(1000017);

    const pcm = new Int16Array(48_000 * 2 * 3);
    for (let i = 0; i < pcm.length; i++) pcm[i] = ((i * 7919) % 40_000) - 20_000;
    singer.setMicrophoneSource(new BufferSource(pcm));
    const mixed: Int16Array[] = [];
    singer.setMixedAudioDataHandler((frame) => {
      mixed.push(frame.slice());
    });
    const heard: { header: FrameHeader; pcm: Int16Array; latencyUs: number }[] = [];
    await fan.startPlayingStream("singer_main", (p, h) => {
      heard.push({ header: { ...h }, pcm: p.slice(), latencyUs: nowMicros() - h.captureUs });
    });
    await singer.startPublishingStream("singer_main");
    await until(() => heard.length >= 25, "half a second of packets");
    await singer.stopPublishingStream();

    expect(argsOf(fanLog, "onRoomStreamUpdate")[0]).toEqual([
      "r1",
      ZegoUpdateType.Add,
      [{ streamID: "singer_main", user: { userID: "singer", userName: "singer" }, extraInfo: "" }],
      {},
    ]);
    const first = heard[0]!.header;
    expect(first).toMatchObject({ seq: 0, flags: FrameFlag.Discontinuity, sampleRate: 48_000, channels: 2 });
    expect(first.payloadBytes).toBe(3840);
    // Packet k carries mixer frames 2k and 2k+1, sample for sample.
    for (const h of heard) {
      const k = h.header.seq;
      const expected = new Int16Array(1920);
      expected.set(mixed[2 * k]!, 0);
      expected.set(mixed[2 * k + 1]!, 960);
      expect(h.pcm).toEqual(expected);
    }
    expect(heard.map((h) => h.header.seq)).toEqual([...heard.keys()]);
    // Capture times are 20 ms apart (the clock's deadlines); relay over loopback takes well under a second.
    expect(heard[5]!.header.captureUs - heard[4]!.header.captureUs).toBe(20_000);
    for (const h of heard) expect(h.latencyUs).toBeGreaterThan(0);
    expect(Math.max(...heard.map((h) => h.latencyUs))).toBeLessThan(1_000_000);
    await until(() => argsOf(fanLog, "onRoomStreamUpdate").length === 2, "the stream's delete");
    expect(fan.getPlayStats("singer_main")).toMatchObject({ lost: 0, discontinuities: 0 });
    const st = singer.getPublishStats();
    expect(st.packetsSent).toBeGreaterThanOrEqual(25);
    expect(st.packetsDropped).toBe(0);
    expect(st.framesMixed).toBe(mixed.length);
  });

  it("with a load generator's media socket (framed writes, packet reader) a player gets the same mixed frames", async () => {
    sim = await testSimulator();
    const singer = engine({ mediaSocket: { framedWrites: true } });
    const fan = engine({ mediaSocket: { readPackets: true } });
    await singer.loginRoom("r-tuned", { userID: "singer" });
    await fan.loginRoom("r-tuned", { userID: "fan" });
    const pcm = new Int16Array(48_000 * 2);
    for (let i = 0; i < pcm.length; i++) pcm[i] = ((i * 7919) % 40_000) - 20_000;
    singer.setMicrophoneSource(new BufferSource(pcm));
    const mixed: Int16Array[] = [];
    singer.setMixedAudioDataHandler((frame) => {
      mixed.push(frame.slice());
    });
    const heard: { seq: number; pcm: Int16Array }[] = [];
    await fan.startPlayingStream("tuned_main", (p, h) => {
      heard.push({ seq: h.seq, pcm: p.slice() });
    });
    await singer.startPublishingStream("tuned_main");
    await until(() => heard.length >= 10, "packets written pre-framed and read before ws");
    await singer.stopPublishingStream();
    expect(heard.map((h) => h.seq)).toEqual([...heard.keys()]);
    for (const h of heard) {
      const expected = new Int16Array(1920);
      expected.set(mixed[2 * h.seq]!, 0);
      expected.set(mixed[2 * h.seq + 1]!, 960);
      expect(h.pcm).toEqual(expected);
    }
    // The options reached the sockets: the singer's packets went out through the frame writer, the fan's came
    // in through the packet reader (ws framed and read none of them).
    const socketOf = (e: ZegoExpressEngine) =>
      (e as unknown as { session: { socket: MediaSocket } }).session.socket;
    expect(socketOf(singer).packetsFramed).toBe(singer.getPublishStats().packetsSent);
    expect(socketOf(fan).packetsRead).toBe(fan.getPlayStats("tuned_main")!.frames);
    expect(socketOf(fan).packetsFramed).toBe(0);
    expect(socketOf(singer).packetsRead).toBe(0);
  });

  it("refuses publishing outside a room, and a second stream on the main channel", async () => {
    sim = await testSimulator();
    const e = engine();
    expect(await codeOf(e.startPublishingStream("s1"))).toBe(1000002);
    await e.loginRoom("r", { userID: "u" });
    await e.startPublishingStream("s1");
    expect(await codeOf(e.startPublishingStream("s2"))).toBe(1000017);
    await e.stopPublishingStream();
    await e.startPublishingStream("s2");
    expect(e.getPublishStats().clock).not.toBeNull();
  });

  it("a token without publish privilege may log in but not publish (1002082)", async () => {
    sim = await testSimulator();
    const e = await viewerInRoom();
    expect(await codeOf(e.startPublishingStream("v"))).toBe(1002082);
  });
});

describe("prepared publishing (the handshake ahead of the song)", () => {
  const publisherStates = (log: ReturnType<typeof eventLog>) =>
    argsOf(log, "onPublisherStateUpdate").map((a) => [a[0], a[1], a[2]]);

  it("publishes at prepare, mixes nothing until start, then starts without a second request", async () => {
    sim = await testSimulator();
    const { singer, fan, fanLog } = await singerAndFan("r-prep");
    const log = eventLog(singer);
    singer.setMicrophoneSource(new BufferSource(new Int16Array(48_000 * 2)));
    singer.preparePublishingStream("prep_main");
    // The server has the stream (the fan is told) while the singer's clock has not mixed a frame.
    await until(() => argsOf(fanLog, "onRoomStreamUpdate").length === 1, "the prepared stream's add");
    expect(argsOf(fanLog, "onRoomStreamUpdate")[0]![1]).toBe(ZegoUpdateType.Add);
    await sleep(50);
    expect(singer.getPublishStats().framesMixed).toBe(0);
    expect(singer.publishedPackets).toBe(0);
    const seqs: number[] = [];
    await fan.startPlayingStream("prep_main", (_p, h) => {
      seqs.push(h.seq);
    });
    expect(seqs).toEqual([]);
    await singer.startPublishingStream("prep_main");
    await until(() => seqs.length >= 3, "packets after start");
    expect(seqs.slice(0, 3)).toEqual([0, 1, 2]);
    await singer.stopPublishingStream();
    // One request, one answer: Requesting (at prepare), Publishing (its answer), NoPublish (the stop).
    expect(publisherStates(log)).toEqual([
      ["prep_main", 1, 0],
      ["prep_main", 2, 0],
      ["prep_main", 0, 0],
    ]);
  });

  it("a prepared stream that is never started is unpublished by the stop, even mid-handshake", async () => {
    sim = await testSimulator();
    const { singer, fanLog } = await singerAndFan("r-prep2");
    singer.preparePublishingStream("gone_main");
    // Stopped before the answer came back: the stop waits for it, then unpublishes.
    await singer.stopPublishingStream();
    await until(() => argsOf(fanLog, "onRoomStreamUpdate").length === 2, "the stream's add and delete");
    expect(argsOf(fanLog, "onRoomStreamUpdate").map((a) => a[1])).toEqual([
      ZegoUpdateType.Add,
      ZegoUpdateType.Delete,
    ]);
    // The main channel is free again: another stream id publishes.
    await singer.startPublishingStream("next_main");
    expect(singer.getPublishStats().clock).not.toBeNull();
  });

  it("start under another id ends the prepared one first; a refused handshake rejects start", async () => {
    sim = await testSimulator();
    const e = engine();
    const log = eventLog(e);
    await e.loginRoom("r-prep3", { userID: "u" });
    e.preparePublishingStream("first");
    await e.startPublishingStream("second");
    expect(publisherStates(log)).toEqual([
      ["first", 1, 0],
      ["first", 2, 0],
      ["first", 0, 0],
      ["second", 1, 0],
      ["second", 2, 0],
    ]);
    await e.stopPublishingStream();
    // Refused at the server (no publish privilege): the error reaches startPublishingStream.
    const viewer = await viewerInRoom();
    viewer.preparePublishingStream("v");
    expect(await codeOf(viewer.startPublishingStream("v"))).toBe(1002082);
    // Outside a room: the same 1000002 as startPublishingStream alone.
    const out = engine();
    out.preparePublishingStream("o");
    expect(await codeOf(out.startPublishingStream("o"))).toBe(1000002);
  });
});

describe("token and kicks", () => {
  it("warns before the token expires; renewToken keeps the user in; the vendor API takes the token too", async () => {
    const clock = manualClock();
    sim = await testSimulator({ clock, media: { sweepIntervalMs: 20 } });
    const mint = (seconds: number) =>
      mintToken04({
        appId: DEV_APP.app_id,
        userId: "tok",
        secret: DEV_APP.token_secret,
        effectiveSeconds: seconds,
        payload: "",
        now: Math.floor(clock.now() / 1000),
      });
    const e = engine({ appSign: "" });
    const log = eventLog(e);
    const music = e.createCopyrightedMusic();
    expect((await music.initCopyrightedMusic({ user: { userID: "tok" } })).errorCode).toBe(1017009);
    expect((await e.loginRoom("r", { userID: "tok" }, { token: mint(60) })).errorCode).toBe(0);
    expect((await music.initCopyrightedMusic({ user: { userID: "tok" } })).errorCode).toBe(0);

    e.on("onRoomTokenWillExpire", (roomID) => void e.renewToken(roomID, mint(600)));
    clock.advance(35_000);
    const [warning] = await until(() => argsOf(log, "onRoomTokenWillExpire")[0], "the expiry warning");
    expect(warning).toBe("r");
    await sleep(100);
    clock.advance(60_000); // past the first token's expiry
    await sleep(150);
    expect(argsOf(log, "onKicked")).toEqual([]);
    expect(e.roomState).toBe(ZegoRoomState.Connected);
    // The renewed token also authenticates vendor calls.
    const r = await music.sendExtendedRequest("/tag/list", JSON.stringify({ vendor_id: 0 }));
    expect(r.errorCode).toBe(0);
    clock.advance(600_000);
    const kicked = await until(() => argsOf(log, "onKicked")[0], "the expiry kick");
    expect(kicked).toEqual(["r", 1002056, expect.any(String)]);
  });

  it("kicked by a second login of the same user: KickOut, no reconnect", async () => {
    sim = await testSimulator();
    const first = engine();
    const log = eventLog(first);
    await first.loginRoom("r", { userID: "dup" });
    await first.startPublishingStream("dup_main");
    const second = engine();
    expect((await second.loginRoom("r", { userID: "dup" })).errorCode).toBe(0);
    const kicked = await until(() => argsOf(log, "onKicked")[0], "the kick");
    expect(kicked).toEqual(["r", 1002050, expect.any(String)]);
    await sleep(300);
    const reasons = argsOf(log, "onRoomStateChanged").map((a) => [a[1], a[2]]);
    expect(reasons).toContainEqual([Reason.KickOut, 1002050]);
    expect(reasons.some(([r]) => r === Reason.Reconnecting)).toBe(false);
    expect(first.roomState).toBe(ZegoRoomState.Disconnected);
    expect(argsOf(log, "onPublisherStateUpdate").at(-1)).toEqual(["dup_main", 0, 1002050, {}]);
    expect(first.getPublishStats().clock).not.toBeNull();
    expect(first.reconnectCount).toBe(0);
  });
});

describe("media players", () => {
  it("creates at most four (1008030 beyond); a destroyed one frees its slot", async () => {
    sim = await testSimulator();
    const e = engine();
    const players = await Promise.all([0, 1, 2, 3].map(() => e.createMediaPlayer()));
    expect(players.map((p) => p.getIndex())).toEqual([0, 1, 2, 3]);
    expect(await codeOf(e.createMediaPlayer())).toBe(1008030);
    await e.destroyMediaPlayer(players[2]!);
    expect((await e.createMediaPlayer()).getIndex()).toBe(2);
    // Without a copyrighted-music module a load is "not initialised".
    expect((await players[0]!.loadCopyrightedMusicResourceWithPosition("z_1", 0)).errorCode).toBe(1017096);
  });
});
