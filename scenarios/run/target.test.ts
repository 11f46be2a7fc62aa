import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readResults } from "../../reports/read-results.ts";
import type { Simulator } from "../../simulator/app.ts";
import { call, session, testSimulator } from "../../test/sim.ts";
import { resolveScenario } from "../resolve.ts";
import { captureErr } from "../test-helpers.ts";
import { runScenario } from "./runner.ts";

// `--target`: a run against a simulator that is already running (and already has history), with a fault
// timeline. The results hold this run's ledger rows and fault events only, the timeline's profile is applied
// and lifted on time, and the simulator is left without faults.

let sim: Simulator;
const dir = mkdtempSync(join(tmpdir(), "ktv-target-test-"));

beforeAll(async () => {
  sim = await testSimulator({ seed: 9 });
  // History from before the run: one billed request by someone else.
  const h = await session(sim.url, "earlier-user");
  const top = await call(sim.url, "POST", "/v1/music/extended", {
    headers: h,
    body: { command: "/top/song", params: { vendor_id: 0, top_id: "8888", page: 1, filter: [1] } },
  });
  const song = top.body.data.songs.find((s: { accompany_duration: number }) => s.accompany_duration > 0);
  const r = await call(sim.url, "POST", "/v1/music/resource", {
    headers: h,
    body: { song_id: song.song_id, resource_type: 1, billing_mode: 0, vendor_id: 0 },
  });
  expect(r.body.code).toBe(0);
});
afterAll(async () => {
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("a run against an external simulator", () => {
  it("counts only its own rows and events; the fault timeline is applied, lifted, and cleaned up", async () => {
    const err = captureErr();
    const scenario = resolveScenario({
      name: "timeline",
      description: "busy vendor from 1.5 s to 3 s",
      options: {
        scenarios: { users: { executor: "constant-vus", vus: 2, duration: "4500ms", gracefulStop: "5s" } },
      },
      ktv: {
        vu: "music",
        population: { usersPerRoom: 1 },
        resource: { type: 2 },
        faults: {
          timeline: [
            {
              at: "1500ms",
              profile: {
                faults: [
                  {
                    id: "busy",
                    kind: "error",
                    code: 1017052,
                    selector: { route: "POST /v1/music/resource" },
                  },
                ],
              },
            },
            { at: "3s", profile: null },
          ],
        },
      },
    });
    const startedAt = Date.now();
    const outcome = await runScenario({ scenario, target: sim.url, out: dir, seed: 2, err, workers: 1 });
    const r = readResults(dir);

    expect(outcome.exitCode, err.text()).toBe(0);
    expect(r.environment.target).toBe(sim.url);
    // The earlier row is not this run's.
    expect(r.ledger.rows.every((row) => String(row.user_id).startsWith("k2-"))).toBe(true);
    expect(r.ledger.rows.length).toBe(r.summary.counters.billable_requests);
    expect(r.ledger.totals.billable).toBe(r.ledger.rows.length);
    // 1017052 (vendor not enabled) is not retried: it fails the iterations that met it, during the window only.
    expect(r.summary.counters.errors_by_code["1017052"]).toBeGreaterThan(0);
    const busy = r.faultEvents.filter((e) => e.fault_id === "busy");
    expect(busy.length).toBe(r.summary.counters.errors_by_code["1017052"]);
    const t0 = Date.parse(r.summary.started_at);
    for (const e of busy) {
      expect(e.time - t0).toBeGreaterThanOrEqual(1400);
      expect(e.time - t0).toBeLessThan(3500);
    }
    expect(r.faultEvents.every((e) => e.time >= startedAt)).toBe(true);
    expect(r.timeseries.slice(0, 1).every((p) => p.errors === 0)).toBe(true);
    const after = await call(sim.url, "GET", "/admin/faults");
    expect(after.body.data.faults).toEqual([]);
  }, 60_000);
});
