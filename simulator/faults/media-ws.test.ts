import { monitorEventLoopDelay } from "node:perf_hooks";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { decodeFrameHeader, nowMicros } from "../../protocol/media.ts";
import { call, testSimulator } from "../../test/sim.ts";
import type { Simulator } from "../app.ts";
import { type MediaHub, RESET_CLOSE_CODE, RESET_CLOSE_REASON } from "../media/hub.ts";
import { SequenceTracker } from "../media/sequence.ts";
import { loginClient, type MediaTestClient } from "../media/test-client.ts";
import { DEV_APP } from "../options.ts";
import type { FaultEvent } from "./events.ts";
import type { MediaFaultShaper } from "./media-shaping.ts";
import { eventually, tinyFrame } from "./test-fixtures.ts";

// Media faults seen by real WebSocket players of the real simulator: loss at its rate (and in bursts),
// jitter and relay delay in receive time minus capture time, duplicates and reordering in the player's
// sequence tracking, the same frames dropped by two simulators with the same seed, held frames let go when
// the fault goes, and POST /admin/reset closing every media socket. Frames are tiny (8 kHz mono, 1 ms) so a
// few thousand cross loopback in moments; player buffers are large so backpressure never drops any.

const SEED = 5;
const MEDIA = {
  statsIntervalMs: 0,
  frameErrorIntervalMs: 0,
  playerBufferLimitBytes: 64 * 1024 * 1024,
  socketBufferHardLimitBytes: 128 * 1024 * 1024,
};

let sim: Simulator;
const sims: Simulator[] = [];
const open: MediaTestClient[] = [];

beforeAll(async () => {
  sim = await testSimulator({ seed: SEED, media: MEDIA });
  sims.push(sim);
});
afterAll(async () => {
  await Promise.all(open.map((c) => c.close()));
  for (const c of open) expect(c.invalid).toEqual([]);
  await Promise.all(sims.map((s) => s.close()));
});
beforeEach(async () => {
  await call(sim.url, "POST", "/admin/faults/reset");
});

interface Arrival {
  seq: number;
  /** Receive time minus capture time, ms. */
  delayMs: number;
}

interface Pair {
  pub: MediaTestClient;
  player: MediaTestClient;
  streamId: string;
  arrivals: Arrival[];
  send(n: number, from?: number): void;
  /** Stops publishing and waits until the player has every frame the server sent. */
  finish(): Promise<Arrival[]>;
}

/** A publisher and a player of `streamId`, users named after it (so stream keys match across simulators). */
async function pair(streamId: string, on: Simulator = sim): Promise<Pair> {
  const room = `room-${streamId}`;
  const pub = await loginClient(on.url, room, `pub-${streamId}`);
  const player = await loginClient(on.url, room, `play-${streamId}`);
  open.push(pub, player);
  expect((await pub.request({ type: "publish", stream_id: streamId })).type).toBe("publish_ok");
  expect((await player.request({ type: "play", stream_id: streamId })).type).toBe("play_ok");
  const arrivals: Arrival[] = [];
  const header = { seq: 0, captureUs: 0 } as ReturnType<typeof decodeFrameHeader>;
  player.ws.on("message", (data, isBinary) => {
    if (!isBinary) return;
    decodeFrameHeader(data as Buffer, header);
    arrivals.push({ seq: header.seq, delayMs: (nowMicros() - header.captureUs) / 1000 });
  });
  return {
    pub,
    player,
    streamId,
    arrivals,
    send(n, from = 0) {
      for (let s = from; s < from + n; s++) pub.sendFrame(tinyFrame(streamId, s));
    },
    async finish() {
      expect((await pub.request({ type: "stop_publish", stream_id: streamId })).type).toBe("stop_publish_ok");
      expect((await player.request({ type: "ping" })).type).toBe("pong");
      return arrivals;
    },
  };
}

async function putFaults(on: Simulator, faults: unknown[]) {
  const r = await call(on.url, "PUT", "/admin/faults", { body: { faults } });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
}

async function events(on: Simulator = sim): Promise<FaultEvent[]> {
  const text = await (await fetch(`${on.url}/admin/faults/events`)).text();
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as FaultEvent);
}

const total = (evs: FaultEvent[], id: string, k: "dropped" | "duplicated" | "reordered" | "delayed") =>
  evs.filter((e) => e.fault_id === id).reduce((n, e) => n + (e.effect[k] ?? 0), 0);

async function injectedMetric(id: string): Promise<number> {
  const text = (await call(sim.url, "GET", "/metrics")).body as string;
  const m = text.match(new RegExp(`^faults_injected_total\\{fault_id="${id}",kind="media"\\} (\\d+)$`, "m"));
  return m ? Number(m[1]) : 0;
}

