import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type PerformanceEntry, PerformanceObserver } from "node:perf_hooks";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, describe, expect, it } from "vitest";
import { SharedAudioStore } from "../audio/shared-audio.ts";
import { allocFrame, FRAME_FRAMES } from "../mixer/frame.ts";
import { tempDir, wavBytes } from "../music/test-fixtures.ts";
import { MediaPlayerFactory } from "./factory.ts";
import type { ZegoMediaPlayer } from "./media-player.ts";
import type { PlayableLookup } from "./resources.ts";
import { ZegoMediaPlayerState as S } from "./state.ts";

// The shared path against the per-VU path it replaces, through the whole player: the same file, track and
// start position must give the same samples, the same real-frame counts, progress, end and states.

const tmp = tempDir("ktv-shared-player-");
afterAll(() => tmp.remove());

/** Deterministic broadband noise (an LCG), so every filter tap matters; per channel a different stream. */
function noise(seed: number): (i: number, c: number) => number {
  return (i, c) => {
    let x = (Math.imul(i + 1, 0x9e3779b1) ^ Math.imul(c + seed, 0x85ebca6b)) >>> 0;
    x = Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) >>> 0;
    return ((x >>> 16) - 32768) | 0;
  };
}

interface Fixture {
  name: string;
  quality: "normal" | "hq" | "sq";
  bytes: Uint8Array;
  path: string;
}

function fixture(
  name: string,
  quality: Fixture["quality"],
  frames: number,
  rate: number,
  ch: number,
): Fixture {
  const bytes = wavBytes(frames, rate, ch, noise(name.length));
  const path = join(tmp.dir, `${name}.wav`);
  writeFileSync(path, bytes);
  return { name, quality, bytes, path };
}

// Odd lengths, so the last frame is partial: the end must match too.
const FIXTURES: Fixture[] = [
  fixture("normal-8k-mono", "normal", 12_345, 8000, 1),
  fixture("hq-10k-stereo", "hq", 15_432, 10_000, 2),
  fixture("sq-44k1-stereo", "sq", 66_789, 44_100, 2),
  fixture("normal-dual", "normal", 12_001, 8000, 2),
  fixture("hq-dual", "hq", 14_999, 10_000, 4),
];

async function playerOf(lookup: PlayableLookup): Promise<ZegoMediaPlayer> {
  const f = new MediaPlayerFactory({ resources: { resolvePlayable: () => lookup } });
  const p = await f.createMediaPlayer();
  await p.setProgressInterval(100);
  return p;
}

interface Trace {
  pcm: Int16Array[];
  counts: number[];
  progress: number[];
  states: number[];
}

async function trace(p: ZegoMediaPlayer, frames: number, setup: (p: ZegoMediaPlayer) => Promise<void>) {
  const t: Trace = { pcm: [], counts: [], progress: [], states: [] };
  p.on("onMediaPlayerPlayingProgress", (_p, ms) => t.progress.push(ms));
  p.on("onMediaPlayerStateUpdate", (_p, st) => t.states.push(st));
  await setup(p);
  const out = allocFrame();
  for (let i = 0; i < frames; i++) {
    t.counts.push(p.source.read(out));
    t.pcm.push(out.slice());
  }
  return t;
}

function expectSame(a: Trace, b: Trace): void {
  expect(b.counts).toEqual(a.counts);
  expect(b.progress).toEqual(a.progress);
  expect(b.states).toEqual(a.states);
  for (let i = 0; i < a.pcm.length; i++) {
    if (!Buffer.from(a.pcm[i]!.buffer).equals(Buffer.from(b.pcm[i]!.buffer))) {
      throw new Error(`frame ${i} differs`);
    }
  }
}

