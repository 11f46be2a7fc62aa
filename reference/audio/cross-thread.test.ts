import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { FRAME_FRAMES } from "../mixer/frame.ts";
import { Resampler } from "../mixer/resampler.ts";
import { wavBytes } from "../music/test-fixtures.ts";
import { createAudioArena } from "./shared-arena.ts";
import { copyTrack, parseWavBytes } from "./wav-bytes.ts";

// Real worker threads on one arena: they share one rendering (the same arena bytes, each chunk rendered once by
// whichever thread got there first), read exactly the per-VU resampler's samples, and never see a chunk before
// its renderer has finished it.

const BOOT = new URL("./thread.fixture.mjs", import.meta.url);
const BODY = new URL("./cross-thread.fixture.ts", import.meta.url).href;

function run(data: Record<string, unknown>): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const w = new Worker(BOOT, { workerData: { module: BODY, ...data } });
    w.once("message", (m) => {
      resolve(m as Record<string, unknown>);
      void w.terminate();
    });
    w.once("error", reject);
    w.once("exit", (code) => code !== 0 && reject(new Error(`worker exited with ${code}`)));
  });
}

function noise(i: number, c: number): number {
  let x = (Math.imul(i + 1, 0x9e3779b1) ^ Math.imul(c + 5, 0x85ebca6b)) >>> 0;
  x = Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) >>> 0;
  return ((x >>> 16) - 32768) | 0;
}

function reference(bytes: Uint8Array, frames: number): Int16Array {
  const wav = parseWavBytes(bytes);
  const rs = new Resampler(wav.sampleRate, wav.channels, { maxChunkFrames: wav.frames });
  const input = new Int16Array(wav.frames * wav.channels);
  copyTrack(bytes, wav.dataOffset, wav.channels, 0, wav.frames, 0, wav.channels, input);
  rs.write(input, wav.frames);
  rs.end();
  const out = new Int16Array(frames * FRAME_FRAMES * 2);
  rs.read(out, 0, Math.min(frames * FRAME_FRAMES, rs.totalOutputFrames()));
  return out;
}

describe("shared audio across worker threads", () => {
  it("two threads on one song read one buffer in the arena, rendered once, equal to the per-VU path", async () => {
    const handle = createAudioArena({ bytes: 64 * 1024 ** 2, slots: 64 });
    const bytes = wavBytes(44_100 * 3, 44_100, 2, noise);
    const frames = 320; // 3.2 s: past the end of the 3 s song
    const chunkFrames = 960;
    const common = { task: "song", handle, threads: 2, quality: "sq", frames, chunkFrames };
    const barrier = new SharedArrayBuffer(4);
    const [a, b] = await Promise.all([
      run({ ...common, barrier, bytes: bytes.slice() }),
      run({ ...common, barrier, bytes: bytes.slice() }),
    ]);
    const want = reference(bytes, frames);
    expect(Buffer.from((a!.pcm as Int16Array).buffer).equals(Buffer.from(want.buffer))).toBe(true);
    expect(Buffer.from((b!.pcm as Int16Array).buffer).equals(Buffer.from(want.buffer))).toBe(true);
    expect(a!.inArena).toBe(true);
    expect(b!.contentOffset).toBe(a!.contentOffset); // one copy of the song's bytes
    expect(b!.offsets).toEqual(a!.offsets); // one rendering: the same arena chunks
    const total = Math.ceil(((bytes.length - 44) / 4 / 44_100) * 48_000);
    const chunks = Math.floor(total / chunkFrames) + 1;
    expect(a!.everywhere).toBe(chunks); // each chunk rendered once in the process...
    expect((a!.renders as number) + (b!.renders as number)).toBe(chunks); // ...by one thread or the other
    // The arena holds what the threads read (the test's own view of the SharedArrayBuffer).
    const arena = new Int16Array(handle.data);
    const first = (a!.offsets as number[])[1]! / 2;
    expect(Array.from(arena.subarray(first, first + 1920))).toEqual(
      Array.from(want.subarray(chunkFrames * 2, chunkFrames * 4)),
    );
  }, 60_000);

  it("a reader never sees a chunk its renderer has not finished", async () => {
    const handle = createAudioArena({ bytes: 16 * 1024 ** 2, slots: 16 });
    const barrier = new SharedArrayBuffer(4);
    const common = { task: "slow", handle, barrier, threads: 3, frames: 200, chunkFrames: 960 };
    const got = await Promise.all([run(common), run(common), run(common)]);
    for (const r of got) {
      expect(r.read).toBe(40); // 20 chunks of 2 frames each, then the end
      expect(r.torn).toBe(0);
    }
    expect(got[0]!.everywhere).toBe(21); // 20 chunks and the empty last one, each rendered once
    expect(got.reduce((n, r) => n + (r.renders as number), 0)).toBe(21);
  }, 60_000);
});
