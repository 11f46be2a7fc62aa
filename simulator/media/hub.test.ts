import { describe, expect, it } from "vitest";
import { decodeFrameHeader, streamHash } from "../../protocol/media.ts";
import { VendorError } from "../errors.ts";
import { DEV_APP } from "../options.ts";
import { type FakeSocket, fakeHub } from "./fake-hub.ts";
import { onFrame } from "./frames.ts";
import type { MediaHub } from "./hub.ts";
import type { Peer } from "./peer.ts";
import type { MediaShaper, RelayContext } from "./relay.ts";
import { pcmFrame } from "./test-client.ts";
import { binaryFrame } from "./wire-frame.ts";

// The hub without sockets (fake-hub.ts): the relay seam, backpressure and per-socket limits checked exactly.

function makeHub(shaper?: MediaShaper, media = {}) {
  return fakeHub({ playerBufferLimitBytes: 1000, ...media }, shaper);
}

const binary = (ws: FakeSocket) => ws.sent.filter((d): d is Buffer => Buffer.isBuffer(d));
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    if (e instanceof VendorError) return e.code;
    throw e;
  }
  return 0;
};

/**
 * Gives each player's fake ws what directSocket reads of a ws WebSocket (ws 8: _socket, _sender._queue/_state): a
 * recording socket that, like the kernel taking a whole write, copies the bytes (`given` keeps what write() was
 * handed).
 */
function recordingSockets(players: { ws: FakeSocket }[]) {
  return players.map((p) => {
    const socket = { destroyed: false, writableLength: 0, written: [] as Buffer[], given: [] as Buffer[] };
    const write = (b: Buffer) => {
      socket.given.push(b);
      socket.written.push(Buffer.from(b));
    };
    Object.assign(p.ws, { _socket: Object.assign(socket, { write }), _sender: { _queue: [], _state: 0 } });
    return socket;
  });
}

function publishAndPlay(hub: MediaHub, pub: Peer, players: Peer[], id = "st") {
  hub.publish(pub, id);
  for (const p of players) hub.play(p, id);
}

describe("relay seam", () => {
  it("passes each frame through the shaper with its context, and delivers what the shaper delivers", () => {
    const seen: RelayContext[] = [];
    const duplicate: MediaShaper = {
      shape(frame, ctx, deliver) {
        seen.push({ ...ctx }); // the context is the relay's scratch object: valid during the call only
        if (ctx.seq % 2 === 1) return; // odd frames dropped
        deliver(frame);
        deliver(frame);
      },
    };
    const { hub, join } = makeHub(duplicate);
    const pub = join("singer");
    const fan = join("fan");
    publishAndPlay(hub, pub.peer, [fan.peer]);
    for (let s = 0; s < 4; s++) onFrame(hub, pub.peer, pcmFrame("st", s));
    expect(seen.map((c) => [c.seq, c.stream_id, c.user_id, c.room_id, c.app_id])).toEqual([
      [0, "st", "singer", "r", DEV_APP.app_id],
      [1, "st", "singer", "r", DEV_APP.app_id],
      [2, "st", "singer", "r", DEV_APP.app_id],
      [3, "st", "singer", "r", DEV_APP.app_id],
    ]);
    expect(seen[0]!.received_us).toBeGreaterThanOrEqual(seen[0]!.capture_us);
    expect(binary(fan.ws).map((f) => decodeFrameHeader(f).seq)).toEqual([0, 0, 2, 2]);
  });

  it("a deferred delivery reaches whoever plays the stream when it is delivered", () => {
    const held: (() => void)[] = [];
    const { hub, join } = makeHub({ shape: (frame, _ctx, deliver) => held.push(() => deliver(frame)) });
    const pub = join("singer");
    const early = join("early");
    const late = join("late");
    publishAndPlay(hub, pub.peer, [early.peer]);
    onFrame(hub, pub.peer, pcmFrame("st", 0));
    hub.stopPlay(early.peer, "st");
    hub.play(late.peer, "st");
    for (const release of held) release();
    expect(binary(early.ws)).toEqual([]);
    expect(binary(late.ws)).toHaveLength(1);
  });
});

