import { Session } from "node:inspector/promises";
import { describe, expect, it } from "vitest";
import { Codec, decodeFrameHeader, FrameFlag, type FrameHeader } from "../../protocol/media.ts";
import { CaptureDevice } from "../engine/capture.ts";
import { FramePacker } from "../engine/frame-packer.ts";
import { FRAME_SAMPLES } from "../mixer/frame.ts";
import { BufferSource } from "../mixer/source.ts";
import { VirtualTime } from "../mixer/virtual-time.ts";
import { OpusCodec } from "./opus.ts";
import { createPacketCodec, OpusPacketCodec, PreencodedOpus, PreencodedPacketCodec } from "./packet-codec.ts";
import { KARAOKE_OPUS_BITRATE } from "./profile.ts";
import { bestCorrelation, left, tone } from "./test-signals.ts";

// The publish side's codec step: live Opus per stream, shared pre-encoded packets, and PCM left alone. Each
// packet keeps the packer's stream fields (hash, sequence, flags, capture time) and says it is Opus.

/** Stamped PCM packets of `pcm` for stream `id`, as the capture device hands them over (copies). */
function pcmPackets(id: string, pcm: Int16Array): { packet: Buffer; header: FrameHeader }[] {
  const packer = new FramePacker(id);
  const out: { packet: Buffer; header: FrameHeader }[] = [];
  const capture = new Float64Array(1);
  for (let o = 0; o + 2 * FRAME_SAMPLES <= pcm.length; o += 2 * FRAME_SAMPLES) {
    packer.halves[0].set(pcm.subarray(o, o + FRAME_SAMPLES));
    packer.halves[1].set(pcm.subarray(o + FRAME_SAMPLES, o + 2 * FRAME_SAMPLES));
    capture[0] = 1_700_000_000_000_000 + (o / FRAME_SAMPLES) * 10_000;
    const p = Buffer.from(packer.stamp(capture));
    packer.sent();
    out.push({ packet: p, header: decodeFrameHeader(p) });
  }
  return out;
}

describe("createPacketCodec", () => {
  it("leaves PCM alone and makes one codec step per stream for Opus", () => {
    expect(createPacketCodec("pcm")).toBeNull();
    const live = createPacketCodec("opus");
    const pre = createPacketCodec("opus-preencoded");
    expect(live).toBeInstanceOf(OpusPacketCodec);
    expect(pre).toBeInstanceOf(PreencodedPacketCodec);
    live?.destroy();
  });
});

describe("OpusPacketCodec", () => {
  it("encodes each stamped PCM packet into an Opus frame with the same stream fields, decodable to the tone", () => {
    const sent = tone(960 * 60);
    const pcm = pcmPackets("singer_main", sent);
    const codec = new OpusPacketCodec();
    const dec = new OpusCodec({ sampleRate: 48_000, channels: 2 });
    const got = new Int16Array(sent.length);
    try {
      for (const [k, { packet, header }] of pcm.entries()) {
        const wire = codec.packet(packet);
        const h = decodeFrameHeader(wire);
        expect(h).toEqual({ ...header, codec: Codec.Opus, payloadBytes: wire.length - 32 });
        expect(h.payloadBytes).toBeLessThan(header.payloadBytes / 4);
        expect(dec.decode(wire, got.subarray(k * 1920), 32)).toBe(960);
      }
    } finally {
      codec.destroy();
      dec.destroy();
    }
    expect(pcm[0]!.header.flags).toBe(FrameFlag.Discontinuity);
    expect(bestCorrelation(left(sent), left(got), 960, 4800).r).toBeGreaterThan(0.99);
  });
});

