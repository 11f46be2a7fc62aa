import { setImmediate as turn } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { FRAME_FRAMES, FRAME_SAMPLES } from "../mixer/frame.ts";
import { allocStreamHeader, RenderedStream, StreamCursor } from "./rendered-stream.ts";
import { AudioArena, createAudioArena } from "./shared-arena.ts";

/** A stream whose every chunk costs at least `spendMs` of CPU (a busy wait: the queue's budget is in time). */
class SlowStream extends RenderedStream {
  constructor(private readonly spendMs: number) {
    super(480 * 2);
  }
  protected render(out: Int16Array, frames: number): number {
    const until = performance.now() + this.spendMs;
    while (performance.now() < until) {}
    out.fill(1);
    return frames;
  }
}

describe("rendering ahead of readers", () => {
  it("many streams due at once are rendered a few ms per event-loop turn, not all in one", async () => {
    const streams = Array.from({ length: 12 }, () => new SlowStream(1));
    const cursors = streams.map((s) => new StreamCursor(s, 0, () => {}));
    const frame = new Int16Array(FRAME_SAMPLES);
    // Each reader renders its first chunk itself, then enters its last chunk: one render queued per stream.
    for (const c of cursors) c.read(frame);
    const before = streams.reduce((a, s) => a + s.renders, 0);
    expect(before).toBe(12);
    await turn();
    const afterOneTurn = streams.reduce((a, s) => a + s.renders, 0) - before;
    // 2 ms of budget and >= 1 ms per chunk: at most two (the one that crossed the budget included).
    expect(afterOneTurn).toBeGreaterThanOrEqual(1);
    expect(afterOneTurn).toBeLessThanOrEqual(2);
    for (let i = 0; i < 50 && streams.some((s) => s.renders < 2); i++) await turn();
    expect(streams.map((s) => s.renders)).toEqual(streams.map(() => 2));
    for (const c of cursors) c.close();
  });
});

/** A stream of `total` frames whose left and right are both sample(f) (a mono source rendered stereo). */
class RampStream extends RenderedStream {
  constructor(
    private readonly total: number,
    arena: AudioArena,
    mono: boolean,
  ) {
    super(480 * 10, { arena, header: allocStreamHeader(arena, Math.floor(total / 4800) + 1), mono });
  }
  static sample(f: number): number {
    return ((Math.imul(f + 1, 0x9e3779b1) >>> 16) - 32768) | 0;
  }
  protected render(out: Int16Array, frames: number, from: number): number {
    const n = Math.max(0, Math.min(frames, this.total - from));
    for (let f = 0; f < n; f++) out[2 * f] = out[2 * f + 1] = RampStream.sample(from + f);
    return n;
  }
}

describe("shared chunks stored mono (two samples per 32-bit word)", () => {
  it("read back into aligned and unaligned frames, on and off the 10 ms grid, to an odd last frame", () => {
    const arena = new AudioArena(createAudioArena({ bytes: 4 * 1024 ** 2 }));
    const total = 4800 * 2 + 481 + 2; // a partial last chunk with an odd frame count
    const want = (pos: number, out: Int16Array, n: number) => {
      for (let f = 0; f < FRAME_FRAMES; f++) {
        const v = pos + f < n ? RampStream.sample(pos + f) : 0;
        if (out[2 * f] !== v || out[2 * f + 1] !== v)
          return `frame ${pos + f}: ${out[2 * f]},${out[2 * f + 1]} != ${v}`;
      }
      return null;
    };
    for (const mono of [true, false]) {
      const stream = new RampStream(total, arena, mono);
      const aligned = new Int16Array(FRAME_SAMPLES);
      const odd = new Int16Array(new ArrayBuffer(FRAME_SAMPLES * 2 + 2), 2, FRAME_SAMPLES);
      for (const [start, out] of [
        [0, aligned],
        [0, odd],
        [7, aligned], // off the grid: the sample-by-sample path
      ] as const) {
        const c = new StreamCursor(stream, start, () => {});
        for (let pos = start; pos < total + FRAME_FRAMES; pos += FRAME_FRAMES) {
          const n = c.read(out);
          expect(n).toBe(Math.max(0, Math.min(FRAME_FRAMES, total - pos)));
          expect(want(pos, out, total)).toBeNull();
        }
        c.close();
      }
      expect(stream.complete).toBe(true);
      expect(stream.chunkAt(0)!.length).toBe(mono ? 4800 : 9600);
    }
  });
});

