import { afterEach, describe, expect, it, vi } from "vitest";
import { Codec, type FrameHeader } from "../../protocol/media.ts";
import type { Simulator } from "../../simulator/app.ts";
import { testSimulator } from "../../test/sim.ts";
import { OpusCodec } from "../codec/opus.ts";
import { PreencodedOpus } from "../codec/packet-codec.ts";
import type { MediaCodec } from "../codec/profile.ts";
import { bestCorrelation, left, tone } from "../codec/test-signals.ts";
import { ZegoError } from "../errors.ts";
import { BufferSource } from "../mixer/source.ts";
import { createEngine, type ZegoExpressEngine } from "./engine.ts";
import { DEV_APP_ID, DEV_APP_SIGN, until } from "./test-fixtures.ts";

// What goes on the wire per codec, through the real media server on loopback: Opus encoded by the publisher
// decodes at a listener to the audio that was mixed; pre-encoded packets go out as they are; PCM stays the
// default; every byte sent and received is counted.

let sim: Simulator | undefined;
const engines: ZegoExpressEngine[] = [];

afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.destroyEngine()));
  await sim?.close();
  sim = undefined;
});

function engine(codec?: MediaCodec): ZegoExpressEngine {
  const e = createEngine({
    appID: DEV_APP_ID,
    appSign: DEV_APP_SIGN,
    server: sim!.url,
    ...(codec ? { codec } : {}),
  });
  engines.push(e);
  return e;
}

async function room(codec?: MediaCodec) {
  sim = await testSimulator();
  const singer = engine(codec);
  const fan = engine();
  await singer.loginRoom("r1", { userID: "singer" });
  await fan.loginRoom("r1", { userID: "fan" });
  singer.setMicrophoneSource(new BufferSource(tone(48_000 * 5)));
  const mixed: Int16Array[] = [];
  singer.setMixedAudioDataHandler((frame) => {
    mixed.push(frame.slice());
  });
  return { singer, fan, mixed };
}

describe("published codecs through the media server", () => {
  it("an Opus stream decodes at the listener to audio that correlates with what was mixed", async () => {
    const { singer, fan, mixed } = await room("opus");
    const heard = new Map<number, Int16Array>();
    const packets: FrameHeader[] = [];
    await fan.startPlayingStream(
      "singer_main",
      (pcm, h) => heard.set(h.seq, pcm.slice()),
      (h) => packets.push({ ...h }),
    );
    await singer.startPublishingStream("singer_main");
    await until(() => heard.size >= 60, "1.2 s of Opus packets");
    await singer.stopPublishingStream();

    expect(packets[0]).toMatchObject({ codec: Codec.Opus, seq: 0, sampleRate: 48_000, channels: 2 });
    const sizes = packets.map((h) => h.payloadBytes);
    // 128 kbit/s is 320 bytes per 20 ms packet; PCM would be 3840.
    expect(Math.max(...sizes)).toBeLessThan(1000);
    // Packet k carries mixer frames 2k and 2k+1: line up what was mixed with what was heard, in order.
    const seqs = [...heard.keys()].sort((a, b) => a - b);
    expect(seqs).toEqual([...seqs.keys()]);
    const sent = new Int16Array(seqs.length * 1920);
    const got = new Int16Array(seqs.length * 1920);
    for (const k of seqs) {
      sent.set(mixed[2 * k]!, k * 1920);
      sent.set(mixed[2 * k + 1]!, k * 1920 + 960);
      got.set(heard.get(k)!, k * 1920);
    }
    const { r, lag } = bestCorrelation(left(sent), left(got), 960, 4800);
    expect(r).toBeGreaterThan(0.9);
    // The codec's delay: a few ms, not a shift by whole packets.
    expect(lag).toBeLessThan(480);

    const pub = singer.getPublishStats();
    await until(() => packets.length >= pub.packetsSent, "every packet sent to arrive");
    expect(pub.codec).toBe("opus");
    expect(pub.bytesSent).toBe(pub.packetsSent * 32 + sizesOfSent(packets, pub.packetsSent));
    const play = fan.getPlayStats("singer_main")!;
    expect(play).toMatchObject({ lost: 0, reordered: 0, duplicates: 0, decodeErrors: 0 });
    expect(play.wireBytes).toBe(packets.reduce((a, h) => a + 32 + h.payloadBytes, 0));
  });

  it("pre-encoded packets arrive as the shared table has them, and are not decoded without a frame handler", async () => {
    const { singer, fan } = await room("opus-preencoded");
    const decode = vi.spyOn(OpusCodec.prototype, "decode");
    const packets: FrameHeader[] = [];
    await fan.startPlayingStream("singer_main", undefined, (h) => packets.push({ ...h }));
    await singer.startPublishingStream("singer_main");
    await until(() => packets.length >= 30, "30 pre-encoded packets");
    await singer.stopPublishingStream();
    const table = PreencodedOpus.shared().packets;
    for (const h of packets) {
      expect(h.codec).toBe(Codec.Opus);
      expect(h.payloadBytes).toBe(table[h.seq % table.length]!.length - 32);
    }
    const play = fan.getPlayStats("singer_main")!;
    expect(play.frames).toBe(packets.length);
    expect(decode).not.toHaveBeenCalled();
    decode.mockRestore();
    expect(singer.getPublishStats().codec).toBe("opus-preencoded");
  });

  it("PCM stays the default: 3840-byte payloads, 3872 bytes per packet counted", async () => {
    const { singer, fan } = await room();
    const packets: FrameHeader[] = [];
    await fan.startPlayingStream("singer_main", undefined, (h) => packets.push({ ...h }));
    await singer.startPublishingStream("singer_main");
    await until(() => packets.length >= 10, "10 PCM packets");
    await singer.stopPublishingStream();
    expect(packets.every((h) => h.codec === Codec.PcmS16le && h.payloadBytes === 3840)).toBe(true);
    const pub = singer.getPublishStats();
    expect(pub.codec).toBe("pcm");
    expect(pub.bytesSent).toBe(pub.packetsSent * 3872);
  });

  it("refuses an unknown codec", () => {
    expect(() =>
      createEngine({
        appID: DEV_APP_ID,
        appSign: DEV_APP_SIGN,
        server: "http://127.0.0.1:1",
        codec: "mp3" as MediaCodec,
      }),
    ).toThrow(ZegoError);
  });
});

/** Payload bytes of the first `n` packets (the listener saw every packet the singer sent, in order). */
function sizesOfSent(packets: FrameHeader[], n: number): number {
  expect(packets.length).toBeGreaterThanOrEqual(n);
  return packets.slice(0, n).reduce((a, h) => a + h.payloadBytes, 0);
}
