import { describe, expect, it } from "vitest";
import { type FakeSocket, fakeHub } from "./fake-hub.ts";
import type { MediaOptions } from "./options.ts";
import type { Peer } from "./peer.ts";
import { newSweepState, sweepOnce } from "./sweep.ts";

// The sweep's periodic jobs on a virtual real-time clock (sweepOnce is called with the time): stream_stats
// pushes and keepalive pings keep their period per stream and per socket, and are spread over it instead of
// all landing in one sweep (one sweep doing all of them blocked the relay for tens of ms: see sweep.ts).

const TICK = 250;

/** `rooms` rooms of one publisher and one player, all arriving at once (as a load generator's do). */
function roomsHub(rooms: number, media: Partial<MediaOptions>) {
  const { hub, join: login } = fakeHub({ sweepIntervalMs: TICK, ...media });
  const peers: { peer: Peer; ws: FakeSocket }[] = [];
  const join = (room: string, user: string) => {
    const p = login(user, room);
    peers.push(p);
    return p;
  };
  const publishers: FakeSocket[] = [];
  for (let r = 0; r < rooms; r++) {
    const pub = join(`room-${r}`, `singer-${r}`);
    hub.publish(pub.peer, `stream-${r}`);
    hub.play(join(`room-${r}`, `fan-${r}`).peer, `stream-${r}`);
    publishers.push(pub.ws);
  }
  for (const p of peers) p.ws.sent.length = 0;
  return { hub, peers, publishers, login };
}

const statsPushes = (ws: FakeSocket) =>
  ws.sent.filter((t) => typeof t === "string" && (JSON.parse(t) as { type: string }).type === "stream_stats")
    .length;

describe("media sweep", () => {
  it("pushes stream_stats to each stream once per statsIntervalMs, spread over the period", () => {
    const rooms = 60;
    const statsIntervalMs = 3000;
    const { hub, publishers } = roomsHub(rooms, { statsIntervalMs, pingIntervalMs: 3_600_000 });
    const st = newSweepState();
    const pushedAt: number[][] = publishers.map(() => []);
    const perSweep: number[] = [];
    // 37 sweeps from 250 ms: each stream's first push lands in [250, 3250), so exactly three fit by 9,250.
    for (let k = 1; k <= 37; k++) {
      const before = publishers.map(statsPushes);
      sweepOnce(hub, hub.deps.clock, k * TICK, st);
      let n = 0;
      publishers.forEach((ws, i) => {
        if (statsPushes(ws) > before[i]!) {
          pushedAt[i]!.push(k * TICK);
          n++;
        }
      });
      perSweep.push(n);
    }
    for (const times of pushedAt) {
      expect(times).toHaveLength(3);
      expect(times[1]! - times[0]!).toBe(statsIntervalMs);
      expect(times[2]! - times[1]!).toBe(statsIntervalMs);
    }
    // An even share is 60 / 12 = 5 a sweep; all 60 in one sweep is what this replaced.
    expect(Math.max(...perSweep)).toBeLessThanOrEqual(8);
    // The players get the same pushes as the publisher.
    expect(publishers.reduce((n, ws) => n + statsPushes(ws), 0)).toBe(3 * rooms);
  });

  it("pings each socket once per pingIntervalMs, spread over the period, and cuts one that missed its pong", () => {
    const pingIntervalMs = 2000;
    const { hub, peers } = roomsHub(40, { statsIntervalMs: 0, pingIntervalMs });
    const silent = peers[7]!;
    const st = newSweepState();
    const perSweep: number[] = [];
    let cutAt = -1;
    // 25 sweeps from 250 ms: each socket's first ping lands in [250, 2250), its third by 6,250.
    for (let k = 1; k <= 25; k++) {
      const before = peers.reduce((n, p) => n + p.ws.pings, 0);
      sweepOnce(hub, hub.deps.clock, k * TICK, st);
      perSweep.push(peers.reduce((n, p) => n + p.ws.pings, 0) - before);
      for (const p of peers) if (p !== silent) p.peer.awaitingPong = false; // their pongs came back
      if (cutAt < 0 && silent.ws.readyState === 3) cutAt = k * TICK;
    }
    for (const p of peers) if (p !== silent) expect(p.ws.pings).toBe(3);
    // The silent socket got one ping, and was cut at its next turn, one period later, not before.
    expect(silent.ws.pings).toBe(1);
    expect(silent.peer.gone).toBe(true);
    expect(hub.peers.has(silent.peer)).toBe(false);
    expect(cutAt).toBeGreaterThan(pingIntervalMs);
    // 80 sockets over 8 sweeps: an even share is 10 a sweep; all 80 in one sweep is what this replaced.
    expect(Math.max(...perSweep)).toBeLessThanOrEqual(14);
  });

  it("gives a stream that appears later its first push within one period", () => {
    const statsIntervalMs = 1000;
    const { hub, publishers, login } = roomsHub(3, { statsIntervalMs, pingIntervalMs: 3_600_000 });
    const st = newSweepState();
    for (let k = 1; k <= 8; k++) sweepOnce(hub, hub.deps.clock, k * TICK, st);
    const { peer, ws: late } = login("late-singer", "late");
    hub.publish(peer, "late-stream");
    late.sent.length = 0;
    let first = -1;
    for (let k = 9; k <= 20 && first < 0; k++) {
      sweepOnce(hub, hub.deps.clock, k * TICK, st);
      if (statsPushes(late) > 0) first = k * TICK;
    }
    expect(first).toBeGreaterThan(8 * TICK);
    expect(first).toBeLessThanOrEqual(9 * TICK + statsIntervalMs);
    expect(publishers.every((ws) => statsPushes(ws) >= 1)).toBe(true);
  });
});
