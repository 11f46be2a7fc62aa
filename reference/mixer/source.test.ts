import { describe, expect, it } from "vitest";
import { allocFrame, assertFrame, FRAME_BYTES, FRAME_FRAMES, FRAME_SAMPLES, framesForMs } from "./frame.ts";
import { BufferSource } from "./source.ts";

describe("frame format", () => {
  it("is 10 ms of 48 kHz stereo s16", () => {
    expect([FRAME_FRAMES, FRAME_SAMPLES, FRAME_BYTES]).toEqual([480, 960, 1920]);
    expect(framesForMs(1000)).toBe(100);
    expect(framesForMs(1001)).toBe(101);
    expect(() => assertFrame(new Int16Array(959))).toThrow(/960/);
  });
});

describe("BufferSource", () => {
  it("plays its buffer once, frame by frame, then silence", () => {
    const pcm = Int16Array.from({ length: (FRAME_FRAMES + 10) * 2 }, (_, i) => i + 1);
    const src = new BufferSource(pcm);
    const out = allocFrame().fill(-1);
    expect(src.read(out)).toBe(FRAME_FRAMES);
    expect([out[0], out[959]]).toEqual([1, 960]);
    expect(src.read(out)).toBe(10);
    expect([out[0], out[19], out[20], out[959]]).toEqual([961, 980, 0, 0]);
    expect(src.read(out)).toBe(0);
    expect(out.every((x) => x === 0)).toBe(true);
    expect(() => new BufferSource(new Int16Array(3))).toThrow(RangeError);
  });
});
