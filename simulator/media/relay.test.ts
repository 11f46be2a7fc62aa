import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeFrameHeader, FrameFlag, type StreamStats, streamHash } from "../../protocol/media.ts";
import { mintToken04, privilegePayload } from "../../protocol/token04.ts";
import { call, testSimulator } from "../../test/sim.ts";
import type { Simulator } from "../app.ts";
import { DEV_APP } from "../options.ts";
import { loginClient, MediaTestClient, PCM_FRAME_BYTES, pcmFrame } from "./test-client.ts";

// Publish -> play over real WebSockets: byte-exact relay, fan-out, live edge, stream ownership, counters,
// stream events, backpressure and the admin/metrics views.

let sim: Simulator;
const open: MediaTestClient[] = [];

async function login(room: string, user: string, extra: Record<string, unknown> = {}) {
  const c = await loginClient(sim.url, room, user, extra);
  open.push(c);
  return c;
}

async function adminStreams(): Promise<StreamStats[]> {
  const r = await call(sim.url, "GET", "/admin/media/streams");
  expect(r.status).toBe(200);
  return r.body.data.streams;
}

async function statsOf(c: MediaTestClient, streamId: string): Promise<StreamStats> {
  const r = await c.request({ type: "get_stream_stats", stream_id: streamId });
  if (r.type !== "stream_stats") throw new Error(JSON.stringify(r));
  return r;
}

/** Sends frames seq by seq and waits until `player` received the last one (so later checks see them all). */
async function sendAndAwait(pub: MediaTestClient, player: MediaTestClient, streamId: string, seqs: number[]) {
  for (const s of seqs) pub.sendFrame(pcmFrame(streamId, s));
  const got: number[] = [];
  while (got.length < seqs.length) got.push(decodeFrameHeader(await player.nextFrame()).seq);
  return got;
}

beforeAll(async () => {
  sim = await testSimulator({ media: { frameErrorIntervalMs: 0, statsIntervalMs: 0 } });
});
afterAll(async () => {
  await Promise.all(open.map((c) => c.close()));
  for (const c of open) expect(c.invalid).toEqual([]);
  await sim.close();
});

