import { describe, expect, it } from "vitest";
import { audioLayout } from "./format.ts";
import { parseWavHeader, wavHeader } from "./wav.ts";

describe("wav header", () => {
  it.each([
    [0, 1, 8000, 1, 16000],
    [1, 1, 10000, 2, 40000],
    [2, 1, 44100, 2, 176400],
    [2, 2, 44100, 4, 352800],
  ] as const)(
    "quality %i tracks %i: %i Hz x %i ch at the tier's bitrate",
    (q, tracks, rate, ch, byteRate) => {
      const layout = audioLayout(q, 12_345, tracks);
      const h = wavHeader(layout);
      expect(h.length).toBe(44);
      const info = parseWavHeader(h);
      expect(info).toEqual({
        format: 1,
        channels: ch,
        sampleRate: rate,
        byteRate,
        blockAlign: ch * 2,
        bitsPerSample: 16,
        dataBytes: layout.dataBytes,
        riffBytes: layout.size - 8,
      });
      expect(layout.dataBytes % (ch * 2)).toBe(0);
    },
  );
  it("rejects what is not a canonical header", () => {
    expect(() => parseWavHeader(Buffer.alloc(44))).toThrow(/RIFF/);
    expect(() => parseWavHeader(Buffer.alloc(10))).toThrow(/shorter/);
  });
});
