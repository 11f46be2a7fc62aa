import { setImmediate as turn } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { FRAME_SAMPLES } from "../mixer/frame.ts";
import { RenderedStream, StreamCursor } from "./rendered-stream.ts";

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
