import { describe, expect, it } from "vitest";
import { MetricSet } from "../metrics/set.ts";
import { resolveScenario } from "../resolve.ts";
import smoke from "../smoke.ts";
import { environment } from "./environment.ts";
import { buildSummary } from "./summary.ts";

// summary.json's counters tell the error answers a client handled from the ones that failed its iterations
// (a report must not show expected recoveries as failures), and carry the run's checks.

describe("buildSummary", () => {
  it("counts failed iterations by code beside every error answer met", () => {
    const total = new MetricSet();
    // Six answers 1017050 (no share: the client requested instead), two iterations failed on 1017097.
    total.error(1017050, 6);
    total.error(1017097, 2);
    for (let i = 0; i < 10; i++) total.rate("errors", i < 2);
    total.rate("errors{code:1017097}", true);
    total.rate("errors{code:1017097}", true);
    const t0 = Date.parse("2026-01-01T00:00:00Z");
    const s = buildSummary({
      scenario: resolveScenario(smoke),
      total,
      points: [],
      thresholds: [],
      aborts: [],
      ledger: { rows: [], totals: { billable: 0, by_mode: {}, by_vendor: {} } },
      t0,
      endT: t0 + 10_000,
      stopReason: null,
      environment: environment({
        seed: 1,
        startedAt: new Date(t0),
        target: "x",
        mediaSocket: null,
        workers: 1,
        embedded: true,
      }),
      notes: [],
      checks: [{ name: "billing", ok: true, detail: "fine" }],
    });
    expect(s.counters.errors_by_code).toEqual({ "1017050": 6, "1017097": 2 });
    expect(s.counters.failed_iterations).toBe(2);
    expect(s.counters.failed_iterations_by_code).toEqual({ "1017097": 2 });
    expect(s.checks).toEqual([{ name: "billing", ok: true, detail: "fine" }]);
  });
});