describe("publish and play", () => {
  it("relays the publisher's frames byte for byte to every player, in order", async () => {
    const pub = await login("relay", "singer");
    const p1 = await login("relay", "fan1");
    const p2 = await login("relay", "fan2");
    expect(await pub.request({ type: "publish", stream_id: "st-relay" })).toMatchObject({
      type: "publish_ok",
      stream_hash: streamHash("st-relay"),
    });
    expect(await p1.next("room_stream_update")).toMatchObject({
      room_id: "relay",
      update_type: 0,
      streams: [{ stream_id: "st-relay", user_id: "singer", user_name: "singer" }],
    });
    expect(await p1.request({ type: "play", stream_id: "st-relay" })).toMatchObject({
      type: "play_ok",
      live: true,
    });
    expect((await p2.request({ type: "play", stream_id: "st-relay" })).type).toBe("play_ok");
    const sent = [0, 1, 2, 3, 4].map((s) => pcmFrame("st-relay", s));
    for (const f of sent) pub.sendFrame(f);
    for (const player of [p1, p2]) {
      for (const f of sent) expect((await player.nextFrame()).equals(f)).toBe(true);
    }
    expect(pub.frames).toEqual([]);
    const st = await statsOf(pub, "st-relay");
    expect(st).toMatchObject({
      publisher: "singer",
      room_id: "relay",
      players: 2,
      frames: 5,
      bytes: 5 * PCM_FRAME_BYTES,
      lost: 0,
      gaps: 0,
      relayed_frames: 10,
      relayed_bytes: 10 * PCM_FRAME_BYTES,
      last_seq: 4,
    });
    expect(st.latency_us.count).toBe(5);
    expect(st.latency_us.max).toBeGreaterThanOrEqual(st.latency_us.min);
    // Loopback on one host: well under a second from capture to relay.
    expect(st.latency_us.max).toBeLessThan(1_000_000);
  });

  it("lets a player that joins late start at the live edge", async () => {
    const pub = await login("late", "l-singer");
    const early = await login("late", "l-early");
    await pub.request({ type: "publish", stream_id: "st-late" });
    await early.request({ type: "play", stream_id: "st-late" });
    expect(await sendAndAwait(pub, early, "st-late", [0, 1, 2, 3, 4])).toEqual([0, 1, 2, 3, 4]);
    const late = await login("late", "l-late");
    expect(await late.request({ type: "play", stream_id: "st-late" })).toMatchObject({
      type: "play_ok",
      live: true,
    });
    pub.sendFrame(pcmFrame("st-late", 5));
    expect(decodeFrameHeader(await late.nextFrame()).seq).toBe(5);
    expect(late.frames).toEqual([]);
  });

  it("lets a player wait for a stream that nobody publishes yet", async () => {
    const fan = await login("wait", "w-fan");
    expect(await fan.request({ type: "play", stream_id: "st-wait" })).toMatchObject({
      type: "play_ok",
      live: false,
    });
    const pub = await login("wait", "w-singer");
    await pub.request({ type: "publish", stream_id: "st-wait" });
    expect(await sendAndAwait(pub, fan, "st-wait", [40])).toEqual([40]);
  });

  it("drops frames for a stream the sender does not publish, and counts them on that stream", async () => {
    const owner = await login("own", "o-owner");
    const thief = await login("own", "o-thief");
    const fan = await login("own", "o-fan");
    await owner.request({ type: "publish", stream_id: "st-own" });
    expect(await thief.request({ type: "publish", stream_id: "st-own" })).toMatchObject({
      type: "error",
      code: 1000017,
    });
    await fan.request({ type: "play", stream_id: "st-own" });
    thief.sendFrame(pcmFrame("st-own", 100));
    thief.sendFrame(pcmFrame("st-own", 101));
    expect(await thief.next("error")).toMatchObject({ op: "frame", code: 1000017, dropped: 1 });
    // The owner's next frame is the first thing the player gets: the thief's never arrived.
    expect(await sendAndAwait(owner, fan, "st-own", [0])).toEqual([0]);
    expect(fan.frames).toEqual([]);
    const st = await statsOf(fan, "st-own");
    expect(st).toMatchObject({ foreign_dropped: 2, frames: 1, publisher: "o-owner" });
  });

  it("counts loss, gaps, duplicates and reordering from sequence numbers, and still relays them", async () => {
    const pub = await login("seq", "q-singer");
    const fan = await login("seq", "q-fan");
    await pub.request({ type: "publish", stream_id: "st-seq" });
    await fan.request({ type: "play", stream_id: "st-seq" });
    // 0 1 [2 3 missing] 4 5 5(dup) 3(late) [6..8 missing] 9
    const got = await sendAndAwait(pub, fan, "st-seq", [0, 1, 4, 5, 5, 3, 9]);
    expect(got).toEqual([0, 1, 4, 5, 5, 3, 9]);
    expect(await statsOf(pub, "st-seq")).toMatchObject({
      frames: 7,
      lost: 4,
      gaps: 2,
      duplicates: 1,
      reordered: 1,
    });
    const metrics = (await call(sim.url, "GET", "/metrics")).body as string;
    expect(metrics).toMatch(/ktv_media_frames_missing_total [1-9]/);
  });

  it("restarts loss tracking at a DISCONTINUITY frame and when the publisher changes", async () => {
    const pub = await login("disc", "d-singer");
    const fan = await login("disc", "d-fan");
    await pub.request({ type: "publish", stream_id: "st-disc" });
    await fan.request({ type: "play", stream_id: "st-disc" });
    pub.sendFrame(pcmFrame("st-disc", 500));
    pub.sendFrame(pcmFrame("st-disc", 0, { flags: FrameFlag.Discontinuity }));
    pub.sendFrame(pcmFrame("st-disc", 1));
    for (let i = 0; i < 3; i++) await fan.nextFrame();
    expect(await statsOf(pub, "st-disc")).toMatchObject({ frames: 3, lost: 0, reordered: 0, duplicates: 0 });
    await pub.request({ type: "stop_publish", stream_id: "st-disc" });
    await pub.request({ type: "publish", stream_id: "st-disc" });
    pub.sendFrame(pcmFrame("st-disc", 9000));
    await fan.nextFrame();
    expect(await statsOf(pub, "st-disc")).toMatchObject({ frames: 4, lost: 0, gaps: 0 });
  });

  it("tells the room when a stream stops, and stops the streams of a user who leaves", async () => {
    const pub = await login("events", "e-singer");
    const fan = await login("events", "e-fan");
    await pub.request({ type: "publish", stream_id: "st-ev1" });
    await pub.request({ type: "publish", stream_id: "st-ev2" });
    await fan.next("room_stream_update");
    await fan.next("room_stream_update");
    await login("events", "e-late");
    expect(await fan.next("room_user_update")).toMatchObject({
      update_type: 0,
      users: [{ user_id: "e-late" }],
    });
    expect(await pub.request({ type: "stop_publish", stream_id: "st-ev1" })).toMatchObject({
      type: "stop_publish_ok",
    });
    expect(await fan.next("room_stream_update")).toMatchObject({
      update_type: 1,
      streams: [{ stream_id: "st-ev1" }],
    });
    await pub.request({ type: "logout" });
    expect(await fan.next("room_stream_update")).toMatchObject({
      update_type: 1,
      streams: [{ stream_id: "st-ev2", user_id: "e-singer" }],
    });
    expect(await fan.next("room_user_update")).toMatchObject({
      update_type: 1,
      users: [{ user_id: "e-singer" }],
    });
    expect((await adminStreams()).map((s) => s.stream_id)).not.toContain("st-ev2");
  });

  it("includes the room's users and streams in login_ok", async () => {
    const pub = await login("snap", "n-singer");
    await pub.request({ type: "publish", stream_id: "st-snap" });
    const fresh = await MediaTestClient.open(sim.url);
    open.push(fresh);
    const r = await fresh.request({
      type: "login",
      room_id: "snap",
      user_id: "n-fan",
      app_id: DEV_APP.app_id,
      app_sign: DEV_APP.app_sign,
    });
    expect(r).toMatchObject({
      type: "login_ok",
      users: [{ user_id: "n-singer" }],
      streams: [{ stream_id: "st-snap", user_id: "n-singer" }],
    });
  });

  it("refuses publishing with a token that denies publish privilege (1002082) and bad stream ids (1000017)", async () => {
    const now = Math.floor(sim.ctx.clock.now() / 1000);
    const token = mintToken04({
      appId: DEV_APP.app_id,
      userId: "listener",
      secret: DEV_APP.token_secret,
      effectiveSeconds: 600,
      payload: privilegePayload("priv", true, false),
      now,
    });
    const c = await login("priv", "listener", { token, app_sign: undefined, app_id: undefined });
    expect(await c.request({ type: "publish", stream_id: "st-priv" })).toMatchObject({
      type: "error",
      op: "publish",
      code: 1002082,
    });
    expect((await c.request({ type: "play", stream_id: "st-priv" })).type).toBe("play_ok");
    expect(await c.request({ type: "play", stream_id: "bad id" })).toMatchObject({
      type: "error",
      code: 1000017,
    });
    expect(await c.request({ type: "publish", stream_id: "x".repeat(257) })).toMatchObject({
      type: "error",
      code: 1000017,
    });
  });
});

