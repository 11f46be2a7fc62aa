import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { WavWriter, wavHeader } from "./wav.ts";
import { WavFileReader } from "./wav-reader.ts";

const dir = mkdtempSync(join(tmpdir(), "ktv-wavr-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function readAll(r: WavFileReader, chunkFrames: number): number[] {
  const out = new Int16Array(chunkFrames * r.channels);
  const all: number[] = [];
  for (let guard = 0; guard < 100_000; guard++) {
    const n = r.read(out, chunkFrames);
    if (n === 0) break;
    for (let i = 0; i < n * r.channels; i++) all.push(out[i]!);
  }
  return all;
}

describe("WavFileReader", () => {
  it("reads back what WavWriter wrote, in any chunking", () => {
    const path = join(dir, "rt.wav");
    const pcm = Int16Array.from({ length: 3001 * 2 }, (_, i) => ((i * 7919) % 65536) - 32768);
    const w = new WavWriter(path, { sampleRate: 44100, channels: 2 });
    w.write(pcm);
    w.close();
    for (const chunk of [1, 7, 480, 5000]) {
      const r = new WavFileReader(path, 512);
      expect([r.sampleRate, r.channels, r.frames]).toEqual([44100, 2, 3001]);
      expect(readAll(r, chunk)).toEqual([...pcm]);
      r.close();
    }
  });

  it("skips unknown chunks, seeks, and counts only the bytes a truncated file holds", () => {
    const path = join(dir, "list.wav");
    const header = wavHeader({ sampleRate: 8000, channels: 1 }, 200);
    const list = Buffer.concat([Buffer.from("LIST"), Buffer.from([3, 0, 0, 0]), Buffer.from("abc\0")]);
    const data = Buffer.alloc(200);
    for (let i = 0; i < 100; i++) data.writeInt16LE(i * 10, i * 2);
    // RIFF, WAVE, fmt chunk, then an odd-sized LIST chunk (padded) before data.
    writeFileSync(path, Buffer.concat([header.subarray(0, 36), list, header.subarray(36), data]));
    const r = new WavFileReader(path);
    expect(r.frames).toBe(100);
    r.seek(90);
    expect(readAll(r, 4)).toEqual([900, 910, 920, 930, 940, 950, 960, 970, 980, 990]);
    r.close();
    truncateSync(path, 36 + 12 + 8 + 51);
    const cut = new WavFileReader(path);
    expect(cut.frames).toBe(25);
    expect(readAll(cut, 100)).toHaveLength(25);
    cut.close();
    expect(() => cut.read(new Int16Array(2), 1)).toThrow(/closed/);
  });

  it("rejects files that are not 16-bit PCM WAV with a clear error", () => {
    const notWav = join(dir, "x.bin");
    writeFileSync(notWav, "hello world, not a wav");
    expect(() => new WavFileReader(notWav)).toThrow(/RIFF/);
    const float = join(dir, "f.wav");
    const h = wavHeader({ sampleRate: 8000, channels: 1 }, 0);
    h.writeUInt16LE(3, 20);
    writeFileSync(float, h);
    expect(() => new WavFileReader(float)).toThrow(/16-bit PCM/);
  });
});
