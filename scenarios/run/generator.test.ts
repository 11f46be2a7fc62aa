import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readResults } from "../../reports/read-results.ts";
import type { ScenarioDefinition } from "../format.ts";
import { resolveScenario } from "../resolve.ts";
import { captureErr } from "../test-helpers.ts";
import { epochNow } from "./clock.ts";
import { ThreadSampler, TimerLag } from "./generator.ts";
import { runScenario } from "./runner.ts";
import { threadNice } from "./thread-cpu.ts";

// The generator watching itself, through the real runner (worker threads, embedded simulator): a worker starved
// by its client trips generator_saturated with the reason; a light run does not; a main thread blocked for 3 s
// still yields the real duration, real interval times and rates from them. Behaviour only: no assertion on how
// fast anything runs (a busy loop lasts as long as the test says, on any machine).

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {}
}

function scenario(o: {
  name: string;
  vu: "music" | "pipeline";
  vus: number;
  duration: string;
}): ScenarioDefinition {
  return {
    name: o.name,
    description: "generator self-watch test",
    options: {
      scenarios: {
        users: { executor: "constant-vus", vus: o.vus, duration: o.duration, gracefulStop: "5s" },
      },
      thresholds: { generator_elu: ["max<0.9"] },
    },
    ktv: {
      vu: o.vu,
      population: { usersPerRoom: 1 },
      resource: { type: 2 },
      singSeconds: 0.1,
      simulator: { catalogSize: 2000 },
    },
  };
}

async function run(
  def: ScenarioDefinition,
  extra: { clientModule?: string; onInterval?: (seq: number) => void; workerNice?: number },
) {
  const out = mkdtempSync(join(tmpdir(), "ktv-generator-test-"));
  dirs.push(out);
  const err = captureErr();
  const outcome = await runScenario({
    scenario: resolveScenario(def),
    out,
    seed: 3,
    err,
    workers: 1,
    ...extra,
  });
  return { outcome, err, results: readResults(out) };
}

describe("thread sampler", () => {
  it("a thread kept busy shows in its utilisation, its loop delay and its clock lag", async () => {
    const sampler = new ThreadSampler(new TimerLag(10));
    await new Promise((r) => setTimeout(r, 50));
    sampler.sample();
    // The delay monitor forgets the interval that straddles its reset: let it tick once before the spin.
    await new Promise((r) => setTimeout(r, 30));
    spin(400);
    await new Promise((r) => setTimeout(r, 30));
    const s = sampler.sample();
    sampler.close();
    expect(s.spanMs).toBeGreaterThanOrEqual(400);
    expect(s.elu).toBeGreaterThan(0.5);
    // The 10 ms timers could not fire during the 400 ms spin: both saw a delay of about the spin.
    expect(s.delayMaxMs).toBeGreaterThanOrEqual(300);
    expect(s.lagMaxMs).toBeGreaterThanOrEqual(300);
  });

  it("a stall counts as every tick it made late, each once", async () => {
    const lag = new TimerLag(10);
    const start = performance.now();
    spin(200);
    await new Promise((r) => setTimeout(r, 55));
    const t = lag.take();
    const elapsed = performance.now() - start;
    lag.close();
    expect(t).not.toBeNull();
    expect(t!.maxMs).toBeGreaterThanOrEqual(150);
    // The ~20 ticks due during the stall are all counted (late by 200, 190, ... ms), none twice.
    expect(t!.ticks).toBeGreaterThanOrEqual(19);
    expect(t!.ticks).toBeLessThanOrEqual(Math.ceil(elapsed / 10) + 1);
    expect(t!.p99Ms).toBeGreaterThanOrEqual(100);
  });
});

