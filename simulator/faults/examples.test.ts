import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createCatalog } from "../catalog/index.ts";
import { manualClock } from "../clock.ts";
import type { ResourceRecord } from "../resources/types.ts";
import { createFaultEngine } from "./engine.ts";
import { checkProfile } from "./profile.ts";

// The example profiles are documentation users copy: each must validate, be described in the README, and do
// what the README says it does.

const DIR = join(import.meta.dirname, "examples");
const read = (name: string) => JSON.parse(readFileSync(join(DIR, name), "utf8"));
const files = readdirSync(DIR).filter((f) => f.endsWith(".json"));

describe("example fault profiles", () => {
  it("has the example of every phase", () => {
    expect(files).toEqual(
      expect.arrayContaining([
        "latency-tail.json",
        "vendor-outage.json",
        "expiry-storm.json",
        "revocation-wave.json",
        "flaky-cdn.json",
        "lossy-media.json",
      ]),
    );
  });

  it.each(files)("%s is a valid profile documented in the README", (name) => {
    const r = checkProfile(read(name));
    expect(r.ok ? [] : r.errors).toEqual([]);
    expect(readFileSync(join(DIR, "README.md"), "utf8")).toContain(`\`${name}\``);
  });

  it("vendor-outage: busy, then down, then shaky, then well, counted from when it is applied", () => {
    const clock = manualClock();
    const e = createFaultEngine({ seed: 3, clock });
    clock.advance(500_000);
    e.replace(read("vendor-outage.json"));
    const phase = (atMs: number) => {
      clock.set(clock.startedAt + 500_000 + atMs);
      const codes = Array.from({ length: 1000 }, (_, i) => {
        const d = e.decide({
          route: "POST /v1/music/extended",
          command: "/tag/list",
          app_id: 1,
          user_id: `u${i}`,
        });
        return d.httpStatus ? `http ${d.httpStatus}` : String(d.vendorCode ?? 0);
      });
      return Object.fromEntries([...new Set(codes)].map((c) => [c, codes.filter((x) => x === c).length]));
    };
    expect(phase(5_000)).toEqual({ 0: 1000 });
    const busy = phase(20_000);
    expect(busy["1017097"]).toBeGreaterThan(200 - 4 * Math.sqrt(1000 * 0.2 * 0.8));
    expect(busy["1017097"]).toBeLessThan(200 + 4 * Math.sqrt(1000 * 0.2 * 0.8));
    expect(phase(60_000)).toEqual({ 1017098: 1000 });
    const shaky = phase(95_000);
    expect(Object.keys(shaky).sort()).toEqual(["0", "http 503"]);
    expect(Math.abs(shaky["http 503"]! - 300)).toBeLessThan(4 * Math.sqrt(1000 * 0.3 * 0.7));
    expect(phase(200_000)).toEqual({ 0: 1000 });
  });

  it("latency-tail: content calls slow with a median near 80 ms, searches sometimes hang 12 s", () => {
    const e = createFaultEngine({ seed: 3, clock: manualClock(), profile: read("latency-tail.json") });
    const delays = Array.from(
      { length: 4000 },
      (_, i) =>
        e.decide({ route: "POST /v1/music/extended", command: "/search/song", app_id: 1, user_id: `u${i}` })
          .delayMs ?? 0,
    );
    const hangs = delays.filter((d) => d >= 12_000).length;
    expect(Math.abs(hangs - 40)).toBeLessThan(4 * Math.sqrt(4000 * 0.01 * 0.99));
    const normal = delays.filter((d) => d < 12_000).sort((a, b) => a - b);
    const median = normal[Math.floor(normal.length / 2)]!;
    expect(median).toBeGreaterThan(75);
    expect(median).toBeLessThan(85);
  });

  it("expiry-storm: short TTLs at first, half of everything expires at 2 min, then accompaniments on use", () => {
    const clock = manualClock();
    const recs = Array.from({ length: 1000 }, (_, i) => ({
      resource_id: `r${i}`,
      app_id: 1,
      user_id: `u${i}`,
      vendor_id: 0,
      song_id: `s${i % 50}`,
      resource_type: i % 2,
      room_id: null,
      forced_expired: false,
      via_share: false,
      expires_at: Number.POSITIVE_INFINITY,
    })) as unknown as ResourceRecord[];
    const resources = {
      all: () => recs.values(),
      isExpired: (r: ResourceRecord) => r.forced_expired,
    };
    const e = createFaultEngine({ seed: 3, clock, resources });
    e.replace(read("expiry-storm.json"));
    expect(e.issueTtl("k", "POST /v1/music/resource", recs[0]!)).toBe(60_000);
    expect(recs.some((r) => r.forced_expired)).toBe(false);
    clock.advance(120_000);
    e.decide({ route: "POST /v1/music/extended", command: "/tag/list" });
    const expired = recs.filter((r) => r.forced_expired).length;
    expect(Math.abs(expired - 500)).toBeLessThan(4 * Math.sqrt(1000 * 0.25));
    clock.advance(60_000);
    const onUse = (type: number) =>
      Array.from({ length: 1000 }, (_, i) =>
        e.decideDownload(`d${i}`, "GET /v1/music/download/:resource_id", {
          ...recs[0]!,
          resource_type: type,
          forced_expired: false,
        }),
      ).filter((p) => p.expired).length;
    expect(Math.abs(onUse(1) - 100)).toBeLessThan(4 * Math.sqrt(1000 * 0.1 * 0.9));
    expect(onUse(0)).toBe(0);
    clock.advance(120_000);
    expect(e.issueTtl("k2", "POST /v1/music/resource", recs[0]!)).toBeUndefined();
  });

  it("revocation-wave: 5% of all songs revoked from 30 s to 150 s, 10% of vendor 0 listen-only from 60 s", () => {
    const clock = manualClock();
    const catalog = createCatalog(1, 2000);
    const e = createFaultEngine({ seed: 3, clock, catalog });
    e.replace(read("revocation-wave.json"));
    const count = (level: string, vendor?: number) =>
      Array.from({ length: catalog.size }, (_, i) => catalog.at(i).item).filter(
        (it) => (vendor === undefined || it.vendor_id === vendor) && catalog.revocation(it.song_id) === level,
      ).length;
    expect(count("all") + count("listen_only")).toBe(0);
    clock.advance(30_000);
    expect(Math.abs(count("all") - 100)).toBeLessThan(4 * Math.sqrt(2000 * 0.05 * 0.95));
    expect(count("listen_only")).toBe(0);
    clock.advance(30_000);
    const vendor0 = Array.from({ length: catalog.size }, (_, i) => catalog.at(i)).filter(
      (f) => f.item.vendor_id === 0,
    ).length;
    const listenOnly = count("listen_only", 0) + count("all", 0);
    expect(Math.abs(listenOnly - 0.1 * vendor0 - 0.05 * vendor0)).toBeLessThan(4 * Math.sqrt(vendor0 * 0.15));
    clock.advance(90_000);
    expect(count("all")).toBe(0);
    expect(Math.abs(count("listen_only", 0) - 0.1 * vendor0)).toBeLessThan(
      4 * Math.sqrt(vendor0 * 0.1 * 0.9),
    );
    expect(count("listen_only") - count("listen_only", 0)).toBe(0);
  });

  it("flaky-cdn: slow starts, stalls and resets at their rates, every download under one shared cap", () => {
    const e = createFaultEngine({ seed: 3, clock: manualClock(), profile: read("flaky-cdn.json") });
    const rec = {
      resource_id: "r",
      app_id: 1,
      user_id: "u",
      vendor_id: 0,
      song_id: "s",
      resource_type: 1,
      room_id: null,
      forced_expired: false,
      via_share: false,
    };
    const plans = Array.from({ length: 4000 }, (_, i) =>
      e.decideDownload(`k${i}`, "GET /v1/music/download/:resource_id", rec),
    );
    const near = (n: number, p: number) => Math.abs(n - 4000 * p) < 4 * Math.sqrt(4000 * p * (1 - p));
    const slow = plans.filter((p) => p.firstByteDelayMs > 0);
    expect(near(slow.length, 0.2)).toBe(true);
    expect(slow.every((p) => p.firstByteDelayMs >= 500 && p.firstByteDelayMs <= 3000)).toBe(true);
    expect(near(plans.filter((p) => p.stalls.length > 0).length, 0.1)).toBe(true);
    expect(near(plans.filter((p) => p.resetAfterBytes === 524_288).length, 0.05)).toBe(true);
    const caps = new Set(plans.flatMap((p) => p.buckets));
    expect(caps.size).toBe(1);
    expect([...caps][0]!.rate).toBe(2_000_000);
  });

  it("lossy-media: ~3% loss in bursts, a relay delay per stream, a fifth of the singers messy, one handover", () => {
    const clock = manualClock();
    const e = createFaultEngine({ seed: 3, clock });
    e.replace(read("lossy-media.json"));
    const streams = Array.from({ length: 400 }, (_, i) =>
      e.mediaStream({ app_id: 1, room_id: `room${i % 100}`, user_id: `u${i}`, stream_id: `s${i}` }, () => {}),
    );
    const FRAMES = 500;
    let drops = 0;
    let runs = 0;
    let messy = 0;
    const bases: number[] = [];
    let maxDelay = 0;
    for (const h of streams) {
      let dropped = false;
      let touched = false;
      let base = Number.POSITIVE_INFINITY;
      for (let q = 0; q < FRAMES; q++) {
        const f = h.frame(q);
        if (f.drop && !dropped) runs++;
        dropped = f.drop;
        if (f.drop) drops++;
        else base = Math.min(base, f.delayMs);
        if (f.duplicates > 0 || f.holdFrames > 0) touched = true;
        maxDelay = Math.max(maxDelay, f.delayMs);
      }
      bases.push(base);
      messy += Number(touched);
    }
    expect(maxDelay).toBeLessThanOrEqual(400 + 150);
    const rate = drops / (400 * FRAMES);
    expect(rate).toBeGreaterThan(0.02);
    expect(rate).toBeLessThan(0.045);
    expect(drops / runs).toBeGreaterThan(2);
    expect(Math.abs(messy - 80)).toBeLessThan(4 * Math.sqrt(400 * 0.2 * 0.8));
    bases.sort((a, b) => a - b);
    expect(bases[200]).toBeGreaterThan(65);
    expect(bases[200]).toBeLessThan(100);
    // The handover: from 60 s to 70 s about one room in ten loses a third of its frames.
    const lossByRoom = (atMs: number) => {
      clock.set(clock.startedAt + atMs);
      const lost = new Map<string, number>();
      for (const [i, h] of streams.entries()) {
        for (let q = 0; q < 100; q++) {
          if (h.frame(FRAMES * (1 + atMs / 10_000) + q).drop)
            lost.set(`room${i % 100}`, (lost.get(`room${i % 100}`) ?? 0) + 1);
        }
      }
      return [...lost.values()].filter((n) => n > 0.2 * 400).length;
    };
    expect(lossByRoom(30_000)).toBe(0);
    const handedOver = lossByRoom(65_000);
    expect(handedOver).toBeGreaterThan(3);
    expect(handedOver).toBeLessThan(20);
    expect(lossByRoom(75_000)).toBe(0);
  });
});
