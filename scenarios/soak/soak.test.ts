import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { captureErr } from "../test-helpers.ts";
import { slope } from "./analyze.ts";
import { runSoak } from "./soak.ts";

// The soak's short form on a real run (seconds, not the 30 minutes of `npm run soak`): the regression
// scenario against a simulator on this thread, sampled every 400 ms. What it proves: the samples are real
// (heap, RSS and open fds of this process, the fds including the simulator's listening socket and the
// runner's files), the slopes in the report are the fit of those samples, the p99 thirds come from the run's
// time series, and soak.json holds it all. No verdict is asserted: a few seconds are all warm-up.

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("soak, short form", () => {
  it("samples heap, RSS and fds over a real run and reports their slopes and the p99 thirds", async () => {
    const out = mkdtempSync(join(tmpdir(), "ktv-soak-test-"));
    dirs.push(out);
    const err = captureErr();
    const { report, samples, p99s } = await runSoak({
      durationMs: 4_000,
      intervalMs: 400,
      out,
      err,
      catalogSize: 2000,
      workers: 1,
    });
    expect(samples.length, err.text()).toBeGreaterThanOrEqual(8);
    for (const s of samples) {
      expect(s.heap).toBeGreaterThan(1e6);
      expect(s.rss).toBeGreaterThan(s.heap);
      expect(s.fds).toBeGreaterThan(3);
    }
    // The simulator's sockets and the run's files are counted while the run is on, and let go after it.
    const during = Math.max(...samples.map((s) => s.fds!));
    expect(report.fds!.before_run).toBeGreaterThan(3);
    expect(during).toBeGreaterThan(report.fds!.before_run!);
    expect(report.fds!.after_close).toBeLessThan(during);
    const steady = samples.slice(Math.floor(samples.length * report.limits.warmupShare));
    expect(report.steady_from_s).toBe(steady[0]!.t_s);
    expect(report.heap.slope_bytes_per_min).toBeCloseTo(
      slope(steady.map((s) => ({ t: s.t_s / 60, v: s.heap }))),
      6,
    );
    expect(report.rss.slope_bytes_per_min).toBeCloseTo(
      slope(steady.map((s) => ({ t: s.t_s / 60, v: s.rss }))),
      6,
    );
    expect(report.fds!.max).toBe(during);
    expect(p99s.length).toBeGreaterThanOrEqual(2);
    expect(report.p99.first_third_ms).toBeGreaterThan(0);
    expect(report.p99.last_third_ms).toBeGreaterThan(0);
    const file = JSON.parse(readFileSync(join(out, "soak.json"), "utf8"));
    expect(file.report).toEqual(JSON.parse(JSON.stringify(report)));
    expect(file.samples).toHaveLength(samples.length);
  }, 60_000);
});
