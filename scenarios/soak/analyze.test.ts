import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, formatSoak, type P99Point, type SoakSample, slope, soakVerdict } from "./analyze.ts";

// The soak verdict on synthetic series whose leak is known: a steady heap, RSS or fd climb and a p99 drift each
// fail it with the reason named; a flat run with GC sawtooth, a warm-up step and latency noise passes.

const MIN = 60;
/** 30 minutes sampled every 10 s: heap(t), rss(t), fds(t) from the given functions of minutes. */
function series(f: {
  heap?: (m: number, i: number) => number;
  rss?: (m: number) => number;
  fds?: (m: number) => number;
}) {
  const out: SoakSample[] = [];
  for (let i = 0; i <= 180; i++) {
    const t = i * 10;
    const m = t / MIN;
    out.push({
      t_s: t,
      heap: 60e6 + (f.heap?.(m, i) ?? 0),
      rss: 300e6 + (f.rss?.(m) ?? 0),
      fds: 40 + Math.round(f.fds?.(m) ?? 0),
    });
  }
  return out;
}
const sawtooth = (_m: number, i: number) => (i % 6) * 2e6; // GC-like +-6 MB zigzag
const warmup = (m: number) => (m < 3 ? m * 20e6 : 60e6); // caches fill in the first 3 minutes, then flat
const steadyP99 = (ms: number, drift = 0): P99Point[] =>
  Array.from({ length: 180 }, (_, i) => ({
    t_s: i * 10,
    p99: ms + ((i * 7919) % 13) - 6 + (drift * i) / 180,
  }));

describe("slope", () => {
  it("is the least-squares slope, 0 on fewer than two points or one time", () => {
    expect(
      slope([
        { t: 0, v: 1 },
        { t: 1, v: 3 },
        { t: 2, v: 5 },
      ]),
    ).toBeCloseTo(2, 12);
    expect(
      slope([
        { t: 0, v: 1 },
        { t: 1, v: 0 },
        { t: 2, v: 1 },
        { t: 3, v: 0 },
      ]),
    ).toBeCloseTo(-0.2, 12);
    expect(slope([{ t: 0, v: 1 }])).toBe(0);
    expect(
      slope([
        { t: 5, v: 1 },
        { t: 5, v: 9 },
      ]),
    ).toBe(0);
  });
});

describe("soak verdict", () => {
  it("passes a flat run with GC sawtooth, a warm-up step and latency noise", () => {
    const r = soakVerdict(
      series({ heap: (m, i) => sawtooth(m, i) + warmup(m), rss: warmup, fds: (m) => (m < 1 ? 10 : 12) }),
      steadyP99(80),
      "pick_to_first_packet_ms",
    );
    expect(r.reasons).toEqual([]);
    expect(r.pass).toBe(true);
    expect(Math.abs(r.heap.slope_bytes_per_min)).toBeLessThan(0.1e6);
    expect(r.fds).toMatchObject({ start: 52, end: 52, max: 52 });
    expect(formatSoak(r)).toMatch(/verdict: PASS/);
  });

  it("catches a heap leak of 2 MB/min under the sawtooth, and says how steep", () => {
    const r = soakVerdict(
      series({ heap: (m, i) => sawtooth(m, i) + 2e6 * m }),
      steadyP99(80),
      "pick_to_first_packet_ms",
    );
    expect(r.pass).toBe(false);
    expect(r.heap.slope_bytes_per_min).toBeGreaterThan(1.9e6);
    expect(r.heap.slope_bytes_per_min).toBeLessThan(2.1e6);
    expect(r.reasons).toEqual([expect.stringMatching(/^heap climbs 2\.0\d MB\/min after the warm-up/)]);
  });

  it("catches a leak just over the limit and passes one just under it", () => {
    const at = (k: number) =>
      soakVerdict(series({ heap: (m) => k * DEFAULT_LIMITS.heapBytesPerMin * m }), steadyP99(80), "x").pass;
    expect(at(1.1)).toBe(false);
    expect(at(0.9)).toBe(true);
  });

  it("catches an RSS climb, an fd leak and a p99 drift, each named", () => {
    const r = soakVerdict(
      series({ rss: (m) => 10e6 * m, fds: (m) => m * 2 }),
      steadyP99(80, 200),
      "pick_to_first_packet_ms",
    );
    expect(r.pass).toBe(false);
    expect(r.reasons).toEqual([
      expect.stringMatching(/^RSS climbs 10\.00 MB\/min/),
      expect.stringMatching(/^open fds went from \d+ to \d+ after the warm-up/),
      expect.stringMatching(
        /^pick_to_first_packet_ms p99 rose from 1\d\d\.\d ms \(first third\) to 2\d\d\.\d ms \(last third\): 2\.\d\dx/,
      ),
    ]);
    expect(r.fds!.slope_per_min).toBeCloseTo(2, 0);
  });

  it("catches fds still open after the run and the simulator closed", () => {
    const flat = series({});
    expect(soakVerdict(flat, steadyP99(80), "x", DEFAULT_LIMITS, { fdsBefore: 20, fdsAfter: 22 }).pass).toBe(
      true,
    );
    const r = soakVerdict(flat, steadyP99(80), "x", DEFAULT_LIMITS, { fdsBefore: 20, fdsAfter: 61 });
    expect(r.reasons).toEqual([
      "41 more fds open after the run and the simulator closed than before it started (20 -> 61, limit +16)",
    ]);
  });

  it("puts the last p99 point in the last third whatever the float rounding (3.3 * 3 / 3 < 3.3)", () => {
    const p99s = [
      { t_s: 0, p99: 10 },
      { t_s: 1.1, p99: 11 },
      { t_s: 3.3, p99: 12 },
    ];
    const r = soakVerdict(series({}), p99s, "x");
    expect(r.p99.first_third_ms).toBe(10);
    expect(r.p99.last_third_ms).toBe(12);
  });

  it("does not call a small absolute p99 rise a regression, and refuses to judge too few samples", () => {
    expect(soakVerdict(series({}), steadyP99(4, 10), "x").pass).toBe(true);
    const short = soakVerdict(series({}).slice(0, 3), steadyP99(80), "x");
    expect(short.reasons).toEqual([expect.stringMatching(/only 3 samples/)]);
    expect(soakVerdict(series({}), [], "x").reasons).toEqual([
      "no x samples: the run measured nothing to compare",
    ]);
  });
});
