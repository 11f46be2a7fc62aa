import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64 } from "hdr-histogram-js";
import { describe, expect, it } from "vitest";
import { Recorder } from "./result.ts";

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
