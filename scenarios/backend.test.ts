import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SERVER_API_ACTIONS } from "../protocol/server-api.ts";
import { readResults } from "../reports/read-results.ts";
import backend from "./backend.ts";
import { resolveScenario } from "./resolve.ts";
import { runScenario } from "./run/runner.ts";
import { shortForm } from "./short-forms.ts";
import { captureErr } from "./test-helpers.ts";
import { pickAction } from "./vu/backend.ts";

// The backend scenario through the real runner (worker thread, embedded simulator, real sockets), shortened:
// every call signed and answered, each action's rate and latency in summary.json's server_api block, and its
// counts the same as the simulator's.

const dir = mkdtempSync(join(tmpdir(), "ktv-backend-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("backend scenario", () => {
  it("the mix reaches every action", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) seen.add(pickAction(i / 1000));
    expect([...seen].sort()).toEqual([...SERVER_API_ACTIONS].sort());
  });

  it("drives the server REST API and reports per-action rate and latency", { timeout: 120_000 }, async () => {
    const { scenario } = shortForm(backend, { time: 0.2, load: 0.5, seed: 3, why: "test" });
    const err = captureErr();
    const outcome = await runScenario({
      scenario: resolveScenario(scenario),
      out: dir,
      seed: 3,
      err,
      workers: 1,
    });
    const s = readResults(dir).summary as ReturnType<typeof readResults>["summary"] & {
      server_api?: Record<
        string,
        { calls: number; per_s: number; retries: number; p50: number; p99: number }
      >;
    };
    expect(outcome.exitCode, err.text()).toBe(0);
    expect(s.counters.iterations).toBeGreaterThan(20);
    expect(s.counters.failed_iterations, JSON.stringify(s.counters.errors_by_code)).toBe(0);
    const api = s.server_api!;
    const calls = Object.values(api).reduce((a, x) => a + x.calls, 0);
    expect(calls).toBe(s.counters.iterations);
    expect(Object.keys(api).length).toBeGreaterThan(5);
    for (const [action, x] of Object.entries(api)) {
      expect(SERVER_API_ACTIONS, action).toContain(action);
      expect(x.calls, action).toBeGreaterThan(0);
      expect(x.per_s, action).toBeGreaterThan(0);
      expect(x.p99, action).toBeGreaterThanOrEqual(x.p50);
    }
    expect((s.counters as Record<string, unknown>).server_api_calls).toMatchObject({
      QuerySongsCopyright: api.QuerySongsCopyright!.calls,
    });
  });
});
