import { describe, expect, it } from "vitest";
import { allocFrame, FRAME_FRAMES } from "../mixer/frame.ts";
import { Resampler } from "../mixer/resampler.ts";
import { VoiceSource } from "../mixer/voice.ts";
import { MemoryCache } from "../music/cache.ts";
import { wavBytes } from "../music/test-fixtures.ts";
import { trackLayout } from "../player/track-reader.ts";
import { createThreadAudio, type ThreadAudio } from "./index.ts";
import { AudioArena, createAudioArena } from "./shared-arena.ts";
import { voiceProfile } from "./shared-voice.ts";
import { copyTrack, parseWavBytes } from "./wav-bytes.ts";

// The process-wide arena within one thread: two ThreadAudio sets over one arena stand for two worker threads
// (each has its own AudioArena view, its own stores and its own resamplers, as a worker would). Bit-identity is
// checked against a fresh Resampler over the whole track (what the per-VU player's ResampledSource computes) and
// a VoiceSource, with the threads taking turns chunk by chunk, so every chunk after the first is rendered by a
// resampler or voice that did not render the one before it. (Real worker threads: cross-thread.test.ts.)

function noise(seed: number): (i: number, c: number) => number {
  return (i, c) => {
    let x = (Math.imul(i + 1, 0x9e3779b1) ^ Math.imul(c + seed, 0x85ebca6b)) >>> 0;
    x = Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) >>> 0;
    return ((x >>> 16) - 32768) | 0;
  };
}

/** The per-VU path's samples: one resampler over track `track` from input frame `start`, to the end. */
function reference(bytes: Uint8Array, quality: "normal" | "hq" | "sq", track: number, start: number) {
  const wav = parseWavBytes(bytes);
  const layout = trackLayout(wav.channels, quality);
  const ch = layout.channelsPerTrack;
  const rs = new Resampler(wav.sampleRate, ch, { maxChunkFrames: 1024 });
  const input = new Int16Array(1024 * ch);
  const out: number[] = [];
  const buf = new Int16Array(4096 * 2);
  let next = start;
  for (;;) {
    const made = rs.read(buf, 0, 4096);
    for (let i = 0; i < made * 2; i++) out.push(buf[i]!);
    if (made > 0) continue;
    if (rs.drained) break;
    const want = Math.min(1024, rs.writable(), wav.frames - next);
    if (want > 0) {
      copyTrack(bytes, wav.dataOffset, wav.channels, next, want, track * ch, ch, input);
      next += want;
      rs.write(input, want);
    } else rs.end();
  }
  return Int16Array.from(out);
}

/** Reads `frames` 10 ms frames from each reader in turn, a chunk's worth at a time, into one array each. */
function takeTurns(readers: { read(out: Int16Array): number }[], frames: number, perTurn: number) {
  const got = readers.map(() => new Int16Array(frames * FRAME_FRAMES * 2));
  const out = allocFrame();
  for (let f = 0; f < frames; f += perTurn) {
    for (let r = 0; r < readers.length; r++) {
      for (let k = f; k < Math.min(frames, f + perTurn); k++) {
        readers[(r + f / perTurn) % readers.length]!.read(out);
        got[(r + f / perTurn) % readers.length]!.set(out, k * FRAME_FRAMES * 2);
      }
    }
  }
  return got;
}

