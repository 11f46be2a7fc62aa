import { describe, expect, it } from "vitest";
import {
  decodeFrameHeader,
  FRAME_HEADER_BYTES,
  FrameFlag,
  framePayload,
  streamHash,
} from "../../protocol/media.ts";
import { FRAME_SAMPLES } from "../mixer/frame.ts";
import { FramePacker, PACKET_BYTES, PACKET_PAYLOAD_BYTES } from "./frame-packer.ts";

const us = (v: number) => Float64Array.of(v);

describe("FramePacker", () => {
  it("stamps a 20 ms packet the protocol decoder accepts, first with the restart flag", () => {
    const p = new FramePacker("song_1");
    p.halves[0].fill(100);
    p.halves[1].fill(-200);
    const first = decodeFrameHeader(p.stamp(us(1_700_000_000_123_456.5)));
    expect(first).toEqual({
      flags: FrameFlag.Discontinuity,
      codec: 0,
      streamHash: streamHash("song_1"),
      seq: 0,
      captureUs: 1_700_000_000_123_456,
      sampleRate: 48_000,
      channels: 2,
      payloadBytes: PACKET_PAYLOAD_BYTES,
    });
    p.sent();
    const second = decodeFrameHeader(p.stamp(us(1_700_000_000_143_456)));
    expect(second.seq).toBe(1);
    expect(second.flags).toBe(0);
    expect(p.packet.length).toBe(PACKET_BYTES);
    expect(PACKET_PAYLOAD_BYTES).toBe(2 * FRAME_SAMPLES * 2);
  });

  it("carries the two mixer frames as little-endian s16, first half first", () => {
    const p = new FramePacker("s");
    for (let i = 0; i < FRAME_SAMPLES; i++) {
      p.halves[0][i] = i - 480;
      p.halves[1][i] = -i * 3;
    }
    const payload = framePayload(p.stamp(us(1)));
    const view = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    expect(view.readInt16LE(0)).toBe(-480);
    expect(view.readInt16LE(2 * 959)).toBe(479);
    expect(view.readInt16LE(2 * FRAME_SAMPLES)).toBe(0);
    expect(view.readInt16LE(2 * (FRAME_SAMPLES + 7))).toBe(-21);
    expect(payload.byteOffset).toBe(FRAME_HEADER_BYTES);
  });

  it("restarts numbering with the flag after restart() and setStream()", () => {
    const p = new FramePacker("a");
    for (let i = 0; i < 3; i++) p.stamp(us(i));
    expect(p.nextSeq).toBe(3);
    p.restart();
    const h = decodeFrameHeader(p.stamp(us(9)));
    expect([h.seq, h.flags]).toEqual([0, FrameFlag.Discontinuity]);
    p.stamp(us(10));
    p.setStream("b");
    const b = decodeFrameHeader(p.stamp(us(11)));
    expect([b.seq, b.flags, b.streamHash]).toEqual([0, FrameFlag.Discontinuity, streamHash("b")]);
  });
});