describe("backpressure", () => {
  it("skips exactly the frames for a player whose buffer is over the limit", () => {
    const { hub, join } = makeHub();
    const pub = join("singer");
    const slow = join("slow");
    const fast = join("fast");
    publishAndPlay(hub, pub.peer, [slow.peer, fast.peer]);
    onFrame(hub, pub.peer, pcmFrame("st", 0));
    slow.ws.bufferedAmount = 1001;
    onFrame(hub, pub.peer, pcmFrame("st", 1));
    onFrame(hub, pub.peer, pcmFrame("st", 2));
    slow.ws.bufferedAmount = 1000;
    onFrame(hub, pub.peer, pcmFrame("st", 3));
    expect(binary(slow.ws).map((f) => decodeFrameHeader(f).seq)).toEqual([0, 3]);
    expect(binary(fast.ws)).toHaveLength(4);
    const st = hub.statsFor(pub.peer, "st");
    expect(st).toMatchObject({ frames: 4, relayed_frames: 6, backpressure_drops: 2 });
    expect(hub.deps.metrics.counters.droppedBackpressure).toBe(2);
  });

  it("on a ws socket: one framed Buffer to every player, the limit read from the socket, ws.send while ws queues", () => {
    const { hub, join } = makeHub();
    const pub = join("singer");
    const players = ["a", "b", "c"].map((u) => join(u));
    publishAndPlay(
      hub,
      pub.peer,
      players.map((p) => p.peer),
    );
    const sockets = recordingSockets(players);
    const f0 = pcmFrame("st", 0);
    onFrame(hub, pub.peer, f0);
    const first = sockets[0]!.written[0]!;
    // The payload, framed once as ws frames an unmasked binary message, the same object for all three.
    expect(first.equals(binaryFrame(f0))).toBe(true);
    for (const s of sockets) expect(s.written).toEqual([first]);
    for (const s of sockets) expect(s.given[0]).toBe(sockets[0]!.given[0]);
    // Over the limit by the socket's own buffer: skipped and counted; ws's getter is not what decides.
    sockets[1]!.writableLength = 1001;
    players[1]!.ws.bufferedAmount = 0;
    onFrame(hub, pub.peer, pcmFrame("st", 1));
    expect(sockets.map((s) => s.written.length)).toEqual([2, 1, 2]);
    sockets[1]!.writableLength = 1000;
    // ws has a message of its own queued: the frame goes through ws.send, behind it, under ws's bufferedAmount.
    Object.assign(players[2]!.ws, { _sender: { _queue: [["queued"]], _state: 0 } });
    players[2]!.ws.bufferedAmount = 1001;
    onFrame(hub, pub.peer, pcmFrame("st", 2));
    players[2]!.ws.bufferedAmount = 0;
    onFrame(hub, pub.peer, pcmFrame("st", 3));
    expect(sockets.map((s) => s.written.map((b) => decodeFrameHeader(b.subarray(4)).seq))).toEqual([
      [0, 1, 2, 3],
      [0, 2, 3],
      [0, 1],
    ]);
    expect(binary(players[2]!.ws).map((f) => decodeFrameHeader(f).seq)).toEqual([3]);
    expect(hub.statsFor(pub.peer, "st")).toMatchObject({
      frames: 4,
      relayed_frames: 10,
      backpressure_drops: 2,
    });
    expect(hub.deps.metrics.counters).toMatchObject({ framesRelayed: 10, droppedBackpressure: 2 });
  });

  it("frames every relayed frame into the same memory while each socket takes its writes whole", () => {
    const { hub, join } = makeHub();
    const pub = join("singer");
    const players = ["a", "b"].map((u) => join(u));
    publishAndPlay(
      hub,
      pub.peer,
      players.map((p) => p.peer),
    );
    const sockets = recordingSockets(players);
    for (let seq = 0; seq < 3; seq++) onFrame(hub, pub.peer, pcmFrame("st", seq));
    const given = sockets[0]!.given;
    // No new off-heap buffer per frame: the same bytes of memory each time (a per-frame buffer moves them).
    expect(new Set(given.map((b) => b.buffer)).size).toBe(1);
    expect(new Set(given.map((b) => b.byteOffset)).size).toBe(1);
    for (const s of sockets)
      expect(s.written.map((b) => decodeFrameHeader(b.subarray(4)).seq)).toEqual([0, 1, 2]);
  });

  it("leaves the bytes a socket queued alone: the next frames are framed elsewhere", () => {
    const { hub, join } = makeHub();
    const pub = join("singer");
    const players = ["fast", "slow"].map((u) => join(u));
    publishAndPlay(
      hub,
      pub.peer,
      players.map((p) => p.peer),
    );
    // The slow socket queues what it is given (under the 1000-byte limit for the first frame only) and keeps the
    // very Buffer, as a socket whose kernel buffer is full does until it drains.
    const sockets = players.map((p, i) => {
      const socket = { destroyed: false, writableLength: 0, given: [] as Buffer[] };
      const write = (b: Buffer) => {
        socket.given.push(b);
        if (i === 1) socket.writableLength = 600;
      };
      Object.assign(p.ws, { _socket: Object.assign(socket, { write }), _sender: { _queue: [], _state: 0 } });
      return socket;
    });
    onFrame(hub, pub.peer, pcmFrame("st", 0));
    sockets[0]!.writableLength = 0;
    for (let seq = 1; seq < 4; seq++) onFrame(hub, pub.peer, pcmFrame("st", seq));
    const queued = sockets[1]!.given;
    expect(queued.map((b) => decodeFrameHeader(b.subarray(4)).seq)).toEqual([0, 1, 2, 3]);
    expect(sockets[0]!.given.map((b) => decodeFrameHeader(b.subarray(4)).seq)).toEqual([0, 1, 2, 3]);
  });

  it("cuts a socket whose unsent control messages pass the hard limit instead of queueing more", () => {
    const { join } = makeHub(undefined, { socketBufferHardLimitBytes: 5000 });
    const deaf = join("deaf");
    deaf.ws.bufferedAmount = 5001;
    join("newcomer");
    expect(deaf.ws.readyState).toBe(3);
    expect(deaf.ws.sent.filter((d) => typeof d === "string")).toEqual([]);
  });
});

