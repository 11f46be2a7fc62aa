import { describe, expect, it } from "vitest";
import { OpusCodec, OpusError } from "./opus.ts";
import { bestCorrelation, left, tone } from "./test-signals.ts";

// The libopus wrapper: real encoding and decoding (WebAssembly libopus 1.4), several codecs per thread without
// interference, and clear errors for what it cannot do.

const FRAMES = 960;

function codec(bitrate = 128_000): OpusCodec {
  return new OpusCodec({ sampleRate: 48_000, channels: 2, bitrate });
}

/** Encodes `pcm` 20 ms at a time with `enc`; returns the packets. */
function encodeAll(enc: OpusCodec, pcm: Int16Array): Uint8Array[] {
  const bytes = new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  const step = FRAMES * 4;
  const out: Uint8Array[] = [];
  const scratch = new Uint8Array(4000);
  for (let o = 0; o + step <= bytes.length; o += step) {
    const n = enc.encode(bytes.subarray(o, o + step), scratch);
    out.push(scratch.slice(0, n));
  }
  return out;
}

function decodeAll(dec: OpusCodec, packets: Uint8Array[]): Int16Array {
  const out = new Int16Array(packets.length * FRAMES * 2);
  for (const [k, p] of packets.entries()) {
    expect(dec.decode(p, out.subarray(k * FRAMES * 2))).toBe(FRAMES);
  }
  return out;
}

describe("OpusCodec", () => {
  it("encodes a 440 Hz tone at the bitrate asked for and decodes it back to the same tone", () => {
    const enc = codec();
    const dec = codec();
    try {
      const sent = tone(FRAMES * 100);
      const packets = encodeAll(enc, sent);
      const mean = packets.reduce((a, p) => a + p.length, 0) / packets.length;
      // 128 kbit/s in 20 ms packets is 320 bytes; VBR stays near it on a steady tone.
      expect(mean).toBeGreaterThan(0.8 * 320);
      expect(mean).toBeLessThan(1.2 * 320);
      const got = decodeAll(dec, packets);
      const { r } = bestCorrelation(left(sent), left(got), 960, 4800);
      expect(r).toBeGreaterThan(0.99);
      // Not trivially equal: a lossy codec changes samples.
      expect(got).not.toEqual(sent);
    } finally {
      enc.destroy();
      dec.destroy();
    }
  });

  it("keeps each codec's state apart: interleaved encoders give the bytes a lone encoder gives", () => {
    const a = tone(FRAMES * 30, 440);
    const b = tone(FRAMES * 30, 1250, 12000);
    const lone = codec();
    const alone = encodeAll(lone, a);
    lone.destroy();
    const e1 = codec();
    const e2 = codec();
    const e3 = codec(64_000);
    const scratch = new Uint8Array(4000);
    const ba = new Uint8Array(a.buffer);
    const bb = new Uint8Array(b.buffer);
    const step = FRAMES * 4;
    const got: Uint8Array[] = [];
    try {
      for (let o = 0; o < ba.length; o += step) {
        e2.encode(bb.subarray(o, o + step), scratch);
        const n = e1.encode(ba.subarray(o, o + step), scratch);
        got.push(scratch.slice(0, n));
        e3.encode(bb.subarray(o, o + step), scratch);
      }
    } finally {
      e1.destroy();
      e2.destroy();
      e3.destroy();
    }
    expect(got.map((p) => Buffer.from(p).toString("hex"))).toEqual(
      alone.map((p) => Buffer.from(p).toString("hex")),
    );
  });

  it("refuses what it cannot do with a clear error", () => {
    expect(() => new OpusCodec({ sampleRate: 44_100, channels: 2 })).toThrow(/44100 is not one of/);
    expect(() => new OpusCodec({ sampleRate: 48_000, channels: 3 })).toThrow(RangeError);
    const c = codec();
    // 7 bytes is not whole stereo samples; 30 ms is over the 20 ms this codec was sized for.
    expect(() => c.encode(new Uint8Array(7), new Uint8Array(4000))).toThrow(RangeError);
    expect(() => c.encode(new Uint8Array(1440 * 4), new Uint8Array(4000))).toThrow(RangeError);
    // An illegal 12 ms frame size: libopus itself refuses it.
    expect(() => c.encode(new Uint8Array(576 * 4), new Uint8Array(4000))).toThrow(OpusError);
    expect(() => c.decode(new Uint8Array(0), new Int16Array(1920))).toThrow(OpusError);
    // Code 3 (an arbitrary number of frames) with a frame count of 0: an invalid packet.
    expect(() => c.decode(Uint8Array.of(0xfb, 0x00), new Int16Array(1920))).toThrow(OpusError);
    const n = c.encode(new Uint8Array(FRAMES * 4), new Uint8Array(4000));
    expect(n).toBeGreaterThan(0);
    c.destroy();
    c.destroy();
    expect(() => c.encode(new Uint8Array(FRAMES * 4), new Uint8Array(4000))).toThrow(/after destroy/);
  });
});
