import { describe, expect, it } from "vitest";
import { allocFrame, FRAME_FRAMES, FRAME_SAMPLES } from "./frame.ts";
import { ArrayReader, ResampledSource } from "./resampled-source.ts";
import { Resampler } from "./resampler.ts";
import type { PcmReader } from "./source.ts";

function drain(source: ResampledSource, maxFrames: number): { pcm: number[]; counts: number[] } {
  const frame = allocFrame();
  const pcm: number[] = [];
  const counts: number[] = [];
  for (let f = 0; f < maxFrames; f++) {
    const n = source.read(frame);
    counts.push(n);
    if (n === 0) {
      expect(frame.every((x) => x === 0)).toBe(true);
      break;
    }
    for (let i = 0; i < n * 2; i++) pcm.push(frame[i]!);
    for (let i = n * 2; i < FRAME_SAMPLES; i++) expect(frame[i]).toBe(0);
  }
  return { pcm, counts };
}

function ramp(frames: number, channels: number): Int16Array {
  const pcm = new Int16Array(frames * channels);
  for (let i = 0; i < pcm.length; i++) pcm[i] = ((i * 2654435761) % 40000) - 20000;
  return pcm;
}

describe("ResampledSource", () => {
  it.each([
    { rate: 8000, channels: 1 },
    { rate: 10000, channels: 2 },
    { rate: 44100, channels: 2 },
  ])(
    "delivers a $rate Hz stream as whole 10 ms frames, the exact total, then silence",
    ({ rate, channels }) => {
      const K = Math.round(rate * 0.437) + 3;
      const input = ramp(K, channels);
      const { pcm, counts } = drain(new ResampledSource(new ArrayReader(input, rate, channels)), 1000);
      const total = Math.ceil((K * 48000) / rate);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(total);
      expect(counts.slice(0, -2).every((c) => c === FRAME_FRAMES)).toBe(true);
      expect(counts.at(-1)).toBe(0);
      // Identical to the resampler fed in one piece.
      const rs = new Resampler(rate, channels, { maxChunkFrames: K });
      rs.write(input, K);
      rs.end();
      const whole = new Int16Array(total * 2);
      expect(rs.read(whole, 0, total)).toBe(total);
      expect(pcm).toEqual([...whole]);
    },
  );

  it("copes with a reader that returns one frame at a time", () => {
    const input = ramp(1000, 2);
    let pos = 0;
    const trickle: PcmReader = {
      sampleRate: 10000,
      channels: 2,
      read(out, max) {
        if (pos >= 1000 || max < 1) return 0;
        out[0] = input[pos * 2]!;
        out[1] = input[pos * 2 + 1]!;
        pos++;
        return 1;
      },
    };
    const a = drain(new ResampledSource(trickle), 1000);
    const b = drain(new ResampledSource(new ArrayReader(input, 10000, 2)), 1000);
    expect(a.pcm).toEqual(b.pcm);
    expect(a.pcm.length).toBe(4800 * 2);
  });
});
