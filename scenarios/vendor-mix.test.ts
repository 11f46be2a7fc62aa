import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readResults } from "../reports/read-results.ts";
import type { ScenarioDefinition } from "./format.ts";
import { resolveScenario } from "./resolve.ts";
import { EXIT, runScenario } from "./run/runner.ts";
import { captureErr } from "./test-helpers.ts";
import vendorMix from "./vendor-mix.ts";

// The vendor-mix scenario through the real runner and an embedded simulator, in a short form whose faults
// still fire (an outage of 3 s inside 9 s, lossy media throughout): the thresholds that prove each fault
// fired and was handled pass, the ledger holds several billing modes, vendors and scenes and agrees with the
// clients per mode and vendor. Without its fault profile the same run fails, naming the rules that never ran.

const dirs: string[] = [];
const newDir = () => {
  const d = mkdtempSync(join(tmpdir(), "ktv-vendor-mix-test-"));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface FaultDoc {
  faults: Record<string, unknown>[];
}

/**
 * vendor-mix with 9 s of load (4 s without faults: nothing to wait for), the outage from 3 s to 6 s, every
 * singer pausing and seeking, and small song pools (13 of them: one per vendor and type).
 */
function short(withFaults: boolean): ScenarioDefinition {
  const k = vendorMix.ktv!;
  const profile = k.faults!.profile as FaultDoc;
  return {
    ...vendorMix,
    options: {
      scenarios: {
        rooms: {
          executor: "constant-vus",
          vus: 6,
          duration: withFaults ? "9s" : "4s",
          gracefulStop: "5s",
        },
      },
      thresholds: { ...vendorMix.options.thresholds, songs_started: ["count>2"] },
    },
    ktv: {
      ...k,
      singSeconds: 2,
      songs: { poolSize: 8 },
      player: { pauseProb: 1, seekProb: 1, pauseMs: 200 },
      faults: withFaults
        ? {
            profile: {
              ...profile,
              // Every publication disconnected (not three in ten): a short run has few of them.
              faults: profile.faults.map((f) =>
                f.kind === "outage"
                  ? { ...f, from: 3_000, until: 6_000 }
                  : f.kind === "disconnect"
                    ? { ...f, probability: 1 }
                    : f,
              ),
            },
          }
        : {},
    },
  };
}

describe("vendor-mix scenario", () => {
  it("mixes types, vendors, scenes and modes; the outage and the loss fire and are handled; billing exact", async () => {
    const out = newDir();
    const err = captureErr();
    const outcome = await runScenario({
      scenario: resolveScenario(short(true)),
      out,
      seed: 4,
      err,
      workers: 1,
    });
    const r = readResults(out);
    const failed = r.summary.thresholds.filter((t) => !t.ok).map((t) => t.metric);
    expect(failed, err.text()).toEqual([]);
    expect(outcome.exitCode).toBe(EXIT.ok);
    const billing = (r.summary.checks ?? []).find((c) => c.name === "billing")!;
    expect(billing.ok, billing.detail).toBe(true);
    expect(billing.data).toMatchObject({ mixed: true });
    const rows = r.ledger.rows as unknown as Record<string, number>[];
    expect(rows.length).toBe(r.summary.counters.billable_requests);
    expect(new Set(rows.map((x) => x.billing_mode)).size).toBeGreaterThan(1);
    expect(new Set(rows.map((x) => x.vendor_id)).size).toBeGreaterThan(1);
    expect(new Set(rows.map((x) => x.resource_type)).size).toBeGreaterThan(1);
    expect(rows.some((x) => x.scene_id !== 0)).toBe(true);
    expect(new Set(r.faultEvents.map((e) => e.fault_id))).toEqual(
      new Set(["lossy-bursts", "media-disconnects", "vendor-outage"]),
    );
    // The fault check: every declared fault fired, and the reconnects it caused ran the media-reconnect rule.
    const checks = r.summary.checks ?? [];
    expect(checks.filter((c) => !c.ok).map((c) => c.detail)).toEqual([]);
    expect(checks.find((c) => c.name === "recoveries")?.detail).toMatch(/media-reconnect ran [1-9]/);
    // Only the outage failed iterations, and it did fail some (its window outlasts the retries).
    expect(Object.keys(r.summary.counters.failed_iterations_by_code as object)).toEqual(["1017098"]);
  }, 90_000);

  it("without its faults the run fails the thresholds that prove them, and says which", async () => {
    const out = newDir();
    const err = captureErr();
    const outcome = await runScenario({
      scenario: resolveScenario(short(false)),
      out,
      seed: 4,
      err,
      workers: 1,
    });
    expect(outcome.exitCode).toBe(EXIT.thresholds);
    const failed = outcome.summary.thresholds.filter((t) => !t.ok).map((t) => t.metric);
    expect(failed.sort()).toEqual(
      [
        "media_packets_lost",
        "recoveries{rule:media-reconnect}",
        "recoveries{rule:transient-backoff}",
        "recoveries{rule:vendor-unavailable}",
      ].sort(),
    );
    const lost = outcome.summary.thresholds.find((t) => t.metric === "media_packets_lost")!;
    expect(lost.ok).toBe(false);
  }, 90_000);
});