describe("stream rules", () => {
  it("refuses a stream id whose hash collides with a live stream of the app", () => {
    expect(streamHash("c2ya8")).toBe(streamHash("czki6"));
    const { hub, join } = makeHub();
    const a = join("a");
    const b = join("b");
    hub.publish(a.peer, "c2ya8");
    expect(code(() => hub.publish(b.peer, "czki6"))).toBe(1000017);
    expect(code(() => hub.play(b.peer, "czki6"))).toBe(1000017);
    hub.stopPublish(a.peer, "c2ya8");
    expect(code(() => hub.publish(b.peer, "czki6"))).toBe(0);
  });

  it("bounds the streams one socket may hold", () => {
    const { hub, join } = makeHub(undefined, { maxStreamsPerPeer: 2 });
    const a = join("a");
    hub.publish(a.peer, "s1");
    hub.play(a.peer, "s2");
    expect(code(() => hub.play(a.peer, "s3"))).toBe(1000017);
    // Repeating a request already granted is not a new stream.
    expect(code(() => hub.play(a.peer, "s2"))).toBe(0);
    expect(code(() => hub.publish(a.peer, "s1"))).toBe(0);
  });

  it("forgets a stream once nobody publishes or plays it", () => {
    const { hub, join } = makeHub();
    const a = join("a");
    const b = join("b");
    publishAndPlay(hub, a.peer, [b.peer]);
    hub.stopPublish(a.peer, "st");
    expect([...hub.streams.all()].map((s) => s.id)).toEqual(["st"]);
    hub.stopPlay(b.peer, "st");
    expect([...hub.streams.all()]).toEqual([]);
  });
});
