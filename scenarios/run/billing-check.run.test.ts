import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readResults } from "../../reports/read-results.ts";
import { resolveScenario } from "../resolve.ts";
import { captureErr } from "../test-helpers.ts";
import { EXIT, runScenario } from "./runner.ts";

// The billing check wired into a real run (worker thread, embedded simulator, real ledger): a client that
// under-reports one billable request fails the run with exit 99 and a failed "billing" check in summary.json;
// the same run with the honest reference client passes it.

const root = mkdtempSync(join(tmpdir(), "ktv-billing-run-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const scenario = resolveScenario({
  name: "billing-exact",
  description: "two singers, one song each",
  options: {
    scenarios: { once: { executor: "per-vu-iterations", vus: 2, iterations: 1, maxDuration: "30s" } },
  },
  ktv: {
    vu: "pipeline",
    population: { usersPerRoom: 1 },
    songs: { poolSize: 5 },
    resource: { type: 2 },
    singSeconds: 1,
    simulator: { catalogSize: 500 },
  },
});

describe("billing exact or the run fails", () => {
  it("fails a run whose ledger has one row more than the clients counted", async () => {
    const err = captureErr();
    const out = join(root, "lying");
    const outcome = await runScenario({
      scenario,
      out,
      seed: 3,
      err,
      workers: 1,
      clientModule: new URL("./fixtures/under-reporting-client.fixture.ts", import.meta.url).pathname,
    });
    const r = readResults(out);
    expect(outcome.exitCode, err.text()).toBe(EXIT.thresholds);
    expect(r.summary.thresholds.every((t) => t.ok)).toBe(true);
    const billing = r.summary.checks?.find((c) => c.name === "billing");
    expect(billing?.ok).toBe(false);
    expect(r.ledger.rows.length).toBe(r.summary.counters.billable_requests + 1);
    expect(billing?.detail).toContain(
      `the ledger should have ${r.summary.counters.billable_requests} rows; it has ${r.ledger.rows.length}`,
    );
  }, 60_000);

  it("passes the same run with the reference client", async () => {
    const err = captureErr();
    const out = join(root, "honest");
    const outcome = await runScenario({ scenario, out, seed: 3, err, workers: 1 });
    const r = readResults(out);
    expect(outcome.exitCode, err.text()).toBe(EXIT.ok);
    expect(r.summary.checks).toEqual([
      expect.objectContaining({ name: "billing", ok: true }),
      expect.objectContaining({ name: "vendor_routes", ok: true }),
    ]);
    expect(r.ledger.rows.length).toBe(2);
  }, 60_000);
});