describe("bad frames", () => {
  it("answers malformed and unauthorised frames with errors, counts them, and keeps serving", async () => {
    const stranger = await MediaTestClient.open(sim.url);
    open.push(stranger);
    stranger.sendFrame(pcmFrame("st-x", 0));
    expect(await stranger.next("error")).toMatchObject({ op: "frame", code: 1000002 });

    const c = await login("bad", "b-user");
    await c.request({ type: "publish", stream_id: "st-bad" });
    const good = pcmFrame("st-bad", 0);
    const corrupt = [Buffer.alloc(5), Buffer.concat([good, Buffer.from([1])]), Buffer.from(good)];
    corrupt[2]![0] = 0; // bad magic
    for (const f of corrupt) c.sendFrame(f);
    for (let i = 0; i < corrupt.length; i++) {
      expect(await c.next("error")).toMatchObject({ op: "frame", code: 1000017 });
    }
    expect((await c.request({ type: "ping" })).type).toBe("pong");
    const metrics = (await call(sim.url, "GET", "/metrics")).body as string;
    expect(metrics).toMatch(/ktv_media_frames_dropped_total\{reason="malformed"\} 3\n/);
    expect(metrics).toMatch(/ktv_media_frames_dropped_total\{reason="not_logged_in"\} 1\n/);
  });
});

describe("backpressure", () => {
  it("drops frames for a player that does not read, never for one that does", async () => {
    const pub = await login("bp", "bp-singer");
    const slow = await login("bp", "bp-slow");
    const fast = await login("bp", "bp-fast");
    await pub.request({ type: "publish", stream_id: "st-bp" });
    await slow.request({ type: "play", stream_id: "st-bp" });
    await fast.request({ type: "play", stream_id: "st-bp" });
    slow.ws.pause();
    // Enough frames to fill the loopback socket buffers (a few MB) and then the 256 KiB player limit.
    let seq = 0;
    let drops = 0;
    for (let round = 0; round < 40 && drops === 0; round++) {
      const batch = Array.from({ length: 250 }, () => seq++);
      await sendAndAwait(pub, fast, "st-bp", batch);
      fast.frames.length = 0;
      drops = (await statsOf(pub, "st-bp")).backpressure_drops;
    }
    const st = await statsOf(pub, "st-bp");
    expect(st.backpressure_drops).toBeGreaterThan(0);
    // Every frame reached the fast player: relayed = all frames to fast + what slow could take.
    expect(st.relayed_frames + st.backpressure_drops).toBe(2 * st.frames);
    expect(st.relayed_frames - st.frames).toBeLessThan(st.frames);
    const metrics = (await call(sim.url, "GET", "/metrics")).body as string;
    expect(metrics).toMatch(/ktv_media_frames_dropped_total\{reason="backpressure"\} [1-9]/);
    slow.ws.resume();
  });
});