/** A stream of `total` frames whose left and right differ (a real stereo song), shared or this thread's own. */
class StereoStream extends RenderedStream {
  constructor(
    private readonly total: number,
    arena: AudioArena | null,
    chunkFrames = 480 * 10,
  ) {
    super(
      chunkFrames,
      arena
        ? { arena, header: allocStreamHeader(arena, Math.floor(total / chunkFrames) + 1), mono: false }
        : null,
    );
  }
  static left(f: number): number {
    return ((Math.imul(f + 7, 0x85ebca6b) >>> 16) - 32768) | 0;
  }
  static right(f: number): number {
    return ((Math.imul(f + 3, 0xc2b2ae35) >>> 16) - 32768) | 0;
  }
  protected render(out: Int16Array, frames: number, from: number): number {
    const n = Math.max(0, Math.min(frames, this.total - from));
    for (let f = 0; f < n; f++) {
      out[2 * f] = StereoStream.left(from + f);
      out[2 * f + 1] = StereoStream.right(from + f);
    }
    return n;
  }
}

describe("stereo chunks (left and right differ)", () => {
  it("read back exactly, shared or not, into aligned and unaligned frames, on and off the grid", () => {
    const total = 4800 * 3 + 960 + 5;
    for (const arena of [new AudioArena(createAudioArena({ bytes: 4 * 1024 ** 2 })), null]) {
      const stream = new StereoStream(total, arena);
      const aligned = new Int16Array(FRAME_SAMPLES);
      const odd = new Int16Array(new ArrayBuffer(FRAME_SAMPLES * 2 + 2), 2, FRAME_SAMPLES);
      for (const [start, out] of [
        [0, aligned],
        [0, odd],
        [4800 - 480, aligned], // the last frame of a chunk, then the next chunk's first
        [13, odd],
      ] as const) {
        const c = new StreamCursor(stream, start, () => {});
        for (let pos = start; pos < total + FRAME_FRAMES; pos += FRAME_FRAMES) {
          const n = c.read(out);
          expect(n).toBe(Math.max(0, Math.min(FRAME_FRAMES, total - pos)));
          for (let f = 0; f < FRAME_FRAMES; f++) {
            const live = pos + f < total;
            const l = live ? StereoStream.left(pos + f) : 0;
            const r = live ? StereoStream.right(pos + f) : 0;
            if (out[2 * f] !== l || out[2 * f + 1] !== r)
              expect(`${pos + f}: ${out[2 * f]},${out[2 * f + 1]}`).toBe(`${pos + f}: ${l},${r}`);
          }
        }
        c.close();
      }
      expect(stream.complete).toBe(true);
    }
  });
});

describe("what a rendered stream keeps per frame", () => {
  it("a mono stream keeps no object per rendered frame, a stereo one a single view per frame", async () => {
    // v8.queryObjects (Node >= 20.13) counts live objects after a full GC. Every stream used to keep one view per
    // 10 ms frame for its life: ~1M objects per worker in rooms-250, nearly all for the mono voices.
    const v8 = await import("node:v8");
    const count = () =>
      (v8.queryObjects(Int16Array, { format: "count" }) as number) +
      (v8.queryObjects(Int32Array, { format: "count" }) as number);
    const arena = new AudioArena(createAudioArena({ bytes: 16 * 1024 ** 2 }));
    const frames = 4_000; // 40 s of 10 ms frames: 400 chunks of 100 ms
    const out = new Int16Array(FRAME_SAMPLES);
    const readAll = (s: RenderedStream) => {
      const c = new StreamCursor(s, 0, () => {});
      while (c.read(out) > 0) {}
      c.close();
      expect(s.complete).toBe(true);
    };
    const before = count();
    const mono = new RampStream(frames * FRAME_FRAMES, arena, true);
    readAll(mono);
    const afterMono = count();
    const stereo = new StereoStream(frames * FRAME_FRAMES, arena);
    readAll(stereo);
    const afterStereo = count();
    // Two views per chunk at most for mono (its chunk and its words), nothing per frame.
    expect(afterMono - before).toBeLessThan(400 * 2 + 25);
    // One view per frame (the allocation-free `set`) plus a couple per chunk.
    expect(afterStereo - afterMono).toBeGreaterThanOrEqual(frames);
    expect(afterStereo - afterMono).toBeLessThan(frames + 400 * 2 + 25);
    expect([mono, stereo].every((s) => s.renderedFrames > 0)).toBe(true); // both alive until after the counts
  });
});