describe("shared playback is bit-identical to the per-VU path", () => {
  for (const f of FIXTURES) {
    for (const startMs of [0, 777]) {
      it(`${f.name}, from ${startMs} ms, every track, to past the end`, async () => {
        const store = new SharedAudioStore({ chunkFrames: 4800 });
        const probe = await playerOf({ errorCode: 0, path: f.path, quality: f.quality });
        await probe.loadCopyrightedMusicResourceWithPosition("x", 0);
        const tracks = await probe.getAudioTrackCount();
        const durationMs = await probe.getTotalDuration();
        expect(tracks).toBe(f.name.endsWith("dual") ? 2 : 1);
        const frames = Math.ceil((durationMs - startMs) / 10) + 3;
        for (let track = 0; track < tracks; track++) {
          const setup = async (p: ZegoMediaPlayer) => {
            expect(await p.loadCopyrightedMusicResourceWithPosition("x", startMs)).toEqual({ errorCode: 0 });
            await p.setAudioTrackIndex(track);
            await p.start();
          };
          const old = await trace(
            await playerOf({ errorCode: 0, path: f.path, quality: f.quality }),
            frames,
            setup,
          );
          // From the file on disk, and from bytes in memory: both through the shared store.
          const fromDisk = await trace(
            await playerOf({ errorCode: 0, path: f.path, quality: f.quality, audio: store }),
            frames,
            setup,
          );
          const fromMemory = await trace(
            await playerOf({
              errorCode: 0,
              path: "mem",
              bytes: f.bytes.slice(),
              quality: f.quality,
              audio: store,
            }),
            frames,
            setup,
          );
          expect(old.states.at(-1)).toBe(S.PlayEnded);
          // The partial last frame is compared too.
          expect(old.counts.some((n) => n > 0 && n < FRAME_FRAMES)).toBe(true);
          expectSame(old, fromDisk);
          expectSame(old, fromMemory);
        }
      });
    }
  }

  it("a seek mid-play and a replay after the end match the per-VU path", async () => {
    const f = FIXTURES[2]!;
    const store = new SharedAudioStore({ chunkFrames: 4800 });
    const script = async (p: ZegoMediaPlayer) => {
      const out = allocFrame();
      const got: number[] = [];
      await p.loadCopyrightedMusicResourceWithPosition("x", 100);
      await p.start();
      for (let i = 0; i < 20; i++) got.push(p.source.read(out), out[7]!, out[500]!);
      expect(await p.seekTo(1200)).toEqual({ errorCode: 0 });
      for (let i = 0; i < 40; i++) got.push(p.source.read(out), out[3]!, out[901]!);
      expect(await p.getCurrentState()).toBe(S.PlayEnded);
      await p.start();
      for (let i = 0; i < 5; i++) got.push(p.source.read(out), out[0]!, out[959]!);
      got.push(await p.getCurrentProgress());
      return got;
    };
    const old = await script(await playerOf({ errorCode: 0, path: f.path, quality: f.quality }));
    const shared = await script(
      await playerOf({ errorCode: 0, path: f.path, quality: f.quality, audio: store }),
    );
    expect(shared).toEqual(old);
  });

  it("seeks off the grid (1234 ms), back within the same grid cell, and across tracks match the per-VU path", async () => {
    for (const f of [FIXTURES[2]!, FIXTURES[4]!]) {
      const store = new SharedAudioStore({ chunkFrames: 4800 });
      const script = async (p: ZegoMediaPlayer) => {
        const out = allocFrame();
        const got: number[] = [];
        const take = (n: number) => {
          for (let i = 0; i < n; i++) got.push(p.source.read(out), out[11]!, out[700]!);
        };
        await p.loadCopyrightedMusicResourceWithPosition("x", 0);
        await p.start();
        take(5);
        expect(await p.seekTo(1234)).toEqual({ errorCode: 0 });
        if ((await p.getAudioTrackCount()) === 2) await p.setAudioTrackIndex(1);
        take(6);
        got.push(await p.getCurrentProgress());
        expect(await p.seekTo(1264)).toEqual({ errorCode: 0 }); // restarts at 1204 too: the cursor moves
        take(4);
        expect(await p.seekTo(333)).toEqual({ errorCode: 0 });
        take(3);
        got.push(await p.getCurrentProgress());
        return got;
      };
      const old = await script(await playerOf({ errorCode: 0, path: f.path, quality: f.quality }));
      const shared = await script(
        await playerOf({ errorCode: 0, path: f.path, quality: f.quality, audio: store }),
      );
      expect(shared).toEqual(old);
    }
  });

  it("a seek inside the grid cell it is in moves the cursor: no stream opened; VUs seeking to one second share", async () => {
    const f = FIXTURES[2]!;
    const store = new SharedAudioStore({ chunkFrames: 4800 });
    const a = await playerOf({ errorCode: 0, path: f.path, quality: f.quality, audio: store });
    const b = await playerOf({ errorCode: 0, path: f.path, quality: f.quality, audio: store });
    const out = allocFrame();
    for (const p of [a, b]) {
      await p.loadCopyrightedMusicResourceWithPosition("x", 0);
      await p.start();
      p.source.read(out);
    }
    const streams0 = store.stats.streams;
    expect(await a.seekTo(70)).toEqual({ errorCode: 0 });
    a.source.read(out);
    expect(store.stats.streams).toBe(streams0); // 70 ms restarts at 0: the stream it holds
    expect(await a.seekTo(1000)).toEqual({ errorCode: 0 });
    expect(await b.seekTo(1000)).toEqual({ errorCode: 0 });
    a.source.read(out);
    b.source.read(out);
    expect(store.stats.streams).toBe(streams0 + 1); // one new stream for both
    expect(await a.getCurrentProgress()).toBe(1010);
  });

  it("an 8 kHz memory file without a store plays through the bytes reader, identical to the file", async () => {
    const f = FIXTURES[3]!;
    const setup = async (p: ZegoMediaPlayer) => {
      await p.loadCopyrightedMusicResourceWithPosition("x", 250);
      await p.setAudioTrackIndex(1);
      await p.start();
    };
    const old = await trace(await playerOf({ errorCode: 0, path: f.path, quality: f.quality }), 150, setup);
    const mem = await trace(
      await playerOf({ errorCode: 0, path: "mem", bytes: readFileSync(f.path), quality: f.quality }),
      150,
      setup,
    );
    expectSame(old, mem);
  });
});

