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
