import { describe, expect, it } from "vitest";
import { planLoad } from "./plan.ts";
import { expandShortcuts } from "./shortcuts.ts";

describe("k6 shortcuts expand to the long form", () => {
  it("iterations (+ vus, + duration as maxDuration) -> shared-iterations", () => {
    expect(expandShortcuts({ vus: 2, iterations: 10, duration: "1m" })).toEqual({
      scenarios: { default: { executor: "shared-iterations", vus: 2, iterations: 10, maxDuration: "1m" } },
      errors: [],
    });
  });

  it("duration (+ vus) -> constant-vus", () => {
    expect(expandShortcuts({ vus: 3, duration: "30s" }).scenarios).toEqual({
      default: { executor: "constant-vus", vus: 3, duration: "30s" },
    });
  });

  it("stages (+ vus as startVUs) -> ramping-vus", () => {
    const stages = [{ duration: "10s", target: 4 }];
    expect(expandShortcuts({ vus: 2, stages }).scenarios).toEqual({
      default: { executor: "ramping-vus", startVUs: 2, stages },
    });
  });

  it("vus alone, or nothing -> one iteration per VU", () => {
    expect(expandShortcuts({ vus: 4 }).scenarios).toEqual({
      default: { executor: "per-vu-iterations", vus: 4, iterations: 1 },
    });
    expect(planLoad({}).scenarios[0]).toMatchObject({
      executor: "per-vu-iterations",
      maxVUs: 1,
      iterations: { perVu: 1 },
    });
  });

  it("refuses combinations k6 refuses", () => {
    expect(expandShortcuts({ stages: [{ duration: "1s", target: 1 }], duration: "5s" }).errors).toEqual([
      "options: stages cannot be combined with duration",
    ]);
    expect(expandShortcuts({ stages: [{ duration: "1s", target: 1 }], iterations: 3 }).errors).toEqual([
      "options: stages cannot be combined with iterations",
    ]);
    expect(
      expandShortcuts({
        vus: 2,
        duration: "5s",
        scenarios: { a: { executor: "constant-vus", duration: "1s" } },
      }).errors,
    ).toEqual(["options: vus, duration cannot be combined with options.scenarios (put them in a scenario)"]);
    expect(expandShortcuts({ scenarios: {} }).errors).toEqual([
      "options.scenarios: at least one scenario is needed",
    ]);
  });

  it("the expanded form plans like the long form written by hand", () => {
    const short = planLoad({ vus: 3, duration: "20s" });
    const long = planLoad({ scenarios: { default: { executor: "constant-vus", vus: 3, duration: "20s" } } });
    expect(short.scenarios.map(({ arrivals, ...p }) => p)).toEqual(
      long.scenarios.map(({ arrivals, ...p }) => p),
    );
    expect(short.maxDurationMs).toBe(50_000);
  });
});