describe("pre-encoded Opus", () => {
  it("is one real encoding at the Karaoke bitrate: decodable 20 ms packets of varying size", () => {
    const table = PreencodedOpus.shared();
    expect(PreencodedOpus.shared()).toBe(table);
    expect(table.packets.length).toBe(250);
    const sizes = table.packets.map((p) => decodeFrameHeader(p).payloadBytes);
    const mean = sizes.reduce((a, b) => a + b, 0) / sizes.length;
    const perPacket = KARAOKE_OPUS_BITRATE / 8 / 50;
    expect(mean).toBeGreaterThan(0.7 * perPacket);
    expect(mean).toBeLessThan(1.3 * perPacket);
    // Music in VBR: sizes vary from packet to packet.
    expect(new Set(sizes).size).toBeGreaterThan(20);
    const dec = new OpusCodec({ sampleRate: 48_000, channels: 2 });
    const out = new Int16Array(1920);
    try {
      for (const p of table.packets) expect(dec.decode(p, out, 32)).toBe(960);
    } finally {
      dec.destroy();
    }
  });

  it("publishes the table's packets in order, one every 20 ms of the capture clock, with the stream's fields", () => {
    const table = PreencodedOpus.shared();
    const vt = new VirtualTime();
    const d = new CaptureDevice({ now: vt.now, scheduler: vt.scheduler });
    d.setMicrophone(new BufferSource(tone(48_000 * 8)));
    const codec = new PreencodedPacketCodec(table);
    const sent: { at: number; header: FrameHeader; payload: string }[] = [];
    d.send = (pcm) => {
      const wire = codec.packet(pcm);
      sent.push({
        at: vt.now(),
        header: decodeFrameHeader(wire),
        payload: Buffer.from(wire.subarray(32)).toString("hex"),
      });
      return true;
    };
    const PACKETS = 300;
    d.onMixed = (_pcm, n) => {
      if (n + 1 === PACKETS * 2) d.stop();
    };
    d.start("s1");
    vt.run(PACKETS * 8);
    expect(sent.length).toBe(PACKETS);
    const t0 = sent[0]!.at;
    expect(sent.map((s) => s.at - t0)).toEqual(sent.map((_, k) => k * 20));
    const c0 = sent[0]!.header.captureUs;
    expect(sent.map((s) => s.header.captureUs - c0)).toEqual(sent.map((_, k) => k * 20_000));
    expect(sent.map((s) => s.header.seq)).toEqual([...Array(PACKETS).keys()]);
    expect(sent[0]!.header.flags).toBe(FrameFlag.Discontinuity);
    // The table cycles: packet k is table entry k mod 250, whatever the stream.
    for (const [k, s] of sent.entries()) {
      const entry = table.packets[k % table.packets.length]!;
      expect(s.header).toMatchObject({ codec: Codec.Opus, payloadBytes: entry.length - 32, channels: 2 });
      expect(s.payload).toBe(entry.subarray(32).toString("hex"));
    }
  });

  it("costs no allocation per packet (live or pre-encoded)", async () => {
    const p = pcmPackets("s", tone(960))[0]!.packet;
    const live = new OpusPacketCodec();
    const pre = new PreencodedPacketCodec(PreencodedOpus.shared());
    function codecPackets(n: number): number {
      let bytes = 0;
      for (let i = 0; i < n; i++) bytes += live.packet(p).length + pre.packet(p).length;
      return bytes;
    }
    // Warm up: every payload length's view exists, optimised code keeps numbers unboxed.
    let sink = codecPackets(3000);
    const N = 2000;
    const session = new Session();
    session.connect();
    let bytes = 0;
    try {
      await session.post("HeapProfiler.startSampling", {
        samplingInterval: 16,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      });
      sink += codecPackets(N);
      const { profile } = await session.post("HeapProfiler.stopSampling");
      const walk = (n: SamplingNode, inside: boolean): void => {
        const here = inside || n.callFrame.functionName === "codecPackets";
        if (here) bytes += n.selfSize;
        for (const c of n.children) walk(c, here);
      };
      walk(profile.head, false);
    } finally {
      session.disconnect();
      live.destroy();
    }
    expect(sink).toBeGreaterThan(0);
    // Two packets per iteration: one 16-byte object per packet would be 32 bytes here (a view, ~100). What
    // remains (measured 5-9) is the sampler's attribution of a few boxed numbers in the loop.
    expect(bytes / N).toBeLessThan(16);
  });
});

interface SamplingNode {
  callFrame: { functionName: string };
  selfSize: number;
  children: SamplingNode[];
}