describe("sharing", () => {
  it("two players on one song read one buffer rendered by one resampler", async () => {
    const f = FIXTURES[0]!;
    const store = new SharedAudioStore({ chunkFrames: 4800 });
    const a = await playerOf({ errorCode: 0, path: f.path, quality: f.quality, audio: store });
    // The other VU downloaded its own copy: equal bytes, another buffer.
    const b = await playerOf({
      errorCode: 0,
      path: "mem",
      bytes: f.bytes.slice(),
      quality: f.quality,
      audio: store,
    });
    for (const p of [a, b]) {
      await p.loadCopyrightedMusicResourceWithPosition("x", 0);
      await p.start();
    }
    const oa = allocFrame();
    const ob = allocFrame();
    for (let i = 0; i < 30; i++) {
      a.source.read(oa);
      b.source.read(ob);
      expect(ob).toEqual(oa);
    }
    const stats = store.stats;
    expect(stats.created).toBe(1); // one stream, so one resampler
    expect(stats.contents).toBe(1); // one copy of the song's bytes
    const pa = (a as unknown as { playback: { stream: { chunkAt(f: number): Int16Array } } }).playback;
    const pb = (b as unknown as { playback: { stream: { chunkAt(f: number): Int16Array } } }).playback;
    expect(pa.stream).toBe(pb.stream);
    expect(pa.stream.chunkAt(0)!.buffer).toBe(pb.stream.chunkAt(0)!.buffer);
    // 30 frames = 14,400 output frames = three 4,800-frame chunks rendered once, for both readers.
    expect((pa.stream as unknown as { renders: number }).renders).toBe(3);
    await a.stop();
    await b.stop();
    expect(store.stats.idle).toBe(1);
  });

  it("a track switch moves to the other track's stream at the same position, sample-accurately", async () => {
    const f = FIXTURES[4]!;
    const store = new SharedAudioStore({ chunkFrames: 4800 });
    const p = await playerOf({ errorCode: 0, path: f.path, quality: f.quality, audio: store });
    const ref = await playerOf({ errorCode: 0, path: f.path, quality: f.quality });
    await p.loadCopyrightedMusicResourceWithPosition("x", 200);
    await ref.loadCopyrightedMusicResourceWithPosition("x", 200);
    await ref.setAudioTrackIndex(1);
    await p.start();
    await ref.start();
    const out = allocFrame();
    const want = allocFrame();
    for (let i = 0; i < 12; i++) {
      p.source.read(out);
      ref.source.read(want);
    }
    await p.setAudioTrackIndex(1);
    expect(await p.getCurrentProgress()).toBe(320);
    for (let i = 0; i < 10; i++) {
      p.source.read(out);
      ref.source.read(want);
      expect(out).toEqual(want); // track 1 from 200 ms, as if it had played from the start
    }
    await expect(p.setAudioTrackIndex(2)).rejects.toMatchObject({ code: 1008040 });
  });

  it("a file that is not a WAV is 1017015 through the shared path too", async () => {
    const store = new SharedAudioStore();
    const bytes = new TextEncoder().encode("RIFF....WAVEnot really");
    const p = await playerOf({ errorCode: 0, path: "mem", bytes, quality: "normal", audio: store });
    expect(await p.loadCopyrightedMusicResourceWithPosition("x", 0)).toEqual({ errorCode: 1017015 });
    expect(store.stats.contents).toBe(0);
  });
});

