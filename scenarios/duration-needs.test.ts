import { describe, expect, it } from "vitest";
import capacity from "./capacity.ts";
import conformance from "./conformance.ts";
import { durationNeed, durationProblem, faultChanges } from "./duration-needs.ts";
import expiryStorm from "./expiry-storm.ts";
import type { ScenarioDefinition } from "./format.ts";
import latencyTail from "./latency-tail.ts";
import { DurationError, resolveScenario } from "./resolve.ts";
import revocation from "./revocation.ts";
import smoke from "./smoke.ts";

describe("--duration never makes a silent lie", () => {
  it("expiry-storm: refused below the last fault change plus one iteration, with that minimum", () => {
    // Changes: storm from 40 s, dead-on-download from 60 s (short-ttl's until, 2m, is the run's own end).
    expect(faultChanges(expiryStorm).map((c) => c.atMs)).toEqual([40_000, 60_000, 60_000, 120_000, 120_000]);
    expect(durationNeed(expiryStorm).minimumMs).toBe(70_000);
    const p = durationProblem(expiryStorm, 5_000)!;
    expect(p).toContain("--duration 5s is too short for expiry-storm");
    expect(p).toContain('fault "dead-on-download" starts');
    expect(p).toContain("Use --duration 1m10s or more");
    expect(p).toContain("or compress the whole timeline with --time-scale");
    expect(durationProblem(expiryStorm, 70_000)).toBeNull();
  });

  it("revocation: the timeline step at 70 s counts, windows count from their step", () => {
    const at = faultChanges(revocation).map((c) => c.atMs);
    expect(at).toContain(30_000); // wave-listen-only: from 20 s of the step applied at 10 s
    expect(at.at(-1)).toBe(70_000);
    expect(durationNeed(revocation).minimumMs).toBe(79_000);
    expect(durationProblem(revocation, 78_000)).toContain("Use --duration 1m19s or more");
  });

  it("conformance: an iteration executor is refused outright (it ends when its cases are done)", () => {
    expect(durationNeed(conformance).minimumMs).toBeNull();
    expect(durationProblem(conformance, 600_000)).toContain(
      "--duration cannot be used with conformance: cases (shared-iterations) runs a fixed number of iterations",
    );
  });

  it("capacity: the knee search needs delayAbortEval plus one window", () => {
    expect(durationNeed(capacity).minimumMs).toBe(35_000);
    expect(durationProblem(capacity, 5_000)).toContain("Use --duration 35s or more");
    const r = resolveScenario(capacity, { durationOverrideMs: 40_000 });
    expect(r.notices).toEqual([
      "--duration 40s: ramp's stages are scaled ×0.133 (5m -> 40s): its ramps climb 7.5× faster than the scenario's",
    ]);
  });

  it("a scenario without faults, windows or counted iterations takes any --duration", () => {
    expect(durationProblem(smoke, 1_000)).toBeNull();
    expect(resolveScenario(smoke, { durationOverrideMs: 3_000 }).notices).toEqual([]);
    // latency-tail's faults have no windows: on from the start, so only one iteration is needed.
    expect(durationNeed(latencyTail).minimumMs).toBe(0);
  });

  it("resolveScenario refuses with a DurationError naming the minimum", () => {
    expect(() => resolveScenario(expiryStorm, { durationOverrideMs: 5_000 })).toThrow(DurationError);
    expect(() => resolveScenario(expiryStorm, { durationOverrideMs: 5_000 })).toThrow(/1m10s or more/);
    const windowed: ScenarioDefinition = {
      name: "w",
      description: "",
      options: { vus: 1, duration: "1m", thresholds: { ttfa_ms: ["p(95)<800 over 30s"] } },
    };
    expect(durationProblem(windowed, 20_000)).toContain("needs at least one whole 30s window");
    expect(durationProblem(windowed, 30_000)).toBeNull();
  });
});
