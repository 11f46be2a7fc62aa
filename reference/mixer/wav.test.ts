import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FRAME_SAMPLES } from "./frame.ts";
import { WavWriter, wavHeader } from "./wav.ts";

const dir = mkdtempSync(join(tmpdir(), "ktv-wav-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function parse(file: Buffer) {
  return {
    riff: file.toString("ascii", 0, 4),
    riffSize: file.readUInt32LE(4),
    wave: file.toString("ascii", 8, 12),
    format: file.readUInt16LE(20),
    channels: file.readUInt16LE(22),
    sampleRate: file.readUInt32LE(24),
    byteRate: file.readUInt32LE(28),
    blockAlign: file.readUInt16LE(32),
    bits: file.readUInt16LE(34),
    data: file.toString("ascii", 36, 40),
    dataSize: file.readUInt32LE(40),
  };
}

describe("WavWriter", () => {
  it("streams frames across block boundaries and patches the sizes at close", () => {
    const path = join(dir, "stream.wav");
    const w = new WavWriter(path);
    const frame = new Int16Array(FRAME_SAMPLES);
    const frames = 40; // 76,800 bytes: more than one 64 KiB block
    for (let f = 0; f < frames; f++) {
      for (let i = 0; i < FRAME_SAMPLES; i++) frame[i] = ((f * FRAME_SAMPLES + i) % 65536) - 32768;
      w.write(frame);
    }
    w.write(frame, 6); // a partial frame: 3 stereo sample frames
    expect(w.bytes).toBe((frames * FRAME_SAMPLES + 6) * 2);
    w.close();
    w.close();
    const file = readFileSync(path);
    const dataBytes = (frames * FRAME_SAMPLES + 6) * 2;
    expect(parse(file)).toEqual({
      riff: "RIFF",
      riffSize: 36 + dataBytes,
      wave: "WAVE",
      format: 1,
      channels: 2,
      sampleRate: 48000,
      byteRate: 192000,
      blockAlign: 4,
      bits: 16,
      data: "data",
      dataSize: dataBytes,
    });
    expect(file.length).toBe(44 + dataBytes);
    for (const k of [0, 1, 32767, 32768, frames * FRAME_SAMPLES - 1]) {
      expect(file.readInt16LE(44 + 2 * k)).toBe((k % 65536) - 32768);
    }
    expect(file.readInt16LE(44 + 2 * (frames * FRAME_SAMPLES + 5))).toBe(frame[5]);
  });

  it("keeps every sample in order whatever the mix of whole buffers, partial writes and buffers past the block", () => {
    const path = join(dir, "mixed.wav");
    const w = new WavWriter(path);
    const want: number[] = [];
    let v = 0;
    const buf = (n: number) => Int16Array.from({ length: n }, () => ((v++ * 7919) % 65536) - 32768);
    // Whole frames (the fast path), a partial write, whole buffers of other sizes, one larger than the 64 KiB block.
    const plan: [number, number][] = [
      [FRAME_SAMPLES, FRAME_SAMPLES],
      [FRAME_SAMPLES, 6],
      ...Array.from({ length: 40 }, (): [number, number] => [FRAME_SAMPLES, FRAME_SAMPLES]),
      [2, 2],
      [40_000, 40_000],
      [FRAME_SAMPLES, FRAME_SAMPLES],
      [33_000, 32_998],
      ...Array.from({ length: 30 }, (): [number, number] => [FRAME_SAMPLES, FRAME_SAMPLES]),
    ];
    for (const [length, samples] of plan) {
      const b = buf(length);
      w.write(b, samples);
      want.push(...b.subarray(0, samples));
    }
    expect(w.bytes).toBe(want.length * 2);
    w.close();
    const file = readFileSync(path);
    expect(parse(file).dataSize).toBe(want.length * 2);
    const got = new Int16Array(file.buffer.slice(file.byteOffset + 44, file.byteOffset + file.length));
    expect([...got]).toEqual(want);
  });

  it("writes a valid empty file and refuses use after close or partial sample frames", () => {
    const path = join(dir, "empty.wav");
    const w = new WavWriter(path, { sampleRate: 8000, channels: 1 });
    expect(() => new WavWriter(join(dir, "bad.wav"), { channels: 0 })).toThrow(RangeError);
    w.close();
    const file = readFileSync(path);
    expect(file.length).toBe(44);
    expect(parse(file)).toMatchObject({
      sampleRate: 8000,
      channels: 1,
      byteRate: 16000,
      blockAlign: 2,
      dataSize: 0,
    });
    expect(() => w.write(new Int16Array(2))).toThrow(/closed/);
    const stereo = new WavWriter(join(dir, "odd.wav"));
    expect(() => stereo.write(new Int16Array(3))).toThrow(RangeError);
    expect(() => stereo.write(new Int16Array(4), 6)).toThrow(RangeError);
    stereo.close();
  });

  it("wavHeader matches the canonical layout", () => {
    expect(wavHeader({ sampleRate: 44100, channels: 2 }, 1000).toString("hex")).toBe(
      "52494646" +
        "0c040000" +
        "57415645" +
        "666d7420" +
        "10000000" +
        "0100" +
        "0200" +
        "44ac0000" +
        "10b10200" +
        "0400" +
        "1000" +
        "64617461" +
        "e8030000",
    );
  });
});
