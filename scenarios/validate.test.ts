import { describe, expect, it } from "vitest";
import type { ScenarioDefinition } from "./format.ts";
import { BUILT_IN, loadScenario } from "./library.ts";
import { planOf, resolveScenario, ScenarioError, withDuration } from "./resolve.ts";
import { validateScenario } from "./validate.ts";

describe("the shipped scenarios", () => {
  it.each(BUILT_IN)("%s is valid and plans", async (name) => {
    const def = await loadScenario(name);
    expect(def.name).toBe(name);
    expect(validateScenario(def)).toEqual([]);
    const plan = planOf(resolveScenario(def));
    expect(plan.maxVUs).toBeGreaterThan(0);
    expect(plan.maxDurationMs).toBeLessThanOrEqual(20 * 60_000);
  });
});

describe("validate(): every problem of a scenario at once", () => {
  it("lists load, threshold and KTV problems together", () => {
    const errors = validateScenario({
      name: "bad name!",
      description: 3,
      extra: true,
      options: {
        vus: 0,
        duration: "forever",
        thresholds: { ttfa_ms: ["p(95) < soon"], nope: ["count>0"] },
        summaryTrendStats: ["avg"],
      },
      ktv: {
        vu: "browser",
        population: { usersPerRoom: 2, singersPerRoom: 3, size: 1 },
        shareRatio: 1.5,
        cache: "warm",
        audio: { shared: "yes", voiceProfiles: -2 },
        resource: { vendorId: 3, type: 7 },
        songs: { charts: [8888], searchMix: 2 },
        maxStartDelay: "later",
        faults: {
          profile: { faults: [{ id: "x", kind: "latency", probability: 2 }] },
          timeline: [{ at: "5s" }, { at: "never", profile: null }],
        },
      },
    });
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^extra: unknown field/),
        expect.stringMatching(/^name: must be 1-64 letters/),
        expect.stringMatching(/^description: must be a string/),
        expect.stringMatching(/^options\.summaryTrendStats: not supported/),
        expect.stringMatching(/^options\.scenarios\.default\.vus: must be an integer in 1/),
        expect.stringMatching(/^options\.scenarios\.default\.duration: "forever" is not a duration/),
        expect.stringMatching(/^options\.thresholds\["ttfa_ms"\]\[0\]: "p\(95\) < soon" is not a threshold/),
        expect.stringMatching(/^options\.thresholds\["nope"\]: "nope" is not a metric/),
        expect.stringMatching(/^ktv\.vu: must be "pipeline", "music", "conformance" or "backend"/),
        expect.stringMatching(/^ktv\.population\.size: unknown field/),
        expect.stringMatching(/^ktv\.population\.singersPerRoom: 3 is more than usersPerRoom \(2\)/),
        expect.stringMatching(/^ktv\.shareRatio: must be a number in 0\.\.1/),
        expect.stringMatching(/^ktv\.cache: must be "cold", "vu" or "memory"/),
        expect.stringMatching(/^ktv\.audio\.shared: must be true or false/),
        expect.stringMatching(/^ktv\.audio\.voiceProfiles: must be an integer in 0/),
        expect.stringMatching(/^ktv\.resource\.type: must be an integer in 0\.\.3/),
        expect.stringMatching(/^ktv\.resource\.vendorId: must be 0, 1, 2 or 4/),
        expect.stringMatching(/^ktv\.songs\.charts: must be a non-empty list of top ids/),
        expect.stringMatching(/^ktv\.songs\.searchMix: must be a number in 0\.\.1/),
        expect.stringMatching(/^ktv\.maxStartDelay: "later" is not a duration/),
        expect.stringMatching(/^ktv\.faults\.profile: faults\[0\]/),
        expect.stringMatching(/^ktv\.faults\.timeline\[0\]\.profile: is required/),
        expect.stringMatching(/^ktv\.faults\.timeline\[1\]\.at: "never" is not a duration/),
      ]),
    );
  });

  it("conformance cases run on one VU", () => {
    expect(
      validateScenario({
        name: "c",
        description: "",
        options: { vus: 2, iterations: 6 },
        ktv: { vu: "conformance" },
      }),
    ).toEqual([expect.stringMatching(/^ktv\.vu: conformance cases change the simulator's faults/)]);
  });

  it('cache "memory" and shared audio are for pipeline VUs; they resolve as given', () => {
    expect(
      validateScenario({
        name: "m",
        description: "",
        options: { vus: 1 },
        ktv: { vu: "music", cache: "memory" },
      }),
    ).toEqual([expect.stringMatching(/^ktv\.cache: "memory" is for pipeline VUs/)]);
    const r = resolveScenario({
      name: "m",
      description: "",
      options: { vus: 1 },
      ktv: { cache: "memory", audio: { shared: true, voiceProfiles: 8 } },
    });
    expect([r.cache, r.audio]).toEqual(["memory", { shared: true, voiceProfiles: 8 }]);
  });

  it("songsPerLogin: a whole number of songs, 1 (a login per song) by default", () => {
    const def = (songsPerLogin?: unknown): ScenarioDefinition => ({
      name: "k",
      description: "",
      options: { vus: 1 },
      ktv: songsPerLogin === undefined ? {} : { songsPerLogin: songsPerLogin as number },
    });
    for (const bad of [0, 1.5, "8"]) {
      expect(validateScenario(def(bad))).toEqual([
        expect.stringMatching(/^ktv\.songsPerLogin: must be an integer/),
      ]);
    }
    expect(resolveScenario(def(8)).songsPerLogin).toBe(8);
    expect(resolveScenario(def()).songsPerLogin).toBe(1);
  });

  it("resolveScenario refuses an invalid scenario with every error", () => {
    expect(() => resolveScenario({ name: "x", description: "", options: { vus: -1 } })).toThrow(
      ScenarioError,
    );
  });

  it("fills defaults", () => {
    const r = resolveScenario({ name: "x", description: "d", options: { vus: 2, duration: "10s" } });
    expect(r).toMatchObject({
      vu: "pipeline",
      population: { rooms: null, usersPerRoom: 2, singersPerRoom: 1 },
      songs: { charts: ["8888"], zipf: 1, poolSize: 50, searchMix: 0.2 },
      shareRatio: 1,
      cache: "cold",
      audio: { shared: false, voiceProfiles: 0 },
      resource: { type: 1, quality: 0, vendorId: 0, billingMode: 0 },
      media: { codec: "pcm", transport: "unix" },
      durationMs: 40_000,
      maxStartDelayMs: 5_000,
    });
    expect(r.options.scenarios).toEqual({ default: { executor: "constant-vus", vus: 2, duration: "10s" } });
  });
});

describe("ktv.media", () => {
  const withMedia = (media: unknown) =>
    ({ name: "x", description: "d", options: { vus: 1, duration: "1s" }, ktv: { media } }) as never;

  it("takes a codec and carries it to the resolved scenario", () => {
    for (const codec of ["pcm", "opus", "opus-preencoded"]) {
      expect(validateScenario(withMedia({ codec }))).toEqual([]);
      expect(resolveScenario(withMedia({ codec })).media).toEqual({ codec, transport: "unix" });
    }
  });

  it("takes a transport to the embedded simulator's media (unix by default, or tcp)", () => {
    expect(resolveScenario(withMedia({ transport: "tcp" })).media).toEqual({
      codec: "pcm",
      transport: "tcp",
    });
    expect(validateScenario(withMedia({ transport: "udp" }))).toEqual([
      'ktv.media.transport: must be "unix" or "tcp", got "udp"',
    ]);
  });

  it("names an unknown codec or field", () => {
    expect(validateScenario(withMedia({ codec: "mp3" }))).toEqual([
      'ktv.media.codec: must be "pcm", "opus", "opus-preencoded", got "mp3"',
    ]);
    expect(validateScenario(withMedia({ bitrate: 64 }))[0]).toMatch(/^ktv\.media/);
  });
});

describe("--duration", () => {
  it("sets every executor's length; stages scale in proportion", () => {
    const o = withDuration(
      {
        scenarios: {
          a: { executor: "constant-vus", duration: "1m" },
          b: {
            executor: "ramping-vus",
            stages: [
              { duration: "30s", target: 4 },
              { duration: "90s", target: 4 },
            ],
          },
          c: { executor: "shared-iterations", iterations: 5 },
          d: { executor: "constant-arrival-rate", rate: 1, duration: "5m", preAllocatedVUs: 1 },
        },
      },
      20_000,
    );
    const plan = planOf(resolveScenario({ name: "x", description: "", options: o }));
    expect(plan.scenarios.map((p) => p.durationMs)).toEqual([20_000, 20_000, 20_000, 20_000]);
    expect(plan.scenarios[1]!.vuSteps.find((s) => s.vus === 4)!.atMs).toBe(5_000);
  });
});
