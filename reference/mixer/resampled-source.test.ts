import { describe, expect, it } from "vitest";
import { allocFrame, FRAME_FRAMES, FRAME_SAMPLES } from "./frame.ts";
import { Mixer } from "./mixer.ts";
import { PassthroughSource } from "./passthrough-source.ts";
import { ArrayReader, mixerSource, ResampledSource } from "./resampled-source.ts";
import { Resampler } from "./resampler.ts";
import { pcmArena } from "./simd-kernel.ts";
import { isInPlace, type PcmReader } from "./source.ts";

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

/** A reader that hands out at most `step` frames per call: short reads at every chunk boundary. */
function trickling(pcm: Int16Array, step: number): PcmReader {
  const inner = new ArrayReader(pcm, 48000, 2);
  return { sampleRate: 48000, channels: 2, read: (out, max) => inner.read(out, Math.min(max, step)) };
}

/** The resampler at ratio 1 fed in one piece: what every 48 kHz stereo path must deliver. */
function atRatio1(input: Int16Array): Int16Array {
  const frames = input.length / 2;
  const rs = new Resampler(48000, 2, { maxChunkFrames: frames });
  rs.write(input, frames);
  rs.end();
  const whole = new Int16Array(frames * 2);
  expect(rs.read(whole, 0, frames)).toBe(frames);
  return whole;
}

describe("the 48 kHz stereo passthrough", () => {
  const K = 480 * 7 + 123; // a partial last frame
  const input = ramp(K, 2);

  it.each([1, 7, 480, 1000, 4800])(
    "ResampledSource skips the resampler and delivers the resampler's exact samples (chunk %i frames)",
    (chunkFrames) => {
      const src = new ResampledSource(new ArrayReader(input, 48000, 2), { chunkFrames });
      expect(src.resampler).toBeNull();
      const { pcm, counts } = drain(src, 1000);
      expect(pcm).toEqual([...atRatio1(input)]);
      expect(counts).toEqual([480, 480, 480, 480, 480, 480, 480, 123, 0]);
    },
  );

  it("keeps the resampler for another channel map, and for any other rate", () => {
    expect(
      new ResampledSource(new ArrayReader(input, 48000, 2), { channelMap: [1, 0] }).resampler,
    ).not.toBeNull();
    expect(new ResampledSource(new ArrayReader(input, 44100, 2)).resampler).not.toBeNull();
    expect(mixerSource(new ArrayReader(input, 48000, 2), { channelMap: [1, 0] })).toBeInstanceOf(
      ResampledSource,
    );
    expect(() => new ResampledSource(new ArrayReader(input, 48000, 2), { taps: 3 })).toThrow(/taps/);
    expect(() => mixerSource(new ArrayReader(input, 48000, 2), { taps: 3 })).toThrow(/taps/);
  });

  it("read in place by the Mixer (mixerSource) or copied (ResampledSource), short reads included, the mix is the same", () => {
    const other = ramp(K + 40, 2).map((v) => v >> 2);
    for (const step of [100_000, 480, 317, 1]) {
      const inPlace = mixerSource(trickling(input, step), { chunkFrames: 1000 });
      expect(inPlace).toBeInstanceOf(PassthroughSource);
      expect(isInPlace(inPlace)).toBe(true);
      expect(pcmArena()!.addressOf((inPlace as PassthroughSource).pcm)).toBeGreaterThanOrEqual(0);
      const a = new Mixer();
      a.add(inPlace);
      a.add(mixerSource(new ArrayReader(other, 48000, 2)), { volume: 150 });
      const b = new Mixer({ simd: false });
      b.add(new ResampledSource(trickling(input, step), { chunkFrames: 1000 }));
      b.add(new ResampledSource(new ArrayReader(other, 48000, 2)), { volume: 150 });
      const fa = allocFrame();
      const fb = allocFrame();
      for (let f = 0; f < 10; f++) {
        a.mix(fa);
        b.mix(fb);
        expect(fa).toEqual(fb);
      }
    }
  });

  it("takeFrame hands out whole frames in place, then leaves the tail to read()", () => {
    const src = new PassthroughSource(trickling(input, 1000), { chunkFrames: 1000 });
    const want = atRatio1(input);
    const buf = allocFrame();
    const got: number[] = [];
    for (let f = 0; f < 9; f++) {
      const at = src.takeFrame();
      if (at >= 0) got.push(...src.pcm.subarray(at, at + FRAME_SAMPLES));
      else {
        const n = src.read(buf);
        got.push(...buf.subarray(0, n * 2));
      }
    }
    expect(got).toEqual([...want]);
    expect(src.takeFrame()).toBe(-1);
    expect(src.read(buf)).toBe(0);
  });

  it("refuses a reader at another format, and a bad chunk size", () => {
    expect(() => new PassthroughSource(new ArrayReader(input, 44100, 2))).toThrow(/48000 Hz 2-channel/);
    expect(() => new PassthroughSource(new ArrayReader(ramp(10, 1), 48000, 1))).toThrow(/48000 Hz 2-channel/);
    expect(() => new PassthroughSource(new ArrayReader(input, 48000, 2), { chunkFrames: 0 })).toThrow(
      /chunkFrames/,
    );
  });
});
