import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64 } from "hdr-histogram-js";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { PipelineEvent } from "./events.ts";
import { markFirstPacket, Recorder } from "./result.ts";

// The Recorder's listener latency: made on the first value (a load VU never records one, and the histogram
// was 68 KB of every VU), and when made, the same numbers as the eagerly built histogram it replaces.

/** The histogram every Recorder used to build up front, with the same values recorded directly. */
function direct(values: number[]) {
  const h = build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
  for (const v of values) h.recordValue(v > 0 ? Math.floor(v) : 0);
  return h;
}

describe("Recorder latency", () => {
  it("makes no histogram before the first latency, and reports none", () => {
    const rec = new Recorder();
    expect(rec.hasLatencyHistogram).toBe(false);
    expect(rec.latencyCount).toBe(0);
    expect(rec.latencyP50Ms()).toBe(0);
    expect(rec.latencySummary()).toBeNull();
    expect(rec.latencyHistogram()).toBeNull();
    expect(rec.hasLatencyHistogram).toBe(false);
  });

  it("once recorded, summarises and encodes what a histogram of the same values does", () => {
    // Sub-ms to tens of seconds, a negative (a clock step) and fractions: µs.
    const values = [-5, 0, 0.7, 812.4, 19_000, 19_001, 250_000, 3_100_000, 45_000_000];
    for (let i = 0; i < 500; i++) values.push((i * 7919) % 40_000);
    const rec = new Recorder();
    for (const v of values) rec.recordLatency(v);
    const h = direct(values);
    expect(rec.hasLatencyHistogram).toBe(true);
    expect(rec.latencyCount).toBe(values.length);
    expect(rec.latencySummary()).toEqual({
      count: values.length,
      p50: h.getValueAtPercentile(50) / 1000,
      p90: h.getValueAtPercentile(90) / 1000,
      p99: h.getValueAtPercentile(99) / 1000,
      max: h.maxValue / 1000,
      mean: h.mean / 1000,
    });
    expect(rec.latencyP50Ms()).toBe(h.getValueAtPercentile(50) / 1000);
    // The encoding is the same bytes: a runner merging runs' histograms reads the same counts.
    expect(rec.latencyHistogram()).toBe(encodeIntoCompressedBase64(h));
    expect(decodeFromCompressedBase64(rec.latencyHistogram()!).totalCount).toBe(values.length);
  });
});

describe("time to first audio ends at the first packet handed to the media socket", () => {
  afterEach(() => vi.restoreAllMocks());

  /** A Recorder on a virtual clock that reads `now.ms`, picked at 40 ms. */
  function pickedRecorder(events: PipelineEvent[]) {
    const now = { ms: 1000 };
    vi.spyOn(performance, "now").mockImplementation(() => now.ms);
    const rec = new Recorder((e) => events.push(e));
    now.ms += 40;
    rec.pickedAt = rec.sinceStart();
    return { rec, now };
  }

  it("frame 0 (mixed, no packet yet) does not end it; frame 1's packet does, once, all marks the same instant", () => {
    const events: PipelineEvent[] = [];
    const { rec, now } = pickedRecorder(events);
    // The publish tick of frame 0: its mix is done, the packet needs frame 1 too.
    now.ms += 150;
    rec.phase("first_frame");
    expect(markFirstPacket(rec, 0)).toBe(false);
    expect(rec.stages.pick_to_first_packet_ms).toBeNull();
    expect(rec.stages.ttfa_ms).toBeNull();
    // Frame 1, one 10 ms period later: the packet (frames 0 and 1) went out before the handler ran.
    now.ms += 10;
    expect(markFirstPacket(rec, 1)).toBe(true);
    expect(rec.stages.pick_to_first_packet_ms).toBe(160);
    expect(rec.phases.first_frame).toBe(150);
    expect(rec.phases.first_packet).toBe(160);
    expect(rec.stages.ttfa_ms).toBe(200);
    // The former name carries the same value for clients that read it.
    expect(rec.stages.pick_to_audio_ms).toBe(160);
    expect(events).toEqual([{ type: "first_audio", ttfa_ms: 200 }]);
    // Later packets change nothing.
    now.ms += 500;
    expect(markFirstPacket(rec, 7)).toBe(false);
    expect(rec.stages.pick_to_first_packet_ms).toBe(160);
    expect(events).toHaveLength(1);
  });

  it("without a pick (a listener, or a song named up front with no pick mark) only ttfa_ms is set", () => {
    const now = { ms: 5 };
    vi.spyOn(performance, "now").mockImplementation(() => now.ms);
    const rec = new Recorder();
    now.ms += 90;
    expect(markFirstPacket(rec, 1)).toBe(true);
    expect(rec.stages.ttfa_ms).toBe(90);
    expect(rec.stages.pick_to_first_packet_ms).toBeNull();
    expect(rec.phases.first_packet).toBeNull();
  });
});