describe("admin and metrics", () => {
  it("lists live streams with their counters and exposes media gauges", async () => {
    const pub = await login("adm", "a-singer");
    const fan = await login("adm", "a-fan");
    await pub.request({ type: "publish", stream_id: "st-adm" });
    await fan.request({ type: "play", stream_id: "st-adm" });
    await sendAndAwait(pub, fan, "st-adm", [0, 2]);
    const s = (await adminStreams()).find((x) => x.stream_id === "st-adm");
    expect(s).toMatchObject({
      app_id: DEV_APP.app_id,
      room_id: "adm",
      publisher: "a-singer",
      players: 1,
      frames: 2,
      lost: 1,
      gaps: 1,
    });
    const other = await call(sim.url, "GET", "/admin/media/streams?app_id=42");
    expect(other.body.data.streams).toEqual([]);
    expect((await call(sim.url, "GET", "/admin/media/streams?app_id=x")).status).toBe(400);
    const metrics = (await call(sim.url, "GET", "/metrics")).body as string;
    for (const name of [
      "ktv_media_connections",
      "ktv_media_streams_active",
      "ktv_media_players",
      "ktv_media_frames_relayed_total",
      "ktv_media_bytes_relayed_total",
    ]) {
      expect(metrics).toMatch(new RegExp(`^${name} [1-9]`, "m"));
    }
    expect(metrics).toMatch(/^ktv_media_relay_latency_seconds_count [1-9]/m);
  });

  it("/metrics exposes exactly what was received and relayed (counted per frame, read at scrape)", async () => {
    const scrape = async () => {
      const text = (await call(sim.url, "GET", "/metrics")).body as string;
      const read = (series: string) => {
        const line = text.split("\n").find((l) => l.startsWith(`${series} `));
        if (!line) throw new Error(`no ${series} in /metrics`);
        return Number(line.slice(series.length + 1));
      };
      return {
        received: read("ktv_media_frames_received_total"),
        bytesReceived: read("ktv_media_bytes_received_total"),
        relayed: read("ktv_media_frames_relayed_total"),
        bytesRelayed: read("ktv_media_bytes_relayed_total"),
        missing: read("ktv_media_frames_missing_total"),
        latCount: read("ktv_media_relay_latency_seconds_count"),
        latInf: read('ktv_media_relay_latency_seconds_bucket{le="+Inf"}'),
        latSum: read("ktv_media_relay_latency_seconds_sum"),
        latBuckets: [...text.matchAll(/^ktv_media_relay_latency_seconds_bucket\{le="[^"]+"\} (\S+)$/gm)].map(
          (m) => Number(m[1]),
        ),
      };
    };
    const pub = await login("mx", "mx-singer");
    const fans = [await login("mx", "mx-fan1"), await login("mx", "mx-fan2")];
    await pub.request({ type: "publish", stream_id: "st-mx" });
    for (const f of fans) await f.request({ type: "play", stream_id: "st-mx" });
    const before = await scrape();
    // 0..99 with 40 and 41 left out: 98 frames, 2 missing.
    const seqs = Array.from({ length: 100 }, (_, i) => i).filter((s) => s !== 40 && s !== 41);
    for (const s of seqs) pub.sendFrame(pcmFrame("st-mx", s));
    let gotFrames = 0;
    let gotBytes = 0;
    for (const f of fans) {
      for (let i = 0; i < seqs.length; i++) {
        const frame = await f.nextFrame();
        gotFrames++;
        gotBytes += frame.length;
      }
    }
    const after = await scrape();
    const st = await statsOf(pub, "st-mx");
    expect(st).toMatchObject({ frames: seqs.length, relayed_frames: 2 * seqs.length, lost: 2 });
    expect(after.received - before.received).toBe(seqs.length);
    expect(after.bytesReceived - before.bytesReceived).toBe(seqs.length * PCM_FRAME_BYTES);
    expect(after.relayed - before.relayed).toBe(gotFrames);
    expect(after.bytesRelayed - before.bytesRelayed).toBe(gotBytes);
    expect(after.missing - before.missing).toBe(2);
    expect(after.latCount - before.latCount).toBe(seqs.length);
    expect(after.latInf - before.latInf).toBe(seqs.length);
    // Cumulative buckets that only grow, each by at most the frames sent; a sum of non-negative latencies.
    expect(after.latBuckets).toHaveLength(13);
    for (let i = 0; i < after.latBuckets.length; i++) {
      const grew = after.latBuckets[i]! - before.latBuckets[i]!;
      expect(grew).toBeGreaterThanOrEqual(0);
      expect(grew).toBeLessThanOrEqual(seqs.length);
      if (i > 0) expect(after.latBuckets[i]!).toBeGreaterThanOrEqual(after.latBuckets[i - 1]!);
    }
    expect(after.latSum).toBeGreaterThanOrEqual(before.latSum);
  });
});
