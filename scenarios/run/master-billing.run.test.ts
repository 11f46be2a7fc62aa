import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readResults } from "../../reports/read-results.ts";
import { resolveScenario } from "../resolve.ts";
import { captureErr } from "../test-helpers.ts";
import { EXIT, runScenario } from "./runner.ts";

// Billing mode 3 (Master, spec §7: each fetch charged to masterID + roomID) through the real runner: every VU
// requests with its room's owner (the room's first singer) as the master, so the run is green and each ledger
// row carries the owner of the requester's room. Before, no VU had a master id and every iteration failed.

const dir = mkdtempSync(join(tmpdir(), "ktv-master-run-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("Master billing", () => {
  it("runs green, each ledger row charged to the requester's room owner", async () => {
    const err = captureErr();
    const scenario = resolveScenario({
      name: "master",
      description: "two rooms, singer and listener each requesting under Master billing",
      options: {
        scenarios: { once: { executor: "per-vu-iterations", vus: 4, iterations: 1, maxDuration: "30s" } },
        thresholds: { errors: ["rate==0"] },
      },
      ktv: {
        vu: "pipeline",
        population: { usersPerRoom: 2, singersPerRoom: 1 },
        // Nobody takes the room's share: every user makes its own billable request.
        shareRatio: 0,
        songs: { poolSize: 5 },
        resource: { type: 2, billingMode: 3 },
        singSeconds: 1,
        simulator: { catalogSize: 500 },
      },
    });
    const outcome = await runScenario({ scenario, out: dir, seed: 5, err, workers: 1 });
    const r = readResults(dir);
    expect(outcome.exitCode, err.text()).toBe(EXIT.ok);
    expect(r.summary.counters.failed_iterations).toBe(0);
    expect(r.ledger.rows.length).toBe(4);
    const owners = r.ledger.rows.map((row) => [row.user_id, row.room_id, row.billing_mode, row.master_id]);
    expect(owners.sort()).toEqual([
      ["k5-v0", "k5-room0", 3, "k5-v0"],
      ["k5-v1", "k5-room0", 3, "k5-v0"],
      ["k5-v2", "k5-room1", 3, "k5-v2"],
      ["k5-v3", "k5-room1", 3, "k5-v2"],
    ]);
    expect(r.summary.checks).toEqual([
      expect.objectContaining({ name: "billing", ok: true }),
      expect.objectContaining({ name: "vendor_routes", ok: true }),
    ]);
  }, 60_000);
});