describe("ktv run watches its own generator", () => {
  it("a worker starved by its client trips generator_saturated, with the worker, the figure and when", async () => {
    const { outcome, err, results } = await run(
      scenario({ name: "starved", vu: "pipeline", vus: 1, duration: "5s" }),
      { clientModule: new URL("./spin-client.fixture.ts", import.meta.url).pathname },
    );
    const s = results.summary;
    expect(s.generator_saturated, err.text()).toBe(true);
    const elu = s.generator!.reasons.find((r) => r.thread === "worker 0" && r.figure === "elu");
    expect(elu, JSON.stringify(s.generator)).toBeDefined();
    expect(elu!.observed).toBeGreaterThanOrEqual(0.9);
    expect(elu!.to_s - elu!.from_s).toBeGreaterThanOrEqual(elu!.sustained_s - 1e-3);
    expect(s.generator!.workers[0]!.elu_max).toBeGreaterThanOrEqual(0.9);
    expect(s.generator!.saturated_from_s).not.toBeNull();
    // Said on stderr as it happened and again at the end.
    expect(err.text()).toMatch(/load generator is saturated: worker 0: event-loop utilisation/);
    expect(err.text()).toMatch(/load generator was saturated from/);
    // The generator metrics are thresholds like any other, and in the time series.
    const t = s.thresholds.find((x) => x.metric === "generator_elu")!;
    expect(t.ok).toBe(false);
    expect(outcome.exitCode).toBe(99);
    expect(results.timeseries.some((p) => (p.metrics.generator_elu?.max ?? 0) >= 0.9)).toBe(true);
    // No threshold-based knee can be the target's here: the capacity model says the generator limited it.
    expect(s.capacity.knee).toBeNull();
    expect(s.capacity.knee_limited_by).toBe("generator");
  }, 60_000);

  it("an unloaded run is not saturated and still reports every figure", async () => {
    // --worker-nice 3: some thread of this process (the worker) runs at nice 3 while the run goes.
    const nices = new Set<number>();
    const { outcome, err, results } = await run(
      scenario({ name: "light", vu: "pipeline", vus: 2, duration: "4s" }),
      {
        clientModule: new URL("./idle-client.fixture.ts", import.meta.url).pathname,
        workerNice: 3,
        onInterval: () => {
          for (const t of readdirSync("/proc/self/task")) nices.add(threadNice(Number(t)) ?? -1);
        },
      },
    );
    if (process.platform === "linux") expect([...nices]).toContain(3);
    expect(results.summary.generator!.worker_nice).toBe(3);
    const s = results.summary;
    expect(s.generator_saturated, JSON.stringify(s.generator)).toBe(false);
    expect(outcome.exitCode, err.text()).toBe(0);
    const g = s.generator!;
    expect(g.reasons).toEqual([]);
    expect(g.late_intervals).toBe(0);
    expect(g.workers.map((w) => w.worker)).toEqual([0]);
    expect(g.workers[0]!.samples).toBeGreaterThanOrEqual(3);
    expect(g.workers[0]!.clock_lag_p99_ms).not.toBeNull();
    expect(g.main.samples).toBeGreaterThanOrEqual(3);
    expect(g.process_cpu.max).toBeGreaterThan(0);
    expect(g.cores).toBeGreaterThan(0);
    if (process.platform === "linux") {
      // Per-thread CPU (thread-cpu.ts): the worker's from its own samples, the embedded simulator's from its tid.
      expect(g.workers[0]!.cpu_s).toBeGreaterThan(0);
      expect(g.main.cpu_s).toBeGreaterThan(0);
      // The idle client asks the simulator for nothing: known (the thread's tid came), ~0 s.
      expect(g.simulator_cpu_s).toBeGreaterThanOrEqual(0);
      for (const name of ["generator_thread_cpu", "target_cpu"]) {
        expect(
          results.timeseries.some((p) => p.metrics[name]),
          name,
        ).toBe(true);
      }
    }
    expect(s.capacity.knee_limited_by).toBeNull();
    expect(err.text()).not.toMatch(/saturated/);
    const t = s.thresholds.find((x) => x.metric === "generator_elu")!;
    expect(t.ok).toBe(true);
    expect(t.observed).not.toBeNull();
    for (const name of [
      "generator_elu",
      "generator_loop_delay_ms",
      "generator_clock_lag_ms",
      "generator_cpu",
    ]) {
      expect(
        results.timeseries.some((p) => p.metrics[name]),
        name,
      ).toBe(true);
    }
  }, 60_000);

  it("a main thread blocked for 3 s still reports the real duration, interval times and rates", async () => {
    let blockEnd = 0;
    const { err, results } = await run(scenario({ name: "blocked", vu: "music", vus: 2, duration: "3s" }), {
      onInterval: (seq) => {
        if (seq !== 0) return;
        spin(3000);
        blockEnd = epochNow();
      },
    });
    const s = results.summary;
    const t0 = Date.parse(s.started_at);
    const blockedTill = (blockEnd - t0) / 1000;
    expect(blockedTill).toBeGreaterThan(3.5);
    // The run lasted at least until the block ended; planned boundaries would have said about 2 s.
    expect(s.duration_s, err.text()).toBeGreaterThanOrEqual(blockedTill - 0.002);
    expect(Date.parse(s.ended_at) - t0).toBeCloseTo(s.duration_s * 1000, -1);
    const ts = results.timeseries;
    // Each point carries its real end: t and elapsed agree, time moves forward, the stretched interval shows.
    for (const p of ts) expect(Math.abs(p.t - (t0 + p.elapsed_s * 1000))).toBeLessThanOrEqual(2);
    for (let i = 1; i < ts.length; i++) expect(ts[i]!.elapsed_s).toBeGreaterThanOrEqual(ts[i - 1]!.elapsed_s);
    expect(ts[1]!.elapsed_s - ts[0]!.elapsed_s).toBeGreaterThanOrEqual(3 - 0.002);
    expect(ts.at(-1)!.elapsed_s).toBeCloseTo(s.duration_s, 2);
    expect(s.generator!.late_intervals).toBeGreaterThanOrEqual(1);
    expect(err.text()).toMatch(/the runner fell behind: interval 2 covered [\d.]+ s instead of 1 s/);
    // Rates from the real duration: the ledger's rows over the real seconds.
    const rows = results.ledger.rows.length;
    expect(rows).toBeGreaterThan(0);
    const expected = (rows / s.duration_s) * 3600;
    expect(Math.abs(s.capacity.billable_per_hour.total - expected) / expected).toBeLessThan(1e-3);
    expect(s.capacity.billable_per_hour.total).toBeLessThanOrEqual((rows / blockedTill) * 3600 + 1e-3);
    expect(ts.reduce((a, p) => a + p.iterations, 0)).toBe(s.counters.iterations);
    // A whole second without the main thread is a stall: the generator says it was saturated, and where.
    expect(s.generator!.reasons.some((r) => r.thread === "main" && r.figure === "clock_lag_max_ms")).toBe(
      true,
    );
  }, 60_000);
});