function firstDiff(a: Int16Array, b: Int16Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

function twoThreads(bytes = 64 * 1024 ** 2, monoStorage = true): [ThreadAudio, ThreadAudio, AudioArena] {
  const handle = createAudioArena({ bytes, slots: 256 });
  // Small chunks: many turns in a short song.
  const a = createThreadAudio({
    arena: new AudioArena(handle),
    chunkFrames: 960,
    monoStorage,
    voiceMonoStorage: monoStorage,
  });
  const b = createThreadAudio({
    arena: new AudioArena(handle),
    chunkFrames: 960,
    monoStorage,
    voiceMonoStorage: monoStorage,
  });
  return [a, b, new AudioArena(handle)];
}

const FIXTURES = [
  { name: "8 kHz mono", rate: 8000, ch: 1, quality: "normal" as const, frames: 9_001 },
  { name: "10 kHz stereo", rate: 10_000, ch: 2, quality: "hq" as const, frames: 11_111 },
  { name: "44.1 kHz stereo", rate: 44_100, ch: 2, quality: "sq" as const, frames: 40_001 },
  { name: "dual mono 8 kHz", rate: 8000, ch: 2, quality: "normal" as const, frames: 8_765 },
  { name: "96 kHz stereo", rate: 96_000, ch: 2, quality: "sq" as const, frames: 70_003 },
  { name: "48 kHz stereo", rate: 48_000, ch: 2, quality: "sq" as const, frames: 30_007 },
];

describe("process-wide shared audio (one arena, threads taking turns)", () => {
  for (const fx of FIXTURES) {
    it(`${fx.name}: both threads read one rendering, bit-identical to the per-VU resampler, from 0 and a seek, mono and stereo storage`, () => {
      const bytes = wavBytes(fx.frames, fx.rate, fx.ch, noise(fx.frames));
      const tracks = trackLayout(fx.ch, fx.quality).tracks;
      for (const [start, monoStorage] of [
        [0, true],
        [1234, true],
        [0, false],
      ] as const) {
        for (let track = 0; track < tracks; track++) {
          const [a, b] = twoThreads(undefined, monoStorage);
          const sa = a.songs.open(bytes.slice(), fx.quality);
          const sb = b.songs.open(bytes.slice(), fx.quality);
          expect(sa.content.shared).toBe(true);
          expect(sb.content.id).toBe(sa.content.id);
          expect(sb.content.bytes.buffer).toBe(sa.content.bytes.buffer);
          const ca = sa.cursor(track, start);
          const cb = sb.cursor(track, start);
          expect(ca.stream).not.toBe(cb.stream); // each thread its own view...
          const want = reference(bytes, fx.quality, track, start);
          const frames = Math.ceil(want.length / 2 / FRAME_FRAMES) + 3; // to past the end
          const [ga, gb] = takeTurns([ca, cb], frames, 2);
          const padded = new Int16Array(ga!.length);
          padded.set(want);
          expect(firstDiff(ga!, padded)).toBe(-1);
          expect(firstDiff(gb!, padded)).toBe(-1);
          // ...of one buffer: the same arena bytes, rendered once (each chunk by one of the two threads).
          expect(cb.stream.chunkAt(0)!.buffer).toBe(ca.stream.chunkAt(0)!.buffer);
          expect(cb.stream.chunkAt(1000)!.byteOffset).toBe(ca.stream.chunkAt(1000)!.byteOffset);
          // Every chunk once, to the (partial or empty) last one: none twice.
          expect(ca.stream.rendersEverywhere).toBe(Math.floor(want.length / 2 / 960) + 1);
          expect(ca.stream.rendersEverywhere).toBe(ca.stream.renders + cb.stream.renders);
          expect(ca.stream.renders).toBeGreaterThan(0);
          expect(cb.stream.renders).toBeGreaterThan(0);
          // A mono track is stored mono when asked: half the bytes.
          const mono = monoStorage && trackLayout(fx.ch, fx.quality).channelsPerTrack === 1;
          expect(ca.stream.chunkAt(0)!.length).toBe(mono ? 960 : 1920);
          expect(ca.stream.bytes).toBe(0); // nothing of this thread's own
          ca.close();
          cb.close();
        }
      }
    });
  }

  it("voices: one rendering per (pitch line, profile, start) for both threads, equal to a VoiceSource", () => {
    const pitch = [
      { begin_time: 0, duration: 400, value: 60 },
      { begin_time: 450, duration: 700, value: 64 },
      { begin_time: 1300, duration: 500, value: 67 },
    ];
    for (const [startMs, mono] of [
      [0, true],
      [455, true],
      [455, false],
    ] as const) {
      const [a, b] = twoThreads(undefined, mono);
      const p = voiceProfile(3);
      const ca = a.voices.cursor(pitch, p, startMs);
      const cb = b.voices.cursor(
        pitch.map((n) => ({ ...n })),
        p,
        startMs,
      );
      const ref = new VoiceSource(pitch, { ...p, startMs });
      const frames = 200;
      const want = new Int16Array(frames * FRAME_FRAMES * 2);
      const out = allocFrame();
      for (let f = 0; f < frames; f++) {
        ref.read(out);
        want.set(out, f * FRAME_FRAMES * 2);
      }
      const [ga, gb] = takeTurns([ca, cb], frames, 2);
      expect(firstDiff(ga!, want)).toBe(-1);
      expect(firstDiff(gb!, want)).toBe(-1);
      expect(cb.stream.chunkAt(0)!.byteOffset).toBe(ca.stream.chunkAt(0)!.byteOffset);
      expect(ca.stream.chunkAt(0)!.length).toBe(mono ? 960 : 1920);
      expect(ca.stream.renders).toBeGreaterThan(0);
      expect(cb.stream.renders).toBeGreaterThan(0);
      ca.close();
      cb.close();
    }
  });

  it("content: equal bytes are one arena copy for every thread, different bytes with one hint are not", () => {
    const [a, b, arena] = twoThreads();
    const x = new Uint8Array(200_000).fill(7);
    const y = x.slice();
    y[5000] = 8; // between the hint's stripes: same hint, different content
    const used = arena.usedBytes;
    const ra = a.pool.intern(x);
    const rb = b.pool.intern(x.slice());
    const ry = b.pool.intern(y);
    expect(rb.id).toBe(ra.id);
    expect(rb.bytes).not.toBe(ra.bytes); // each thread its own view...
    expect(rb.bytes.byteOffset).toBe(ra.bytes.byteOffset); // ...of one copy
    expect(ry.id).not.toBe(ra.id);
    expect(Buffer.from(ry.bytes).equals(Buffer.from(y))).toBe(true);
    // x against the arena's x (equal); y against this thread's x, then the arena's x (both different).
    expect(b.pool.compares).toBe(3);
    // Two copies in the arena (x and y), not three.
    expect(arena.usedBytes - used).toBeLessThan(2 * 200_000 + 4096);
  });

  it("a VU's memory download cache keeps the arena's copy, not its own downloaded bytes", async () => {
    const [a, b] = twoThreads();
    const song = wavBytes(9_000, 8000, 1, noise(11));
    const key = { vendorID: 0, songID: "s", resourceType: 1, quality: 0 };
    const held: Uint8Array[] = [];
    for (const t of [a, b, b]) {
      const cache = new MemoryCache(t.pool);
      const part = await cache.begin(key, song.length);
      await part.write(song.slice(), 0);
      await cache.commit(key, part, { etag: "e", size: await part.finish() });
      held.push(cache.locate(key)!.bytes);
    }
    for (const bytes of held) {
      expect(bytes.buffer).toBeInstanceOf(SharedArrayBuffer); // the download itself is garbage once verified
      expect(bytes.byteOffset).toBe(held[0]!.byteOffset);
      expect(Buffer.from(bytes).equals(Buffer.from(song))).toBe(true);
    }
  });

  it("a full arena: streams go on in each thread's own memory, still bit-identical", () => {
    const fx = FIXTURES[2]!;
    const bytes = wavBytes(fx.frames, fx.rate, fx.ch, noise(7));
    // Room for the song, the keys and headers and a few chunks, not the whole rendering.
    const [a, b, arena] = twoThreads(bytes.length + 64 * 1024);
    const sa = a.songs.open(bytes.slice(), fx.quality);
    const sb = b.songs.open(bytes.slice(), fx.quality);
    expect(sa.content.shared).toBe(true);
    const ca = sa.cursor(0, 0);
    const cb = sb.cursor(0, 0);
    const want = reference(bytes, fx.quality, 0, 0);
    const frames = Math.ceil(want.length / 2 / FRAME_FRAMES) + 2;
    const [ga, gb] = takeTurns([ca, cb], frames, 3);
    const padded = new Int16Array(ga!.length);
    padded.set(want);
    expect(firstDiff(ga!, padded)).toBe(-1);
    expect(firstDiff(gb!, padded)).toBe(-1);
    expect(ca.stream.bytes).toBeGreaterThan(0); // the rest rendered in the thread's own memory
    expect(arena.usedBytes).toBeLessThanOrEqual(arena.capacityBytes);
  });

  it("a song too big for the arena is held and rendered per thread, as without one", () => {
    const bytes = wavBytes(20_000, 8000, 1, noise(3));
    const [a] = twoThreads(16 * 1024);
    const s = a.songs.open(bytes, "normal");
    expect(s.content.shared).toBe(false);
    const c = s.cursor(0, 0);
    const [got] = takeTurns([c], 30, 1);
    const want = reference(bytes, "normal", 0, 0).subarray(0, 30 * FRAME_FRAMES * 2);
    expect(firstDiff(got!, want)).toBe(-1);
    expect(c.stream.shared).toBe(false);
  });
});
