import { loadavg } from "node:os";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { treeMediaHub } from "./tree-relay.ts";

// The relay's own JavaScript per packet, without the kernel: a real MediaHub with the real fault shaper (an
// engine with no faults, as in a load run), real frames through frames.ts onFrame, players whose WebSockets
// have a stand-in socket that takes the bytes and does nothing (no syscall, no Node write stack). What is left is
// what the simulator does per packet around the writes: decode, sequence and latency accounting, shaping,
// fan-out, framing. Trees are imported side by side (a before/after in one process) and measured in interleaved
// rounds; CPU (process.cpuUsage) per received packet, medians.
//
//   npx tsx bench/server/relay-path.ts --tree /work/main --tree . [--listeners 3] [--packets 200000] [--rounds 7]

const { values } = parseArgs({
  options: {
    tree: { type: "string", multiple: true },
    listeners: { type: "string", default: "3" },
    rooms: { type: "string", default: "50" },
    packets: { type: "string", default: "200000" },
    rounds: { type: "string", default: "7" },
  },
});
const trees = (values.tree?.length ? values.tree : ["."]).map((t) => resolve(t));
const LISTENERS = Number(values.listeners);
const ROOMS = Number(values.rooms);
const PACKETS = Number(values.packets);
const ROUNDS = Number(values.rounds);

/** What directSocket and the relay read of a ws WebSocket, with a socket that swallows the bytes. */
function standIn() {
  const socket = {
    destroyed: false,
    writableLength: 0,
    _writableState: { length: 0 },
    bytes: 0,
    write(b: Buffer) {
      this.bytes += b.length;
      return true;
    },
  };
  return {
    readyState: 1,
    _socket: socket,
    _sender: { _queue: [] as unknown[], _state: 0, _bufferedBytes: 0 },
    get bufferedAmount() {
      return socket._writableState.length;
    },
    sent: 0,
    send() {
      this.sent++;
    },
    close() {},
    terminate() {},
    ping() {},
  };
}

async function rig(tree: string) {
  const { hub, onFrame, media, join: joinOn } = await treeMediaHub(tree, { faultShaper: true });
  const join = (room: string, user: string) => joinOn(standIn(), room, user);
  const pubs: unknown[] = [];
  const frames: Buffer[] = [];
  for (let r = 0; r < ROOMS; r++) {
    const id = `s${r}`;
    const pub = join(`room${r}`, `singer${r}`);
    hub.publish(pub, id);
    for (let l = 0; l < LISTENERS; l++) hub.play(join(`room${r}`, `fan${r}-${l}`), id);
    pubs.push(pub);
    // One 160-byte Opus packet per room, its sequence number rewritten per send (the relay sees it in order).
    const out = Buffer.alloc(media.MAX_FRAME_BYTES);
    const n = media.encodeFrame(
      out,
      {
        flags: 0,
        codec: media.Codec.Opus,
        streamHash: media.streamHash(id),
        seq: 0,
        captureUs: media.nowMicros(),
        sampleRate: 48_000,
        channels: 2,
      },
      new Uint8Array(160),
    );
    frames.push(out.subarray(0, n));
  }
  let seq = 0;
  return {
    run(packets: number) {
      for (let i = 0; i < packets; i++) {
        const r = i % ROOMS;
        const f = frames[r]!;
        if (r === 0) seq++;
        f.writeUInt32LE(seq >>> 0, 8);
        // A packet as ws hands it over: a fresh view of the received bytes.
        onFrame(hub, pubs[r], f.subarray(0));
      }
    },
    relayed: () => hub.deps.metrics.counters.framesRelayed as number,
  };
}

const rigs = [];
for (const t of trees) rigs.push(await rig(t));
for (const r of rigs) r.run(PACKETS / 4); // warm-up
const results: number[][] = trees.map(() => []);
for (let round = 0; round < ROUNDS; round++) {
  for (let t = 0; t < rigs.length; t++) {
    const before = rigs[t]!.relayed();
    const c0 = process.cpuUsage();
    rigs[t]!.run(PACKETS);
    const c = process.cpuUsage(c0);
    const relayed = rigs[t]!.relayed() - before;
    if (relayed !== PACKETS * LISTENERS)
      throw new Error(`${trees[t]}: relayed ${relayed} of ${PACKETS * LISTENERS}`);
    results[t]!.push(((c.user + c.system) * 1000) / PACKETS);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
for (let t = 0; t < trees.length; t++) {
  console.log(
    `${trees[t]}: ${median(results[t]!).toFixed(0)} ns CPU per received packet (${LISTENERS} listeners; rounds ${results[t]!.map((x) => x.toFixed(0)).join(", ")})`,
  );
}
console.log(
  `load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}`,
);
