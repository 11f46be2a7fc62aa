import { Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { LocalHistogram } from "./latency-histogram.ts";

// LocalHistogram replaces prom-client's per-frame Histogram.observe(): a scrape must read exactly what
// prom-client's own unlabelled Histogram writes for the same observations, in text and in JSON, before any
// observation, after many, and after a reset.

const BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

function pair() {
  const ours = new Registry();
  const theirs = new Registry();
  const h = new LocalHistogram("lat_seconds", "help text", BUCKETS);
  ours.registerMetric(h as unknown as Parameters<Registry["registerMetric"]>[0]);
  const p = new Histogram({ name: "lat_seconds", help: "help text", buckets: BUCKETS, registers: [theirs] });
  return { ours, theirs, h, p };
}

async function same(ours: Registry, theirs: Registry): Promise<string> {
  const text = await ours.metrics();
  expect(text).toBe(await theirs.metrics());
  expect(await ours.getMetricsAsJSON()).toEqual(await theirs.getMetricsAsJSON());
  return text;
}

describe("LocalHistogram", () => {
  it("scrapes as prom-client's Histogram does: empty, on bounds, above every bound, many random values", async () => {
    const { ours, theirs, h, p } = pair();
    expect(await same(ours, theirs)).toMatch(/^lat_seconds_count 0$/m);
    const fixed = [0, 0.0003, 0.0005, 0.001, 0.0011, 2.5, 2.6, 60, 0.02];
    for (const v of fixed) {
      h.observe(v);
      p.observe(v);
    }
    expect(await same(ours, theirs)).toMatch(/^lat_seconds_bucket\{le="2.5"\} 7$/m);
    // Latencies as the relay computes them (integer µs / 1e6): the sum is added in the same order, so the
    // same float comes out, not merely a close one.
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    for (let i = 0; i < 20_000; i++) {
      const v = Math.floor(rand() ** 4 * 3_000_000) / 1e6;
      h.observe(v);
      p.observe(v);
    }
    const text = await same(ours, theirs);
    expect(text).toMatch(/^lat_seconds_count 20009$/m);
    expect(h.observations).toBe(20_009);
  });

  it("after a registry reset shows no series until the next observation, as prom-client does", async () => {
    const { ours, theirs, h, p } = pair();
    h.observe(0.003);
    p.observe(0.003);
    ours.resetMetrics();
    theirs.resetMetrics();
    expect(await same(ours, theirs)).not.toMatch(/lat_seconds_count/);
    h.observe(0.7);
    p.observe(0.7);
    expect(await same(ours, theirs)).toMatch(/^lat_seconds_count 1$/m);
  });

  it("refuses a value that is not a finite number and buckets that do not increase", () => {
    const h = new LocalHistogram("x", "x", BUCKETS);
    expect(() => h.observe(Number.NaN)).toThrow(TypeError);
    expect(() => h.observe(Number.POSITIVE_INFINITY)).toThrow(TypeError);
    expect(h.observations).toBe(0);
    expect(() => new LocalHistogram("x", "x", [1, 1])).toThrow(/increase/);
  });
});
