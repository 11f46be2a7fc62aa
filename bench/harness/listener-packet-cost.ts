// A measurement, run by hand: the CPU a pipeline listener spends on one received packet after the socket has
// delivered it (issue 10: the media socket's 'message' handler with the listener's path inlined was 3-6.6% of a
// rooms-250 worker). The path as a load run wires it: StreamReceiver.onFrame (header, routing, loss and jitter),
// the pipeline's packet callback (reference/pipeline/perform.ts's wrapper) and the VU's own (scenarios/vu/
// pipeline.ts: e2e latency into the worker's histogram, bytes into its counter), on a real MetricSet.
//
//   node --import tsx bench/harness/listener-packet-cost.ts [--packets 200000] [--rounds 7] [--streams 19]
//        [--before TREE]
//
// `--streams` receivers per thread, each playing one stream (a worker's listeners), packets round-robin as
// they arrive in a worker. Variants, rounds interleaved, CPU ns per packet (process.cpuUsage), medians:
//   clock x2   the receiver's arrival clock and a second clock read in the VU's callback (before)
//   clock x1   the VU's callback takes the receiver's arrival time (after)
//   before     TREE's StreamReceiver (another checkout, e.g. /work/main) with the callback reading the clock again
import { loadavg } from "node:os";
import { Codec, encodeFrame, FRAME_HEADER_BYTES, nowMicros, streamHash } from "../../protocol/media.ts";
import { StreamReceiver } from "../../reference/engine/stream-receiver.ts";
import { MetricSet } from "../../scenarios/metrics/set.ts";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const PACKETS = arg("--packets", 200_000);
const ROUNDS = arg("--rounds", 7);
const STREAMS = arg("--streams", 19);

const metrics = new MetricSet();
const payload = new Uint8Array(320).map((_, i) => (i * 13) & 255);

interface Rig {
  receivers: Receiver[];
  frames: Buffer[][];
}

type Receiver = Pick<StreamReceiver, "add" | "onFrame" | "unrouted" | "malformed">;

function rig(twoClocks: boolean, make: () => Receiver = () => new StreamReceiver()): Rig {
  const receivers: Receiver[] = [];
  const frames: Buffer[][] = [];
  for (let s = 0; s < STREAMS; s++) {
    const r = make();
    const id = `room-${s}-singer`;
    // The VU's callback (scenarios/vu/pipeline.ts) behind the pipeline's wrapper (perform.ts).
    const vu = twoClocks
      ? (_id: string, header: { captureUs: number; payloadBytes: number }) => {
          metrics.record("e2e_latency_ms", (nowMicros() - header.captureUs) / 1000);
          metrics.add("media_bytes_received", FRAME_HEADER_BYTES + header.payloadBytes);
        }
      : (_id: string, header: { captureUs: number; payloadBytes: number }, arrivalUs: number) => {
          metrics.record("e2e_latency_ms", (arrivalUs - header.captureUs) / 1000);
          metrics.add("media_bytes_received", FRAME_HEADER_BYTES + header.payloadBytes);
        };
    const stages = { first: null as number | null };
    r.add(id, undefined, (header, streamID, arrivalUs) => {
      if (stages.first === null) stages.first = 1;
      vu(streamID, header, arrivalUs);
    });
    receivers.push(r);
    // 64 packets per stream, sequence numbers running on: replayed in order, as a live stream arrives.
    const list: Buffer[] = [];
    for (let q = 0; q < 64; q++) {
      const b = Buffer.alloc(FRAME_HEADER_BYTES + payload.length);
      encodeFrame(
        b,
        {
          flags: 0,
          codec: Codec.Opus,
          streamHash: streamHash(id),
          seq: 0,
          captureUs: nowMicros() - 5000,
          sampleRate: 48_000,
          channels: 2,
        },
        payload,
      );
      list.push(b);
    }
    frames.push(list);
  }
  return { receivers, frames };
}

/** Each stream's next sequence number: packets keep arriving in order across rounds. */
let seq = 64;

function run(r: Rig): number {
  const c0 = process.cpuUsage();
  let k = seq;
  for (let i = 0; i < PACKETS; i++) {
    const s = i % STREAMS;
    if (s === 0) k++;
    const b = r.frames[s]![k & 63]!;
    b.writeUInt32LE(k >>> 0, 8);
    r.receivers[s]!.onFrame(b);
  }
  seq = k + 1;
  const c = process.cpuUsage(c0);
  return ((c.user + c.system) * 1000) / PACKETS;
}

const variants: [string, Rig][] = [
  ["clock x2", rig(true)],
  ["clock x1", rig(false)],
];
const beforeAt = process.argv.indexOf("--before");
if (beforeAt >= 0) {
  const tree = process.argv[beforeAt + 1]!;
  const mod = (await import(`${tree}/reference/engine/stream-receiver.ts`)) as {
    StreamReceiver: new () => Receiver;
  };
  variants.unshift(["before", rig(true, () => new mod.StreamReceiver())]);
}
const got = new Map<string, number[]>(variants.map(([n]) => [n, []]));
for (const [, r] of variants) run(r); // warm-up
for (let round = 0; round < ROUNDS; round++) for (const [n, r] of variants) got.get(n)!.push(run(r));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
process.stdout.write(
  `listener-packet-cost: ${PACKETS} packets over ${STREAMS} streams, ${ROUNDS} rounds, load ${loadavg()
    .map((v) => v.toFixed(1))
    .join(" ")}\n`,
);
for (const [n] of variants) {
  const xs = got.get(n)!;
  process.stdout.write(
    `  ${n.padEnd(9)} ${median(xs).toFixed(0)} ns CPU per packet, least ${Math.min(...xs).toFixed(0)} (rounds ${xs.map((x) => x.toFixed(0)).join(" ")})\n`,
  );
}
const bad = variants.some(([, r]) => r.receivers.some((x) => x.unrouted + x.malformed > 0));
if (bad) throw new Error("packets were not routed: the rig is wrong");
