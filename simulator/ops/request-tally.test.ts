import { Counter, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { LabelTally, RouteHistogram } from "./request-tally.ts";

// The tallies replace prom-client's per-request inc()/observe(): a scrape must read exactly what prom-client's
// own Counter and Histogram would have written for the same requests, in text and in JSON.

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const OBS: [string, number][] = [
  ["/healthz", 0.0003],
  ["/v1/music/extended", 0.0012],
  ["/healthz", 0.0005], // on a bound: counted in that bucket (le is <=)
  ["/v1/music/extended", 0.07],
  ["/v1/music/download/:resource_id", 45], // above every bound: +Inf only
  ["/healthz", 0.004],
];

describe("RouteHistogram", () => {
  it("scrapes as prom-client's Histogram<route> does for the same observations", async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const h = new RouteHistogram("lat_seconds", "help text", BUCKETS);
    ours.registerMetric(h as unknown as Parameters<Registry["registerMetric"]>[0]);
    const p = new Histogram({
      name: "lat_seconds",
      help: "help text",
      labelNames: ["route"],
      buckets: BUCKETS,
      registers: [theirs],
    });
    for (const [route, v] of OBS) {
      h.observe(route, v);
      p.observe({ route }, v);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.getMetricsAsJSON()).toEqual(await theirs.getMetricsAsJSON());
    ours.resetMetrics();
    theirs.resetMetrics();
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it("refuses buckets that do not increase", () => {
    expect(() => new RouteHistogram("x", "x", [1, 1])).toThrow(/increase/);
  });
});

describe("LabelTally", () => {
  it("a collecting Counter reads the tallies: same values and order as inc() per request", async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const tally = new LabelTally<"route" | "status">();
    new Counter({
      name: "req_total",
      help: "h",
      labelNames: ["route", "status"],
      registers: [ours],
      collect() {
        tally.flushInto(this);
      },
    });
    const p = new Counter({
      name: "req_total",
      help: "h",
      labelNames: ["route", "status"],
      registers: [theirs],
    });
    const reqs = [
      ["/a", "200"],
      ["/b", "404"],
      ["/a", "200"],
      ["/a", "500"],
      ["/b", "404"],
    ] as const;
    for (const [route, status] of reqs) {
      tally.add(`${route}\t${status}`, () => ({ route, status }));
      p.inc({ route, status });
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    // A second scrape does not add the tallies again.
    expect(await ours.metrics()).toBe(await theirs.metrics());
    tally.add("/a\t200", () => ({ route: "/a", status: "200" }));
    p.inc({ route: "/a", status: "200" });
    expect(await ours.getMetricsAsJSON()).toEqual(await theirs.getMetricsAsJSON());
  });
});
