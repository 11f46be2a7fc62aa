import { describe, expect, it } from "vitest";
import { FrameTicker } from "../../reference/mixer/ticker.ts";
import { VirtualTime } from "../../reference/mixer/virtual-time.ts";
import { quantiles } from "../metrics/hdr.ts";
import { MetricSet } from "../metrics/set.ts";
import { tickerSink } from "./ticker-metrics.ts";

describe("tickerSink: the thread's mixer frames into the run's metrics", () => {
  it("records every device-frame once: frames, late frames, lateness in ms and cost in µs", () => {
    const vt = new VirtualTime();
    const ticker = new FrameTicker({ now: vt.now, scheduler: vt.scheduler });
    // Device b's frame 5 costs 25 ms: a's next frames run 15 ms late, a whole period or more.
    const a = { runFrame: () => vt.spend(0.002), frameFailed: () => {} };
    const b = { runFrame: (n: number) => vt.spend(n === 5 ? 25 : 0.003), frameFailed: () => {} };
    const ta = ticker.attach(a);
    const tb = ticker.attach(b);
    vt.run(2_000);
    while (ta.frames < 20) vt.run(10);
    ticker.detach(ta);
    ticker.detach(tb);
    const set = new MetricSet();
    ticker.drainTo(tickerSink(set));
    const frames = ta.frames + tb.frames;
    expect(set.counter("mix_frames")).toBe(frames);
    expect(set.counter("mix_late_frames")).toBe(ta.lateFrames + tb.lateFrames);
    expect(set.counter("mix_late_frames")).toBeGreaterThan(0);
    const lateness = quantiles(set.trends.get("mix_lateness_ms"));
    expect(lateness.count).toBe(frames);
    expect(lateness.max).toBeCloseTo(15, 1);
    const cost = quantiles(set.trends.get("mix_cost_us"));
    expect(cost.count).toBe(frames);
    expect(cost.max).toBeGreaterThanOrEqual(24_900);

    // Drained: a second drain records nothing.
    const again = new MetricSet();
    ticker.drainTo(tickerSink(again));
    expect(again.empty).toBe(true);
  });
});
