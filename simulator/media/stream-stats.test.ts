import { describe, expect, it } from "vitest";
import { Codec, emptyFrameHeader } from "../../protocol/media.ts";
import { hdrOf, latencySlot, StreamStatsRecorder, slotValue } from "./stream-stats.ts";

// A stream's latency percentiles come from hdr's counts array filled without hdr-histogram-js on the frame path:
// the slot of every value must be hdr's own, and the summary's percentiles must equal those of an hdr histogram
// that recorded the same values one by one (the code this replaced).

const CAP = 60_000_000;

/** Deterministic values across the range: bucket edges, powers of two and their neighbours, log-uniform noise. */
function values(n: number, seed: number): number[] {
  let x = seed >>> 0;
  const rnd = () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
  const out = [0, 1, 2, 127, 128, 129, 255, 256, 257, 511, 512, CAP - 1, CAP];
  for (let k = 1; k < 26; k++) out.push(2 ** k - 1, 2 ** k, 2 ** k + 1);
  while (out.length < n) out.push(Math.min(CAP, Math.floor(Math.exp(rnd() * Math.log(CAP + 1)) - 1)));
  return out;
}

interface HdrInternals {
  countsArrayIndex(v: number): number;
  countsArrayLength: number;
  valueFromIndex(i: number): number;
}

describe("latency slots", () => {
  it("puts every value in the slot hdr-histogram-js would, and maps slots back to hdr's lowest values", () => {
    const h = hdrOf([]) as unknown as HdrInternals;
    expect(h.countsArrayLength).toBe(2560);
    const vs = values(20_000, 7);
    expect(vs.map(latencySlot)).toEqual(vs.map((v) => h.countsArrayIndex(v)));
    const slots = Array.from({ length: h.countsArrayLength }, (_, i) => i);
    expect(slots.map(slotValue)).toEqual(slots.map((i) => h.valueFromIndex(i)));
  });

  it("gives the same percentiles as hdr recording each latency, whatever the distribution", () => {
    const header = emptyFrameHeader();
    header.codec = Codec.Opus;
    for (const [seed, scale] of [
      [1, 1],
      [2, 0.001],
      [3, 0.00002],
      [4, 1],
    ] as const) {
      const rec = new StreamStatsRecorder();
      const lats: number[] = [];
      const now = 1_700_000_000_000_000;
      for (const [i, v] of values(5_000, seed).entries()) {
        const lat = Math.floor(v * scale);
        lats.push(lat);
        header.seq = i;
        header.captureUs = now - lat;
        rec.onFrame(header, 200, now);
      }
      const want = hdrOf(lats);
      const got = rec.latencySummary();
      expect([got.p50, got.p90, got.p99]).toEqual([
        want.getValueAtPercentile(50),
        want.getValueAtPercentile(90),
        want.getValueAtPercentile(99),
      ]);
      expect(got.count).toBe(lats.length);
    }
  });

  it("keeps streams apart: one stream's summary does not see another's latencies", () => {
    const a = new StreamStatsRecorder();
    const b = new StreamStatsRecorder();
    const header = emptyFrameHeader();
    for (let i = 0; i < 100; i++) {
      header.seq = i;
      header.captureUs = 1_000_000 - 50;
      a.onFrame(header, 100, 1_000_000);
      header.captureUs = 1_000_000 - 9_000;
      b.onFrame(header, 100, 1_000_000);
    }
    expect(a.latencySummary().p99).toBe(50);
    expect(b.latencySummary().p50).toBe(hdrOf([9_000]).getValueAtPercentile(50));
    expect(a.latencySummary().p50).toBe(50);
  });
});
