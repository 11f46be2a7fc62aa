import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readResults } from "../../reports/read-results.ts";
import { ktv } from "../test-helpers.ts";

// `ktv run` as users and CI run it: a child process, its exit code, its files. The scenarios here use the
// light "music" VU (no media engine) so each run costs a few seconds.

const dir = mkdtempSync(join(tmpdir(), "ktv-run-cli-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function scenarioFile(name: string, body: object): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify({ name, description: `test scenario ${name}`, ...body }));
  return path;
}

const light = {
  vu: "music",
  population: { usersPerRoom: 2 },
  resource: { type: 2 },
  simulator: { catalogSize: 2000 },
};

describe("ktv run", () => {
  it("exits 99 when a threshold breaks; abortOnFail stops the run early with complete results", async () => {
    const file = scenarioFile("breach", {
      options: {
        scenarios: { users: { executor: "constant-vus", vus: 2, duration: "30s", gracefulStop: "5s" } },
        thresholds: {
          iteration_duration_ms: [{ threshold: "p(95)<1", abortOnFail: true }],
          iterations: ["count>1000000"],
        },
      },
      ktv: light,
    });
    const out = join(dir, "breach-out");
    const run = ktv(["run", file, "--out", out, "--no-report"]);
    expect(await run.code, run.stderr()).toBe(99);
    const r = readResults(out);
    expect(r.summary.interrupted).toBe(true);
    expect(r.summary.interrupt_reason).toBe("threshold iteration_duration_ms: p(95)<1 failed (abortOnFail)");
    expect(r.summary.duration_s).toBeLessThan(15);
    expect(r.summary.thresholds.map((t) => [t.metric, t.expression, t.ok])).toEqual([
      ["iteration_duration_ms", "p(95)<1", false],
      ["iterations", "count>1000000", false],
    ]);
    expect(run.stderr()).toMatch(/threshold FAILED: iteration_duration_ms p\(95\)<1 \(observed [\d.]+\)/);
    expect(run.stdout()).toContain(`results: ${out}`);
  }, 60_000);

  it("SIGINT ends the run cleanly: exit 105 and every result file present and valid", async () => {
    const file = scenarioFile("long", {
      options: { scenarios: { users: { executor: "constant-vus", vus: 4, duration: "60s" } } },
      ktv: light,
    });
    const out = join(dir, "long-out");
    const run = ktv(["run", file, "--out", out]);
    // A progress line (printed every 5 s) with a finished iteration: the VUs are running and there is something
    // to save. Waiting for it, not for a fixed time: on a loaded 2-core machine start-up alone took over 30 s.
    await run.waitFor(/^long \d+s {2}vus \d+ .* iterations [1-9]/m, 75_000);
    run.kill("SIGINT");
    expect(await run.code, run.stderr()).toBe(105);
    const r = readResults(out);
    expect(r.summary.interrupted).toBe(true);
    expect(r.summary.interrupt_reason).toBe("interrupted by SIGINT");
    // Ended by the signal, before the scenario's 60 s.
    expect(r.summary.duration_s).toBeLessThan(60);
    expect(r.timeseries.length).toBeGreaterThan(0);
    expect(r.summary.counters.iterations).toBeGreaterThan(0);
    expect(r.summary.counters.billable_requests).toBe(r.ledger.rows.length);
    expect(run.stdout()).toMatch(/report: .*report\.html/);
  }, 120_000);

  it("an invalid scenario: exit 2 and every problem listed, nothing run", async () => {
    const file = scenarioFile("broken", {
      options: { vus: 0, duration: "1x", thresholds: { ttfa_ms: ["p95<1"] } },
      ktv: { shareRatio: 3 },
    });
    const run = ktv(["run", file, "--out", join(dir, "never")]);
    expect(await run.code).toBe(2);
    const err = run.stderr();
    expect(err).toMatch(/options\.scenarios\.default\.vus: must be an integer/);
    expect(err).toMatch(/options\.scenarios\.default\.duration: "1x" is not a duration/);
    expect(err).toMatch(/options\.thresholds\["ttfa_ms"\]\[0\]: "p95<1" is not a threshold/);
    expect(err).toMatch(/ktv\.shareRatio: must be a number in 0\.\.1/);
  }, 30_000);

  it("--plan prints the schedule without running", async () => {
    const run = ktv(["run", "latency-tail", "--plan", "--duration", "10s"]);
    expect(await run.code).toBe(0);
    const plan = JSON.parse(run.stdout());
    expect(plan.scenarios[0]).toMatchObject({
      executor: "constant-arrival-rate",
      model: "open",
      duration_ms: 10_000,
      arrivals: { count: 20, first_ms: 0, last_ms: 9500 },
    });
  }, 30_000);
});
