import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readResults } from "../reports/read-results.ts";
import conformance from "./conformance.ts";
import { resolveScenario } from "./resolve.ts";
import { EXIT, runScenario } from "./run/runner.ts";
import { captureErr } from "./test-helpers.ts";
import type { Verdict } from "./vu/conformance.ts";
import { CONFORMANCE_CASES } from "./vu/conformance-cases.ts";

// The conformance scenario through the real runner: the reference client passes every rule; a client that
// never retries fails exactly the rules that need retries, and the run exits 99.

const dirs: string[] = [];
const newDir = () => {
  const d = mkdtempSync(join(tmpdir(), "ktv-conformance-test-"));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/**
 * Runs every case with the client of `fixture` (scenarios/vu/) and asserts the run exits 99 with exactly the
 * `failed` rules failing; returns the verdicts for the rule-specific problems.
 */
async function failsExactly(fixture: string, failed: string[]): Promise<Verdict[]> {
  const out = newDir();
  const outcome = await runScenario({
    scenario: resolveScenario(conformance),
    out,
    seed: 3,
    err: captureErr(),
    clientModule: new URL(`./vu/${fixture}`, import.meta.url).pathname,
  });
  const verdicts = (readResults(out).summary as unknown as { conformance: Verdict[] }).conformance;
  // On a mismatch, say what each rule's judge saw (a verdict that turns only on a loaded machine is otherwise
  // a list of booleans with no cause).
  const seen = verdicts.map((v) => `${v.rule}: ${v.ok ? "ok" : v.problems.join("; ")}`).join("\n");
  expect(outcome.exitCode, seen).toBe(EXIT.thresholds);
  expect(
    verdicts.map((v) => [v.rule, v.ok]),
    seen,
  ).toEqual(CONFORMANCE_CASES.map((c) => [c.rule, !failed.includes(c.rule)]));
  return verdicts;
}

// The four runs are independent (each its own embedded simulator, faults and ledger) and mostly wait on the
// cases' timers (backoffs, stalls, an outage): run side by side, the file takes about its longest run.
describe.concurrent("conformance scenario", () => {
  it("the reference client passes every recovery rule, and the ledger agrees with it", async () => {
    const out = newDir();
    const err = captureErr();
    const outcome = await runScenario({ scenario: resolveScenario(conformance), out, seed: 3, err });
    const r = readResults(out);
    const verdicts = (r.summary as unknown as { conformance: Verdict[] }).conformance;

    expect(verdicts.map((v) => [v.rule, v.ok, v.problems])).toEqual(
      CONFORMANCE_CASES.map((c) => [c.rule, true, []]),
    );
    expect(r.summary.thresholds.map((t) => [t.metric, t.ok])).toEqual(
      CONFORMANCE_CASES.map((c) => [`conformance{rule:${c.rule}}`, true]),
    );
    expect(outcome.exitCode, err.text()).toBe(EXIT.ok);
    // Each case's ledger rows: 1 + 1 + 2 (expired, re-requested) + 2 (revoked, next song) + 1 + 0 (outage) +
    // 1 (link drop) + 0 (dropped) + 1 (token renewed) + 1 (token re-minted) + 1 (lyrics fell back) + 0 (scene
    // not enabled) + 1 (paused) + 1 (seeked).
    expect(r.ledger.rows.length).toBe(13);
    expect(r.summary.counters.billable_requests).toBe(13);
    expect(r.faultEvents.map((e) => e.fault_id).sort()).toEqual(
      expect.arrayContaining([
        "busy-once",
        "disconnect-once",
        "drop-once",
        "expired-once",
        "reset-once",
        "stall-once",
        "krc-expired-once",
        "search-outage",
        "stall-once",
      ]),
    );
  }, 150_000);

  it("a client without retries fails the rules that need them: exit 99, with what went wrong", async () => {
    const out = newDir();
    const err = captureErr();
    // The first two cases: a busy vendor, then a download reset mid-file.
    const scenario = resolveScenario({
      ...conformance,
      options: {
        ...conformance.options,
        scenarios: { cases: { executor: "shared-iterations", vus: 1, iterations: 2, maxDuration: "1m" } },
        thresholds: {
          "conformance{rule:transient-backoff}": ["rate==1"],
          "conformance{rule:download-resume}": ["rate==1"],
        },
      },
    });
    const outcome = await runScenario({
      scenario,
      out,
      seed: 3,
      err,
      clientModule: new URL("./vu/no-retry-client.fixture.ts", import.meta.url).pathname,
    });
    const verdicts = (readResults(out).summary as unknown as { conformance: Verdict[] }).conformance;

    expect(outcome.exitCode).toBe(EXIT.thresholds);
    expect(outcome.summary.thresholds.map((t) => t.ok)).toEqual([false, false]);
    expect(verdicts.map((v) => v.rule)).toEqual(["transient-backoff", "download-resume"]);
    expect(verdicts[0]!.problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^outcome: expected success, got failure 1017097 at search/),
      ]),
    );
    expect(verdicts[1]!.problems.join("\n")).toMatch(/recovery: expected transient-backoff at download/);
  }, 150_000);

  it("a client without a token server or lyrics fails exactly the token and lyrics rules", async () => {
    const verdicts = await failsExactly("no-token-renewal-client.fixture.ts", [
      "token-renew",
      "token-remint",
      "lyrics-fallback",
    ]);
    const byRule = Object.fromEntries(verdicts.map((v) => [v.rule, v.problems.join("\n")]));
    expect(byRule["token-renew"]).toMatch(/recovery: expected token-renew at room, got none/);
    expect(byRule["token-remint"]).toMatch(/outcome: expected success, got failure 1002078 at login/);
    expect(byRule["lyrics-fallback"]).toMatch(/recovery: expected lyrics-fallback at lyrics/);
  }, 150_000);

  it("a careless client (scene dropped, pause by muting, seek ignored) fails exactly the scene and player rules", async () => {
    const verdicts = await failsExactly("careless-player-client.fixture.ts", [
      "scene-not-enabled",
      "player-pause",
      "player-seek",
    ]);
    const byRule = Object.fromEntries(verdicts.map((v) => [v.rule, v.problems]));
    expect(byRule["scene-not-enabled"]).toEqual([
      "outcome: expected a reported failure, got success",
      "ledger rows: expected 0, got 1",
      "code 1017076: expected it met 1 time(s), got 0",
    ]);
    expect(byRule["player-pause"]!.join("\n")).toMatch(/resumes: expected 1, got 0/);
    expect(byRule["player-pause"]!.join("\n")).toMatch(/position while paused: moved from \d+ to \d+ ms/);
    expect(byRule["player-seek"]!.join("\n")).toMatch(/seek 1: asked for \d+ ms, the player showed \d+ ms/);
  }, 150_000);
});
