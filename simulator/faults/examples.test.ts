import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { manualClock } from "../clock.ts";
import { createFaultEngine } from "./engine.ts";
import { checkProfile } from "./profile.ts";

// The example profiles are documentation users copy: each must validate, be described in the README, and do
// what the README says it does.

const DIR = join(import.meta.dirname, "examples");
const read = (name: string) => JSON.parse(readFileSync(join(DIR, name), "utf8"));
const files = readdirSync(DIR).filter((f) => f.endsWith(".json"));

describe("example fault profiles", () => {
  it("has the phase-1 examples", () => {
    expect(files).toEqual(expect.arrayContaining(["latency-tail.json", "vendor-outage.json"]));
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
});