function pullFrames(p: ZegoMediaPlayer, frames: number, out: Int16Array): void {
  for (let i = 0; i < frames; i++) p.source.read(out);
}

describe("steady state", () => {
  it("reading shared audio allocates nothing (cursor -> one TypedArray.set per frame)", async () => {
    const bytes = wavBytes(240_000, 8000, 2, (i, c) => ((i * 37) % 4000) - (c ? 1000 : 2000)); // 30 s
    const store = new SharedAudioStore();
    const lookup: PlayableLookup = { errorCode: 0, path: "mem", bytes, quality: "normal", audio: store };
    // A first VU plays the whole song: the rendering exists before the measured VU reads it.
    const first = await playerOf(lookup);
    await first.loadCopyrightedMusicResourceWithPosition("x", 0);
    await first.setAudioTrackIndex(1);
    await first.start();
    const out = allocFrame();
    for (let i = 0; i < 3000; i++) first.source.read(out);
    const p = await playerOf(lookup);
    await p.setProgressInterval(0);
    await p.loadCopyrightedMusicResourceWithPosition("x", 0);
    await p.setAudioTrackIndex(1);
    await p.start();
    const FRAMES = 2000;
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const gcs: PerformanceEntry[] = [];
    const observer = new PerformanceObserver((list) => gcs.push(...list.getEntries()));
    observer.observe({ entryTypes: ["gc"] });
    try {
      for (let i = 0; i < 1500; i++) p.source.read(out); // warm up the JIT
      const windows: { from: number; to: number; grew: number }[] = [];
      // As in media-player.test.ts "steady state": one clean window (no collection, < 4 bytes per frame).
      const clean = (w: { from: number; to: number; grew: number }) =>
        w.grew < 4 * FRAMES && !gcs.some((g) => g.startTime >= w.from && g.startTime <= w.to);
      for (let w = 0; w < 10; w++) {
        expect(await p.seekTo(0)).toEqual({ errorCode: 0 }); // outside the window: a seek may allocate
        p.source.read(out); // the seek's cursor opens its stream on the first pull's side of the window
        await new Promise((r) => setTimeout(r, 10));
        gc();
        const before = process.memoryUsage().heapUsed;
        const from = performance.now();
        pullFrames(p, FRAMES, out);
        const to = performance.now();
        windows.push({ from, to, grew: process.memoryUsage().heapUsed - before });
        await new Promise((r) => setTimeout(r, 20));
        if (clean(windows.at(-1)!)) break;
      }
      expect(windows.filter(clean).length, JSON.stringify(windows.map((w) => w.grew))).toBe(1);
      // Track 1 from 0 is the one stream read by both VUs, through every seek; the track-0 stream each load
      // opened and nobody read was dropped at the switch.
      expect(store.stats).toMatchObject({ created: 3, streams: 1, idle: 0 });
    } finally {
      observer.disconnect();
    }
  });
});
