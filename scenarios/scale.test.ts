import { describe, expect, it } from "vitest";
import capacity from "./capacity.ts";
import { durationNeed } from "./duration-needs.ts";
import expiryStorm from "./expiry-storm.ts";
import latencyTail from "./latency-tail.ts";
import { BUILT_IN, loadScenario } from "./library.ts";
import { planLoad } from "./load/plan.ts";
import { resolveScenario } from "./resolve.ts";
import revocation from "./revocation.ts";
import rooms250 from "./rooms-250.ts";
import { ScaleError, scaleScenario } from "./scale.ts";
import { SHORT_FORMS, shortForm } from "./short-forms.ts";
import { validateScenario } from "./validate.ts";

describe("scaleScenario: the timeline compressed, never cut", () => {
  it("expiry-storm ×0.1: load, fault windows, TTLs and songs move together", () => {
    const { scenario, notices } = scaleScenario(expiryStorm, { time: 0.1 });
    expect(validateScenario(scenario)).toEqual([]);
    const r = resolveScenario(scenario);
    expect(planLoad(scenario.options).durationMs).toBe(12_000);
    expect(r.options.scenarios.rooms).toMatchObject({ duration: "12000ms", gracefulStop: "2000ms", vus: 8 });
    expect(r.singSeconds).toBe(0.5);
    const faults = (r.faults.profile as { faults: Record<string, unknown>[] }).faults;
    expect(faults.map((f) => [f.id, f.ttl_ms, f.from, f.until])).toEqual([
      ["short-ttl", 2_000, undefined, 12_000],
      ["storm", undefined, 4_000, 6_000],
      ["dead-on-download", undefined, 6_000, 12_000],
    ]);
    // Probabilities and selectors are not times: as written.
    expect(faults[1]).toMatchObject({ probability: 0.5, expire_existing: true });
    expect(r.expect.faultsFired).toEqual(["short-ttl", "storm", "dead-on-download"]);
    expect(scenario.description).toMatch(/^\(time scale ×0\.1\) resources expire early/);
    expect(notices[0]).toContain("expiry-storm's timeline");
    // The original is untouched.
    expect(expiryStorm.options.scenarios?.rooms).toMatchObject({ duration: "2m" });
  });

  it("revocation: timeline steps and windows inside them scale", () => {
    const r = resolveScenario(scaleScenario(revocation, { time: 0.5 }).scenario);
    expect(r.faults.timeline.map((s) => s.atMs)).toEqual([5_000, 35_000]);
    const first = (r.faults.timeline[0]!.profile as { faults: Record<string, unknown>[] }).faults;
    expect(first[1]).toMatchObject({ id: "wave-listen-only", from: 10_000 });
  });

  it("latencies are the system's speed, not the timeline: kept as written", () => {
    const r = resolveScenario(scaleScenario(latencyTail, { time: 0.1 }).scenario);
    const faults = (r.faults.profile as { faults: Record<string, unknown>[] }).faults;
    expect(faults[2]).toMatchObject({ distribution: { type: "fixed", ms: 12000 }, probability: 0.01 });
    // Arrival rates too: the compressed run makes fewer iterations, at the same rate.
    expect(r.options.scenarios.arrivals).toMatchObject({ rate: 2, timeUnit: "1s", duration: "9000ms" });
    expect(r.maxStartDelayMs).toBe(1_000);
  });

  it("sliding threshold windows and delayAbortEval scale, never below warm-up; plain expressions stay", () => {
    const half = scaleScenario(capacity, { time: 0.5 }).scenario;
    expect(half.options.thresholds?.ttfa_ms).toEqual([
      { threshold: "p(95)<2500 over 7500ms", abortOnFail: true, delayAbortEval: "10000ms" },
    ]);
    // x0.04 would make them 600 ms and 800 ms: start-up alone breaks a window that short, so 2 s and 5 s.
    const { scenario } = scaleScenario(capacity, { time: 0.04 });
    expect(scenario.options.thresholds?.ttfa_ms).toEqual([
      { threshold: "p(95)<2500 over 2000ms", abortOnFail: true, delayAbortEval: "5000ms" },
    ]);
    expect(validateScenario(scenario)).toEqual([]);
    expect(durationNeed(scenario).minimumMs).toBe(7_000);
    const e = scaleScenario(expiryStorm, { time: 0.1 }).scenario;
    expect(e.options.thresholds?.["errors{code:1017019}"]).toEqual(["rate<0.01"]);
  });

  it("load: whole rooms, never below one; arrival rates never below 1", () => {
    const r = resolveScenario(scaleScenario(rooms250, { load: 0.008 }).scenario);
    expect(r.options.scenarios.rooms).toMatchObject({ startVUs: 0 });
    expect((r.options.scenarios.rooms!.stages as { target: number }[]).map((s) => s.target)).toEqual([8, 8]);
    expect(planLoad(scaleScenario(rooms250, { load: 0.0001 }).scenario.options).maxVUs).toBe(4);
    const lt = resolveScenario(scaleScenario(latencyTail, { load: 0.1 }).scenario);
    expect(lt.options.scenarios.arrivals).toMatchObject({ rate: 1, preAllocatedVUs: 2, maxVUs: 2 });
    // Rooms fixed by the population are kept.
    expect(lt.population.rooms).toBe(6);
  });

  it("refuses a factor outside (0, 1] with a clear error; 1 changes nothing", () => {
    expect(() => scaleScenario(smokeLike(), { time: 0 })).toThrow(ScaleError);
    expect(() => scaleScenario(smokeLike(), { time: 2 })).toThrow(
      "the time scale must be a number in (0, 1], got 2",
    );
    expect(() => scaleScenario(smokeLike(), { load: Number.NaN })).toThrow("the load scale must be");
    const s = smokeLike();
    expect(scaleScenario(s, { time: 1, load: 1 })).toEqual({ scenario: s, notices: [] });
  });
});

describe("short forms", () => {
  it("every shipped scenario's short form is valid and as long as duration-needs.ts says it needs", async () => {
    for (const name of BUILT_IN) {
      const form = SHORT_FORMS[name];
      if (form === null) continue;
      const { scenario } = shortForm(await loadScenario(name), form);
      expect(validateScenario(scenario), name).toEqual([]);
      expect(planLoad(scenario.options).durationMs, name).toBeGreaterThanOrEqual(
        durationNeed(scenario).minimumMs ?? 0,
      );
    }
  });

  it("a short form that would leave users no time to meet the last change is refused", () => {
    expect(() => shortForm(revocation, { time: 0.3, seed: 1, why: "" })).toThrow(
      "the short form of revocation lasts 27000 ms but its timeline needs 28000 ms (duration-needs.ts)",
    );
  });
});

function smokeLike() {
  return {
    name: "s",
    description: "",
    options: { scenarios: { a: { executor: "constant-vus" as const, vus: 2, duration: "10s" } } },
  };
}
