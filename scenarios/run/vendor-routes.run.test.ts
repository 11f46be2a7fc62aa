import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readResults } from "../../reports/read-results.ts";
import { resolveScenario } from "../resolve.ts";
import { captureErr } from "../test-helpers.ts";
import { EXIT, runScenario } from "./runner.ts";

// A short real run against the embedded simulator: the clients' per-route request counts (every attempt,
// counted in the worker threads) equal what the simulator itself counted in /metrics, route by route.

const dir = mkdtempSync(join(tmpdir(), "ktv-routes-run-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("vendor requests by route", () => {
  it("counts each route's attempts exactly as the simulator's /metrics does", async () => {
    const err = captureErr();
    const scenario = resolveScenario({
      name: "routes",
      description: "one room, a singer and a listener, one song each",
      options: {
        scenarios: { once: { executor: "per-vu-iterations", vus: 2, iterations: 1, maxDuration: "30s" } },
      },
      ktv: {
        vu: "pipeline",
        population: { usersPerRoom: 2, singersPerRoom: 1 },
        songs: { poolSize: 5 },
        resource: { type: 2 },
        singSeconds: 1,
        simulator: { catalogSize: 500 },
      },
    });
    const outcome = await runScenario({ scenario, out: dir, seed: 9, err, workers: 2 });
    expect(outcome.exitCode, err.text()).toBe(EXIT.ok);
    const { summary } = readResults(dir);
    const lines = summary.vendor_routes ?? [];
    const routes = lines.map((l) => l.route);
    for (const r of ["initCopyrightedMusic", "requestResource", "download"]) expect(routes).toContain(r);
    const check = summary.checks?.find((c) => c.name === "vendor_routes");
    expect(check, JSON.stringify(summary.checks)).toMatchObject({ ok: true, data: { checked: true } });
    const counted = (check!.data as { routes: Record<string, { client: number; simulator: number }> }).routes;
    // Every route either side saw, and the two sides agree exactly (nothing went unanswered in this run).
    expect(Object.keys(counted).sort()).toEqual([...routes].sort());
    for (const l of lines) {
      expect(l.unanswered, l.route).toBe(0);
      expect(counted[l.route], l.route).toEqual({
        client: l.requests,
        client_unanswered: 0,
        simulator: l.requests,
      });
      expect(l.rate_per_s).toBeCloseTo(l.requests / summary.duration_s, 2);
      expect(l.p50_ms).toBeGreaterThan(0);
      expect(l.p99_ms).toBeGreaterThanOrEqual(l.p50_ms);
    }
  }, 90_000);
});
