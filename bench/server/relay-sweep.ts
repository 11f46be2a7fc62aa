import { loadavg } from "node:os";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { treeMediaHub } from "./tree-relay.ts";

// The media sweep's longest single run, per tree side by side: what one timer callback of the simulator's
// media sweep (simulator/media/sweep.ts: token checks, keepalive pings, stream_stats pushes) holds the event
// loop for, in CPU, while a relay of ROOMS rooms is live. Frames that arrive meanwhile wait behind it, so near
// the relay's capacity this is what a p99 lag sees (the media relay race). A real MediaHub per tree with
// LISTENERS players per room, each stream's latency histogram filled by real frames through onFrame, then the
// sweep called on a virtual real-time clock every sweepIntervalMs for PERIODS stats periods (and at least one
// ping period); players answer every ping. Sockets are stand-ins that count what they are sent (no syscall: on
// a real socket each message or ping is also one write, ~10 µs here, so the writes per sweep are printed too).
// CPU is process.cpuUsage around each call (robust to a loaded machine); medians over rounds.
//
//   npx tsx bench/server/relay-sweep.ts --tree /work/main --tree . [--rooms 160] [--listeners 4] [--rounds 5]

const { values } = parseArgs({
  options: {
    tree: { type: "string", multiple: true },
    rooms: { type: "string", default: "160" },
    listeners: { type: "string", default: "4" },
    rounds: { type: "string", default: "5" },
  },
});
const trees = (values.tree?.length ? values.tree : ["."]).map((t) => resolve(t));
const ROOMS = Number(values.rooms);
const LISTENERS = Number(values.listeners);
const ROUNDS = Number(values.rounds);

interface StandIn {
  readyState: number;
  bufferedAmount: number;
  writes: number;
  send(): void;
  ping(): void;
  close(): void;
  terminate(): void;
}

function standIn(): StandIn {
  return {
    readyState: 1,
    bufferedAmount: 0,
    writes: 0,
    send() {
      this.writes++;
    },
    ping() {
      this.writes++;
    },
    close() {},
    terminate() {},
  };
}

async function rig(tree: string) {
  const { hub, onFrame, media, clock, options, imp, join: joinOn } = await treeMediaHub(tree);
  const sweep = (await imp("simulator/media/sweep.ts")) as {
    newSweepState?(): unknown;
    sweepOnce(hub: unknown, clock: unknown, now: number, state: unknown): void;
  };
  const sockets: StandIn[] = [];
  const peers: { awaitingPong: boolean }[] = [];
  const join = (room: string, user: string) => {
    const ws = standIn();
    const peer = joinOn(ws, room, user);
    sockets.push(ws);
    peers.push(peer);
    return peer;
  };
  const out = Buffer.alloc(media.MAX_FRAME_BYTES);
  for (let r = 0; r < ROOMS; r++) {
    const id = `s${r}`;
    const pub = join(`room${r}`, `singer${r}`);
    hub.publish(pub, id);
    for (let l = 0; l < LISTENERS; l++) hub.play(join(`room${r}`, `fan${r}-${l}`), id);
    // 300 frames (3 s of 10 ms PCM) at latencies spread over 0.2-20 ms: a histogram with many slots in use.
    for (let seq = 0; seq < 300; seq++) {
      const n = media.encodeFrame(
        out,
        {
          flags: 0,
          codec: media.Codec.Opus,
          streamHash: media.streamHash(id),
          seq,
          captureUs: media.nowMicros() - 200 - ((seq * 7919 + r * 104_729) % 19_800),
          sampleRate: 48_000,
          channels: 2,
        },
        new Uint8Array(160),
      );
      onFrame(hub, pub, out.subarray(0, n));
    }
  }
  const tick = options.sweepIntervalMs as number;
  const sweeps = Math.ceil(Math.max(2 * options.statsIntervalMs, options.pingIntervalMs + tick) / tick) + 1;
  let now = 0;
  return {
    /** One schedule: CPU µs and writes of every sweep. */
    run() {
      // The tree before the spreading kept two times; after, a phase counter (newSweepState).
      const st = sweep.newSweepState?.() ?? { lastPingAt: now, lastStatsAt: now };
      const cpu: number[] = [];
      const writes: number[] = [];
      for (let k = 1; k <= sweeps; k++) {
        now += tick;
        const w0 = sockets.reduce((n, s) => n + s.writes, 0);
        const c0 = process.cpuUsage();
        sweep.sweepOnce(hub, clock, now, st);
        const c = process.cpuUsage(c0);
        cpu.push(c.user + c.system);
        writes.push(sockets.reduce((n, s) => n + s.writes, 0) - w0);
        for (const p of peers) p.awaitingPong = false; // every pong comes back
      }
      return { cpu, writes };
    },
    sweeps,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const rigs = [];
for (const t of trees) rigs.push(await rig(t));
for (const r of rigs) r.run(); // warm-up
const maxCpu: number[][] = trees.map(() => []);
const totalCpu: number[][] = trees.map(() => []);
const maxWrites: number[] = trees.map(() => 0);
for (let round = 0; round < ROUNDS; round++) {
  for (let t = 0; t < rigs.length; t++) {
    const { cpu, writes } = rigs[t]!.run();
    maxCpu[t]!.push(Math.max(...cpu));
    totalCpu[t]!.push(cpu.reduce((a, b) => a + b, 0));
    maxWrites[t] = Math.max(maxWrites[t]!, ...writes);
  }
}
for (let t = 0; t < trees.length; t++) {
  console.log(
    `${trees[t]}: longest sweep ${(median(maxCpu[t]!) / 1000).toFixed(2)} ms CPU (rounds ${maxCpu[t]!.map((x) => (x / 1000).toFixed(2)).join(", ")}), ` +
      `all ${rigs[t]!.sweeps} sweeps ${(median(totalCpu[t]!) / 1000).toFixed(1)} ms; most writes in one sweep ${maxWrites[t]} ` +
      `(${ROOMS} rooms x ${1 + LISTENERS} sockets)`,
  );
}
console.log(
  `load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}`,
);