function track(arrivals: Arrival[]): SequenceTracker {
  const t = new SequenceTracker();
  for (const a of arrivals) t.push(a.seq);
  return t;
}

function missing(arrivals: Arrival[], n: number): number[] {
  const got = new Set(arrivals.map((a) => a.seq));
  return Array.from({ length: n }, (_, i) => i).filter((s) => !got.has(s));
}

/** Lengths of the runs of consecutive missing numbers. */
function runLengths(miss: number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < miss.length; i++) {
    if (i > 0 && miss[i] === miss[i - 1]! + 1) out[out.length - 1]!++;
    else out.push(1);
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))]!;

describe("media faults at a real player", () => {
  it("loss: the player misses frames at the configured rate, and the log and metrics count each one", async () => {
    await putFaults(sim, [{ id: "loss", kind: "media", loss: 0.1, selector: { stream_ids: ["st-loss"] } }]);
    const lossy = await pair("st-loss");
    const clean = await pair("st-clean");
    const N = 3000;
    lossy.send(N);
    clean.send(N);
    const got = await lossy.finish();
    expect((await clean.finish()).map((a) => a.seq)).toEqual(Array.from({ length: N }, (_, i) => i));
    const miss = missing(got, N);
    expect(Math.abs(miss.length - N * 0.1)).toBeLessThan(4 * Math.sqrt(N * 0.1 * 0.9));
    expect(got).toHaveLength(N - miss.length);
    expect(track(got).lost).toBe(miss.length);
    const evs = await events();
    expect(total(evs, "loss", "dropped")).toBe(miss.length);
    expect(evs.every((e) => e.request_key.endsWith("|WS /v1/media|st-loss#1"))).toBe(true);
    expect(await injectedMetric("loss")).toBe(miss.length);
  });

  it("burst_loss: runs of missing frames far longer than random loss at the same average", async () => {
    await putFaults(sim, [
      {
        id: "burst",
        kind: "media",
        burst_loss: { p_good_to_bad: 0.02, p_bad_to_good: 0.2 },
        selector: { stream_ids: ["st-burst"] },
      },
      { id: "random", kind: "media", loss: 0.02 / 0.22, selector: { stream_ids: ["st-random"] } },
    ]);
    const bursty = await pair("st-burst");
    const random = await pair("st-random");
    const N = 5000;
    bursty.send(N);
    random.send(N);
    const b = missing(await bursty.finish(), N);
    const r = missing(await random.finish(), N);
    expect(b.length / N).toBeGreaterThan(0.05);
    expect(b.length / N).toBeLessThan(0.14);
    expect(Math.abs(r.length - N * 0.0909)).toBeLessThan(4 * Math.sqrt(N * 0.0909 * 0.9091));
    expect(mean(runLengths(b))).toBeGreaterThan(3.5);
    expect(mean(runLengths(r))).toBeLessThan(1.3);
  });

  it("jitter: receive minus capture time spreads like the distribution, on top of the path's own delay", async () => {
    await putFaults(sim, [
      {
        id: "jitter",
        kind: "media",
        jitter: { type: "uniform", min: 20, max: 80 },
        selector: { stream_ids: ["st-jitter"] },
      },
    ]);
    const p = await pair("st-jitter");
    // A stream without the fault, interleaved frame by frame, measures the path's own delay under whatever
    // load the machine has; the loop's worst stall bounds how late a jitter timer can fire. The upper bounds
    // add both, so a busy machine loosens them by what it really cost and an idle one keeps them tight
    // (a doubled delay, q50 ~100 ms, still fails there).
    const control = await pair("st-jitter-control");
    const stalls = monitorEventLoopDelay({ resolution: 5 });
    stalls.enable();
    for (let s = 0; s < 400; s++) {
      p.send(1, s);
      control.send(1, s);
    }
    // Let every timer fire on its own before the stream ends (ending it would release what is still held).
    await eventually(() => p.arrivals.length === 400 && control.arrivals.length === 400, 3000);
    stalls.disable();
    const d = (await p.finish()).map((a) => a.delayMs);
    const path = (await control.finish()).map((a) => a.delayMs);
    const worstStallMs = stalls.max / 1e6;
    expect(d).toHaveLength(400);
    // The server adds at least 20 ms to every frame; the rest (loopback, load) only adds more.
    expect(Math.min(...d)).toBeGreaterThanOrEqual(19);
    for (const [q, want] of [
      [0.1, 26],
      [0.5, 50],
      [0.9, 74],
    ] as const) {
      expect(quantile(d, q)).toBeGreaterThanOrEqual(want - 4);
      expect(quantile(d, q)).toBeLessThanOrEqual(want + quantile(path, q) + worstStallMs + 15);
    }
    expect(quantile(d, 0.9) - quantile(d, 0.1)).toBeGreaterThan(30);
    const evs = (await events()).filter((e) => e.fault_id === "jitter");
    expect(total(evs, "jitter", "delayed")).toBe(400);
    expect(Math.max(...evs.map((e) => e.effect.delay_ms_max!))).toBeLessThanOrEqual(80);
  });

  it("delay: every frame waits the relay delay, in order", async () => {
    await putFaults(sim, [
      { id: "far", kind: "media", delay: { type: "fixed", ms: 120 }, selector: { stream_ids: ["st-far"] } },
    ]);
    const p = await pair("st-far");
    p.send(100);
    await eventually(() => p.arrivals.length === 100, 3000);
    const got = await p.finish();
    expect(got.map((a) => a.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(Math.min(...got.map((a) => a.delayMs))).toBeGreaterThanOrEqual(119);
    expect(
      quantile(
        got.map((a) => a.delayMs),
        0.5,
      ),
    ).toBeLessThan(120 + 60);
  });

  it("duplicate and reorder: the player's sequence tracking counts exactly what the server did", async () => {
    await putFaults(sim, [
      {
        id: "mess",
        kind: "media",
        duplicate: 0.05,
        reorder: { probability: 0.1, max_displacement: 3 },
        selector: { stream_ids: ["st-mess"] },
      },
    ]);
    const p = await pair("st-mess");
    const N = 3000;
    p.send(N);
    const got = await p.finish();
    const evs = await events();
    const t = track(got);
    // The player's own tally: a number seen before is a duplicate; one below the highest so far came late.
    const seen = new Set<number>();
    let dups = 0;
    let late = 0;
    let highest = -1;
    for (const { seq } of got) {
      if (seen.has(seq)) dups++;
      else if (seq < highest) late++;
      seen.add(seq);
      highest = Math.max(highest, seq);
    }
    expect(seen.size).toBe(N);
    expect(t.lost).toBe(0);
    expect(dups).toBe(total(evs, "mess", "duplicated"));
    expect(t.duplicates).toBe(dups);
    expect(Math.abs(dups - N * 0.05)).toBeLessThan(4 * Math.sqrt(N * 0.05 * 0.95));
    expect(t.reordered).toBe(late);
    // Every held frame comes late, but one held at the very end, with no later frame left to pass it.
    const held = total(evs, "mess", "reordered");
    expect(late).toBeLessThanOrEqual(held);
    expect(late).toBeGreaterThanOrEqual(held - 3);
    expect(Math.abs(held - N * 0.1)).toBeLessThan(4 * Math.sqrt(N * 0.1 * 0.9));
    // No frame is passed by more than max_displacement later ones.
    const seqs = got.map((a) => a.seq);
    for (const [i, s] of seqs.entries()) {
      if (seqs.indexOf(s) !== i) continue;
      expect(new Set(seqs.slice(0, i).filter((x) => x > s)).size).toBeLessThanOrEqual(3);
    }
    // The server's own tracking saw the publisher's frames clean and in order; it relayed what the player got.
    expect(await p.player.request({ type: "get_stream_stats", stream_id: "st-mess" })).toMatchObject({
      frames: N,
      lost: 0,
      duplicates: 0,
      reordered: 0,
      relayed_frames: got.length,
    });
  });
});

describe("media fault determinism", () => {
  it("two simulators, same seed and profile, same frames in another interleaving: the same fates", async () => {
    const profile = [
      { id: "lossy", kind: "media", loss: 0.1, burst_loss: { p_good_to_bad: 0.02, p_bad_to_good: 0.25 } },
      { id: "messy", kind: "media", duplicate: 0.05, reorder: { probability: 0.05, max_displacement: 2 } },
    ];
    const twin = await testSimulator({ seed: SEED, media: MEDIA });
    const other = await testSimulator({ seed: SEED + 1, media: MEDIA });
    sims.push(twin, other);
    const N = 1500;
    /** Per stream: missing, duplicated and late frame numbers. */
    const fatesOf = (arrivals: Arrival[]) => {
      const seen = new Set<number>();
      const dup: number[] = [];
      const late: number[] = [];
      let highest = -1;
      for (const { seq } of arrivals) {
        if (seen.has(seq)) dup.push(seq);
        else if (seq < highest) late.push(seq);
        seen.add(seq);
        highest = Math.max(highest, seq);
      }
      return { missing: missing(arrivals, N), dup, late };
    };
    const run = async (on: Simulator, interleave: boolean) => {
      await putFaults(on, profile);
      const first = await pair(interleave ? "det-y" : "det-x", on);
      const second = await pair(interleave ? "det-x" : "det-y", on);
      const [x, y] = interleave ? [second, first] : [first, second];
      if (interleave) {
        for (let s = 0; s < N; s += 10) {
          y.send(10, s);
          x.send(10, s);
        }
      } else {
        x.send(N);
        y.send(N);
      }
      return { x: fatesOf(await x.finish()), y: fatesOf(await y.finish()) };
    };
    const a = await run(sim, false);
    const b = await run(twin, true);
    expect(b).toEqual(a);
    expect(a.x.missing.length).toBeGreaterThan(100);
    expect(a.x).not.toEqual(a.y);
    const c = await run(other, false);
    expect(c.x.missing).not.toEqual(a.x.missing);
  });
});

describe("releasing held frames", () => {
  const hub = () => sim.ctx.media as MediaHub;
  const pending = (streamId: string) => {
    const s = hub().streams.get(DEV_APP.app_id, streamId);
    return s ? (hub().shaper as MediaFaultShaper).pending(s) : 0;
  };
  const slow = (streamId: string) => ({
    id: `slow-${streamId}`,
    kind: "media",
    delay: { type: "fixed", ms: 8000 },
    selector: { stream_ids: [streamId] },
  });

  it("removing the fault sends every held frame at once, in order", async () => {
    await putFaults(sim, [slow("st-rm")]);
    const p = await pair("st-rm");
    p.send(30);
    expect(await eventually(() => pending("st-rm") === 30, 2000)).toBe(true);
    expect(p.arrivals).toEqual([]);
    const t0 = performance.now();
    await putFaults(sim, []);
    expect(await eventually(() => p.arrivals.length === 30, 2000)).toBe(true);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(p.arrivals.map((a) => a.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(pending("st-rm")).toBe(0);
    await p.finish();
  });

  it("disabling the fault, or the publisher's socket closing, lets go too", async () => {
    await putFaults(sim, [slow("st-off"), slow("st-gone")]);
    const off = await pair("st-off");
    const gone = await pair("st-gone");
    off.send(10);
    gone.send(10);
    expect(await eventually(() => pending("st-off") === 10 && pending("st-gone") === 10, 2000)).toBe(true);
    expect(
      (await call(sim.url, "PATCH", "/admin/faults/slow-st-off", { body: { enabled: false } })).status,
    ).toBe(200);
    expect(await eventually(() => off.arrivals.length === 10, 2000)).toBe(true);
    expect(gone.arrivals).toEqual([]);
    await gone.pub.close();
    expect(await eventually(() => gone.arrivals.length === 10, 2000)).toBe(true);
    expect(pending("st-gone")).toBe(0);
    await off.finish();
  });
});

describe("POST /admin/reset", () => {
  const hub = () => sim.ctx.media as MediaHub;
  const stream = () => hub().streams.get(DEV_APP.app_id, "st-reset");

  it("closes every media socket with 1012 and a reason, and forgets their rooms and streams", async () => {
    await putFaults(sim, [
      {
        id: "slow",
        kind: "media",
        delay: { type: "fixed", ms: 8000 },
        selector: { stream_ids: ["st-reset"] },
      },
    ]);
    const p = await pair("st-reset");
    p.send(5);
    expect(await eventually(() => (hub().shaper as MediaFaultShaper).pending(stream()!) === 5, 2000)).toBe(
      true,
    );
    const r = await call(sim.url, "POST", "/admin/reset");
    expect(r.body).toMatchObject({ code: 0, data: { reset: true } });
    for (const c of [p.pub, p.player]) {
      const closed = await Promise.race([c.closed, sleep(3000).then(() => "still open")]);
      expect(closed).toEqual({ code: RESET_CLOSE_CODE, reason: RESET_CLOSE_REASON });
    }
    // The publisher's held frames went out to the player before its socket closed.
    expect(p.arrivals.map((a) => a.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(sim.ctx.rooms.members(DEV_APP.app_id, "room-st-reset")).toEqual([]);
    expect(stream()).toBeUndefined();
    const streams = (await call(sim.url, "GET", "/admin/media/streams")).body.data;
    expect(streams).toMatchObject({ connections: 0, rooms: 0, streams: [] });
    const again = await loginClient(sim.url, "room-st-reset", "after-reset");
    open.push(again);
    expect((await again.request({ type: "publish", stream_id: "st-reset" })).type).toBe("publish_ok");
  });
});
