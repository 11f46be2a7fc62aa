import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readResults } from "../reports/read-results.ts";
import { SUMMARY_TRENDS } from "./metrics/catalog.ts";
import { quantiles } from "./metrics/hdr.ts";
import { MetricSet } from "./metrics/set.ts";
import { resolveScenario } from "./resolve.ts";
import { readIntervals } from "./run/intervals.ts";
import { runScenario } from "./run/runner.ts";
import smoke from "./smoke.ts";
import { captureErr } from "./test-helpers.ts";

// The smoke scenario through the real runner (worker threads, embedded simulator, real sockets): the whole
// pipeline measured, every result file valid for the reports, and the client's billing count equal to the
// vendor's ledger.

const LATENCY_THRESHOLDS = new Set(["ttfa_ms", "mix_lateness_ms", "e2e_latency_ms"]);
/** The smallest latency bound among smoke's thresholds (mix lateness p99 < 50 ms). */
const STALL_EXCUSE_MS = 50;

const dir = mkdtempSync(join(tmpdir(), "ktv-smoke-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("smoke scenario", () => {
  it("runs green and writes complete, consistent results", async () => {
    const err = captureErr();
    const outcome = await runScenario({ scenario: resolveScenario(smoke), out: dir, seed: 7, err });
    const r = readResults(dir);
    const s = r.summary;

    expect(s.thresholds.length).toBe(5);
    expect(s.interrupted).toBe(false);
    // Latency thresholds measure the target only while the generator keeps time. On a machine another job
    // starves (mix lateness p99 436 ms at load ~15), the run must say so itself: either generator_saturated
    // with the stderr warning, or, in a run too short for the 3 s saturation rules (two busy loops plus the
    // whole suite once gave mix lateness p99 > 50 ms in 1 s), its own threads' figures showing a stall as
    // long as the breached threshold's bound. Then exit 99 from the breach. Anything else (errors, no songs,
    // a latency breach with the generator on time) fails as always.
    const failed = s.thresholds.filter((t) => !t.ok);
    const excusable = failed.every((t) => LATENCY_THRESHOLDS.has(t.metric));
    const stalledMs = Math.max(
      ...(s.generator ? [s.generator.main, ...s.generator.workers] : []).flatMap((f) => [
        f.loop_delay_max_ms,
        f.clock_lag_max_ms ?? 0,
      ]),
    );
    if (failed.length > 0 && excusable && s.generator_saturated === true) {
      expect(outcome.exitCode).toBe(99);
      expect(err.text()).toMatch(/load generator (is|was) saturated/);
    } else if (failed.length > 0 && excusable && stalledMs >= STALL_EXCUSE_MS) {
      expect(outcome.exitCode).toBe(99);
    } else {
      expect(outcome.exitCode, err.text()).toBe(0);
      expect(failed, JSON.stringify(s.generator)).toEqual([]);
    }

    for (const name of SUMMARY_TRENDS) expect(Object.keys(s.metrics)).toContain(name);
    for (const name of [
      "ttfa_ms",
      "request_resource_ms",
      "download_ms",
      "mix_lateness_ms",
      "mix_cost_us",
      "e2e_latency_ms",
    ]) {
      expect(s.metrics[name]!.count, name).toBeGreaterThan(0);
      expect(s.metrics[name]!.p50, name).toBeGreaterThan(0);
      expect(s.metrics[name]!.p99).toBeGreaterThanOrEqual(s.metrics[name]!.p50);
    }
    expect(s.counters.iterations).toBeGreaterThanOrEqual(4);
    expect(s.counters.songs_started).toBe(s.counters.iterations);
    expect(s.counters.billable_requests).toBeGreaterThan(0);
    expect(s.counters.billable_requests).toBe(r.ledger.rows.length);
    expect(s.counters.bytes_downloaded).toBeGreaterThan(100_000);
    expect(s.capacity.billable_per_hour.total).toBeGreaterThan(0);
    expect(s.capacity.formulas.length).toBeGreaterThan(3);

    // One point per second of the run, whose sums are the run's counters.
    expect(r.timeseries.length).toBeGreaterThanOrEqual(8);
    expect(r.timeseries.reduce((a, p) => a + p.iterations, 0)).toBe(s.counters.iterations);
    expect(r.timeseries.reduce((a, p) => a + p.billable_requests, 0)).toBe(s.counters.billable_requests);
    expect(r.timeseries.some((p) => p.metrics.e2e_latency_ms && p.metrics.e2e_latency_ms.count > 0)).toBe(
      true,
    );

    // intervals.ndjson (what `ktv merge` adds up): its intervals sum to the run's totals, histograms exactly.
    const fromIntervals = new MetricSet();
    for (const iv of readIntervals(dir).intervals) fromIntervals.mergeSet(iv.set);
    expect(fromIntervals.counter("iterations")).toBe(s.counters.iterations);
    for (const name of ["ttfa_ms", "mix_lateness_ms", "e2e_latency_ms"])
      expect(quantiles(fromIntervals.trends.get(name)), name).toEqual(s.metrics[name]);

    expect(r.environment).toMatchObject({
      seed: 7,
      node: process.version,
      target: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
    });
    expect(err.text()).toMatch(/^smoke \d+s {2}vus \d+ {2}[\d.]+ it\/s {2}iterations \d+/m);
  }, 60_000);
});
