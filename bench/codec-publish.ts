import { fork } from "node:child_process";
import { loadavg } from "node:os";
import { WebSocket, WebSocketServer } from "ws";
import { createPacketCodec } from "../reference/codec/packet-codec.ts";
import type { MediaCodec } from "../reference/codec/profile.ts";
import { renderReferenceSignal } from "../reference/codec/reference-signal.ts";
import { FramePacker } from "../reference/engine/frame-packer.ts";
import { StreamReceiver } from "../reference/engine/stream-receiver.ts";
import { FRAME_SAMPLES } from "../reference/mixer/frame.ts";

// The publish side's cost per 20 ms packet for each codec, and what each puts on the wire: stamp the packet,
// run the codec step (nothing / live libopus / a pre-encoded packet), send it on a real WebSocket to a sink in
// another process (so the CPU measured is the publisher's alone). Mixing is not included: the same PCM (10 s
// of the reference karaoke signal) is fed to every codec. Then the listener's side: StreamReceiver per
// packet, accounting only and with samples. CPU from process.cpuUsage, median of interleaved rounds; the load
// average is printed because the machine is shared.
//
//   npx tsx bench/codec-publish.ts [--streams 20] [--packets 500] [--rounds 5]

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const STREAMS = arg("streams", 20);
const PACKETS = arg("packets", 500);
const ROUNDS = arg("rounds", 5);
const CODECS: MediaCodec[] = ["pcm", "opus", "opus-preencoded"];

if (process.argv[2] === "--sink") {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
  wss.on("listening", () => process.send?.((wss.address() as { port: number }).port));
  wss.on("connection", (ws) => ws.on("message", () => {}));
} else {
  await main();
}

async function main(): Promise<void> {
  const sink = fork(new URL(import.meta.url).pathname, ["--sink"], { execArgv: process.execArgv });
  const port = await new Promise<number>((resolve) => sink.once("message", (m) => resolve(m as number)));
  const sockets = await Promise.all(
    Array.from({ length: STREAMS }, () => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
      return new Promise<WebSocket>((resolve) => ws.once("open", () => resolve(ws)));
    }),
  );
  const pcm = renderReferenceSignal(10_000);
  const packetsOfPcm = pcm.length / (2 * FRAME_SAMPLES);
  const results = new Map<MediaCodec, { usPerPacket: number[]; codecUs: number[]; bytes: number[] }>();
  for (const c of CODECS) results.set(c, { usPerPacket: [], codecUs: [], bytes: [] });

  for (let round = 0; round < ROUNDS + 1; round++) {
    for (const codec of round % 2 === 0 ? CODECS : [...CODECS].reverse()) {
      const streams = sockets.map((ws, i) => ({
        ws,
        packer: new FramePacker(`s${i}`),
        codec: createPacketCodec(codec),
      }));
      const capture = new Float64Array(1);
      let bytes = 0;
      let codecNs = 0n;
      const t0 = process.cpuUsage();
      for (let k = 0; k < PACKETS; k++) {
        const o = ((k + round * PACKETS) % packetsOfPcm) * 2 * FRAME_SAMPLES;
        for (const s of streams) {
          s.packer.halves[0].set(pcm.subarray(o, o + FRAME_SAMPLES));
          s.packer.halves[1].set(pcm.subarray(o + FRAME_SAMPLES, o + 2 * FRAME_SAMPLES));
          capture[0] = k * 20_000;
          const c0 = process.hrtime.bigint();
          const stamped = s.packer.stamp(capture);
          const wire = s.codec === null ? stamped : s.codec.packet(stamped);
          codecNs += process.hrtime.bigint() - c0;
          s.ws.send(wire, { binary: true });
          bytes += wire.length;
          s.packer.sent();
        }
        // Let the socket drain now and then, as 20 ms of real time would.
        if (k % 25 === 24) await new Promise((r) => setImmediate(r));
      }
      const cpu = process.cpuUsage(t0);
      for (const s of streams) s.codec?.destroy();
      if (round === 0) continue; // warm-up round
      const r = results.get(codec)!;
      const n = PACKETS * STREAMS;
      // The copy of the PCM into the packer is the mixer's work, not the codec's: a few µs at most per packet.
      r.usPerPacket.push((cpu.user + cpu.system) / n);
      r.codecUs.push(Number(codecNs) / 1000 / n);
      r.bytes.push(bytes / n);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(
    `load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")}; ${STREAMS} streams × ${PACKETS} packets × ${ROUNDS} rounds`,
  );
  console.log(
    "codec            CPU µs/packet (stamp+codec+send)  codec step µs/packet (wall)  bytes/packet  wire kbit/s per stream",
  );
  for (const [codec, r] of results) {
    const b = median(r.bytes);
    console.log(
      `${codec.padEnd(16)} ${median(r.usPerPacket).toFixed(1).padStart(10)}${" ".repeat(23)}${median(r.codecUs).toFixed(1).padStart(10)}${" ".repeat(18)}${b.toFixed(1).padStart(8)}  ${((b * 50 * 8) / 1000).toFixed(1).padStart(10)}`,
    );
  }
  for (const ws of sockets) ws.terminate();
  sink.kill();
  receiveSide(pcm);
}

/**
 * The listener's cost per received packet (StreamReceiver.onFrame, no socket): accounting only (a load run's
 * listener) and with samples for a frame handler (PCM copied out, Opus decoded).
 */
function receiveSide(pcm: Int16Array): void {
  const N = 2000;
  const frames: Record<string, Uint8Array[]> = {};
  for (const codec of CODECS) {
    const packer = new FramePacker("r");
    const step = createPacketCodec(codec);
    const capture = new Float64Array(1);
    frames[codec] = Array.from({ length: 250 }, (_, k) => {
      const o = k * 2 * FRAME_SAMPLES;
      packer.halves[0].set(pcm.subarray(o, o + FRAME_SAMPLES));
      packer.halves[1].set(pcm.subarray(o + FRAME_SAMPLES, o + 2 * FRAME_SAMPLES));
      capture[0] = k * 20_000;
      const stamped = packer.stamp(capture);
      const wire = Uint8Array.from(step === null ? stamped : step.packet(stamped));
      packer.sent();
      return wire;
    });
    step?.destroy();
  }
  console.log("receive side         accounting only µs/packet   with samples µs/packet");
  for (const codec of CODECS) {
    const row: number[] = [];
    for (const decode of [false, true]) {
      const samples: number[] = [];
      for (let round = 0; round < ROUNDS + 1; round++) {
        const r = new StreamReceiver({ now: () => 0 });
        let sink = 0;
        r.add("r", decode ? (p) => (sink += p.length) : undefined, () => sink++);
        const t0 = process.cpuUsage();
        for (let k = 0; k < N; k++) r.onFrame(frames[codec]![k % 250]!);
        const cpu = process.cpuUsage(t0);
        r.remove("r");
        if (round > 0 && sink > 0) samples.push((cpu.user + cpu.system) / N);
      }
      row.push(samples.sort((a, b) => a - b)[Math.floor(samples.length / 2)]!);
    }
    console.log(
      `${codec.padEnd(20)} ${row[0]!.toFixed(2).padStart(10)}${" ".repeat(18)}${row[1]!.toFixed(2).padStart(10)}`,
    );
  }
}
