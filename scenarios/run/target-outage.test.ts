import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readResults } from "../../reports/read-results.ts";
import { LineChild, listeningUrl } from "../../test/child.ts";
import { resolveScenario } from "../resolve.ts";
import { captureErr } from "../test-helpers.ts";
import { runScenario } from "./runner.ts";
import type { TargetAvailability } from "./target-watch.ts";

// kill -9 of the simulator in the middle of a run: `ktv sim` with a file ledger as a child process, `ktv run
// --target` at it, SIGKILL after the first intervals, the same command started again on the same port and
// ledger. Nothing the clients saw acknowledged may be missing from the ledger afterwards, the runner must say
// when the target was gone and when it came back, go on with iterations that succeed, and end normally.

const dir = mkdtempSync(join(tmpdir(), "ktv-outage-"));
const children: LineChild[] = [];

function simChild(port: number): LineChild {
  const c = new LineChild([
    "scenarios/cli/ktv.ts",
    "sim",
    "--port",
    String(port),
    "--seed",
    "3",
    "--catalog-size",
    "2000",
    "--data-dir",
    join(dir, "ledger"),
    "--log-level",
    "warn",
  ]);
  children.push(c);
  return c;
}

afterAll(async () => {
  for (const c of children) if (c.alive) await c.kill();
  rmSync(dir, { recursive: true, force: true });
});

describe("the simulator killed mid-run", () => {
  it("loses no acknowledged ledger row; the runner reports the outage and goes on once it is back", async () => {
    const started = performance.now();
    const url = await listeningUrl(simChild(0));
    const startMs = performance.now() - started;
    const port = Number(new URL(url).port);
    // Long enough for the restart to come back and serve: killed after ~2 s, restarted in about as long as the
    // first start took (seconds here, ~10 s on a loaded 2-core machine), then the VUs' longest wait before they
    // try an unreachable target again (8 s, scenarios/vu/relogin-backoff.ts) and a few seconds of iterations.
    const durationS = Math.ceil(2 + (2 * startMs) / 1000 + 8 + 4);
    const scenario = resolveScenario({
      name: "outage",
      description: "2 users requesting and downloading while the simulator is killed and restarted",
      options: {
        scenarios: {
          users: { executor: "constant-vus", vus: 2, duration: `${durationS}s`, gracefulStop: "5s" },
        },
      },
      ktv: { vu: "music", population: { usersPerRoom: 1 }, resource: { type: 2 } },
    });

    let killedAt = 0;
    let backAt = 0;
    let restart: Promise<void> | null = null;
    const onInterval = (seq: number) => {
      // After the second interval: iterations have billed by then. The runner's thread is not held up.
      if (seq !== 1 || restart) return;
      restart = (async () => {
        await children[0]!.kill();
        killedAt = Date.now();
        await listeningUrl(simChild(port));
        backAt = Date.now();
      })();
    };
    const err = captureErr();
    const out = join(dir, "results");
    const outcome = await runScenario({ scenario, target: url, out, seed: 4, err, workers: 1, onInterval });
    await restart;
    const r = readResults(out);
    const summary = r.summary as typeof r.summary & { target: TargetAvailability };

    // Ended normally, every check passing (vendor_routes is not comparable across a restart and says so).
    const failed = summary.checks?.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`) ?? [];
    expect(outcome.exitCode, `${err.text()}\nfailed checks: ${failed.join("; ") || "none"}`).toBe(0);
    expect(summary.interrupted).toBe(false);
    expect(killedAt).toBeGreaterThan(0);
    expect(backAt).toBeGreaterThan(killedAt);
    const check = (name: string) => summary.checks?.find((c) => c.name === name);
    expect(check("vendor_routes")?.detail).toMatch(/^not checked: the target stopped answering/);

    // No acknowledged row lost: every requestResource the clients saw answered 0 is a row in the ledger, read
    // back from the restarted simulator, rows billed before the kill included.
    expect(check("billing")?.ok, check("billing")?.detail).toBe(true);
    expect(r.ledger.rows.length).toBeGreaterThanOrEqual(summary.counters.billable_requests);
    expect(r.ledger.rows.filter((row) => row.time < killedAt).length).toBeGreaterThan(0);

    // The runner reported the outage: one span, closed once the simulator answered again, on stderr too.
    expect(summary.target.outages).toHaveLength(1);
    const outage = summary.target.outages[0]!;
    expect(outage.until_s).not.toBeNull();
    expect(outage.until_s!).toBeGreaterThan(outage.from_s);
    expect(outage.error).toMatch(/ECONNREFUSED|fetch failed/);
    expect(summary.target.unreachable_s).toBeGreaterThan(0);
    expect(err.text()).toMatch(/the target stopped answering at [\d.]+ s/);
    expect(err.text()).toMatch(/the target answers again at [\d.]+ s/);

    // It went on: requests billed after the restart, and iterations that succeeded in intervals after it.
    expect(r.ledger.rows.filter((row) => row.time > backAt).length).toBeGreaterThan(0);
    const t0 = Date.parse(summary.started_at);
    const after = r.timeseries.filter((p) => p.t > t0 + outage.until_s! * 1000);
    expect(after.reduce((n, p) => n + p.iterations - p.errors, 0)).toBeGreaterThan(0);
  }, 180_000);
});
