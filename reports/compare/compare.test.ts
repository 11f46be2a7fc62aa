import { describe, expect, it } from "vitest";
import { baseline, noiseOnly, regressed } from "../fixtures/make-results.ts";
import type { RunResults } from "../read-results.ts";
import {
  compareRuns,
  holmAdjust,
  intervalsNeeded,
  type MetricComparison,
  smallestTwoSidedP,
} from "./compare.ts";
import { comparisonJson, comparisonTable } from "./table.ts";

const run = (dir: string, files: Omit<RunResults, "dir">): RunResults => ({ dir, ...files });
const BASE = run("base", baseline(1));

describe("compare", () => {
  it("stays quiet on a noise-only run (same distributions, other seed)", () => {
    const c = compareRuns(BASE, run("noise", noiseOnly(2)));
    expect(c.regressions).toEqual([]);
    expect(c.failures).toEqual([]);
    expect(c.ok).toBe(true);
    // Every metric was actually tested, not waved through.
    for (const m of c.metrics) {
      expect(m.p, m.metric).not.toBeNull();
      expect(m.verdict, m.metric).toBe("ok");
    }
  });

  it("stays quiet across seeds", () => {
    for (const seed of [11, 12, 13, 14]) {
      const c = compareRuns(run("b", baseline(seed)), run("n", noiseOnly(seed + 100)));
      expect(c.ok, `seed ${seed}: ${c.regressions} ${c.failures}`).toBe(true);
    }
  });

  it("flags a +30% TTFA regression on ttfa_ms and nothing else", () => {
    const c = compareRuns(BASE, run("slow", regressed("ttfa_ms", 1.3, 3)));
    expect(c.ok).toBe(false);
    expect(c.regressions).toEqual(["ttfa_ms p50", "ttfa_ms p95"]);
    const p95 = c.metrics.find((m) => m.metric === "ttfa_ms p95")!;
    expect(p95.p).toBeLessThan(1e-4);
    expect(p95.change).toBeGreaterThan(0.2);
    expect(p95.ci!.lo).toBeGreaterThan(1);
  });

  it("flags a planted 20% regression", () => {
    const c = compareRuns(BASE, run("slow", regressed("request_resource_ms", 1.2, 4)));
    expect(c.regressions).toContain("request_resource_ms p50");
    expect(c.regressions.every((m) => m.startsWith("request_resource_ms"))).toBe(true);
  });

  it("does not flag a significant change smaller than the threshold", () => {
    const c = compareRuns(BASE, run("slightly", regressed("e2e_latency_ms", 1.05, 5)));
    const p50 = c.metrics.find((m) => m.metric === "e2e_latency_ms p50")!;
    expect(p50.p).toBeLessThan(0.01);
    expect(p50.verdict).toBe("ok");
    expect(p50.reason).toMatch(/within/);
    // The same change fails a 3% threshold.
    expect(
      compareRuns(BASE, run("slightly", regressed("e2e_latency_ms", 1.05, 5)), { threshold: 0.03 })
        .regressions,
    ).toContain("e2e_latency_ms p50");
  });

  it("lower throughput is worse; lower latency is an improvement, not a failure", () => {
    const slow = compareRuns(BASE, run("fewer", baseline(6, { ratePerVu: 0.3 })));
    expect(slow.regressions).toContain("throughput");
    const fast = compareRuns(BASE, run("faster", regressed("ttfa_ms", 0.7, 7)));
    expect(fast.ok).toBe(true);
    expect(fast.metrics.find((m) => m.metric === "ttfa_ms p50")!.verdict).toBe("improvement");
  });

  it("a metric missing from the run, or from the baseline, is a failure", () => {
    const c = compareRuns(BASE, run("partial", baseline(8, { omitMetrics: ["download_ms"] })));
    expect(c.ok).toBe(false);
    expect(c.failures).toEqual(["download_ms p50", "download_ms p95"]);
    const m = c.metrics.find((x) => x.metric === "download_ms p50")!;
    expect(m.verdict).toBe("missing");
    expect(m.reason).toBe("not in the run");
    const reverse = compareRuns(run("partial", baseline(8, { omitMetrics: ["mix_cost_us"] })), BASE);
    expect(reverse.failures).toEqual(["mix_cost_us p50", "mix_cost_us p95"]);
  });

  it("the load generator's own metrics are not compared (a run with them against a baseline without)", () => {
    const files = baseline(8);
    for (const [i, p] of files.timeseries.entries()) {
      p.metrics.generator_elu = { count: 2, p50: 0.3 + (i % 3) / 10, p95: 0.9, p99: 0.9, max: 0.95 };
    }
    const c = compareRuns(BASE, run("with-generator", files));
    expect(c.metrics.some((m) => m.metric.startsWith("generator_"))).toBe(false);
    expect(c.failures).toEqual([]);
  });

  it("a metric with no samples (or a run with no intervals) is a failure", () => {
    const empty = run("empty", { ...baseline(9), timeseries: [] });
    const c = compareRuns(BASE, empty);
    expect(c.ok).toBe(false);
    expect(c.metrics.every((m) => m.verdict === "missing")).toBe(true);
    expect(c.metrics.find((m) => m.metric === "ttfa_ms p95")!.reason).toBe("no samples in the run");
  });

  it("too few intervals to ever reach significance is a failure, not a pass", () => {
    const short = (seed: number) => run("short", baseline(seed, { durationS: 3, rampS: 1 }));
    const c = compareRuns(short(1), short(2));
    expect(c.ok).toBe(false);
    expect(c.metrics.every((m) => m.verdict === "insufficient")).toBe(true);
    expect(smallestTwoSidedP(3, 3)).toBeCloseTo(0.1, 12);
    expect(smallestTwoSidedP(5, 5)).toBeCloseTo(2 / 252, 12);
  });

  it("says how many intervals a metric needs, and about how long the runs must be", () => {
    const short = (seed: number) => run("short", baseline(seed, { durationS: 3, rampS: 1 }));
    const c = compareRuns(short(1), short(2));
    const m = c.metrics.find((x) => x.metric === "ttfa_ms p95")!;
    const comparable = c.metrics.length;
    expect(m.needed).toEqual({
      perSide: 5,
      perSideHolm: intervalsNeeded(0.01 / comparable),
      runSeconds: expect.any(Number),
    });
    expect(m.needed!.runSeconds!).toBeGreaterThanOrEqual(m.needed!.perSideHolm);
    expect(m.reason).toContain("cannot reach p < 0.01: it needs at least 5 on each side");
    const text = comparisonTable(c, short(1), short(2));
    expect(text).toContain(
      `FAIL: too few samples (${m.baseline.n} vs ${m.run.n}; needs ≥ ${m.needed!.perSideHolm} each)`,
    );
    expect(text).toMatch(/sample size: \d+ of \d+ metrics had too few intervals with a value to test\./);
    expect(text).toMatch(/runs of about [\d,]+ s or more each \(e\.g\. --duration \d+s\)/);
    expect(intervalsNeeded(0.01)).toBe(5);
    expect(intervalsNeeded(0.01 / 21)).toBe(8);
    expect(smallestTwoSidedP(7, 7)).toBeGreaterThan(0.01 / 21);
  });

  it("measures throughput over the run, not as the median interval (0 when iterations end every few seconds)", () => {
    // Pipeline iterations last seconds and count when they end: 4 iterations every third second.
    const sparse = (seed: number, every: number) => {
      const files = baseline(seed);
      files.timeseries.forEach((p, i) => {
        p.iterations = i % every === 0 ? 4 : 0;
      });
      return run(`every-${every}`, files);
    };
    const c = compareRuns(sparse(1, 3), sparse(2, 3));
    const t = c.metrics.find((m) => m.metric === "throughput")!;
    const seconds = BASE.timeseries.at(-1)!.elapsed_s;
    const its = BASE.timeseries.filter((_, i) => i % 3 === 0).length * 4;
    expect(t.baseline.center).toBeCloseTo(its / seconds, 2);
    expect(t.baseline.center).toBeGreaterThan(1);
    expect(t.change).toBeCloseTo(0, 6);
    // Half the iterations is a drop of a half, found as such.
    const halved = compareRuns(sparse(1, 3), sparse(2, 6)).metrics.find((m) => m.metric === "throughput")!;
    expect(halved.change).toBeLessThan(-0.4);
    expect(halved.ci).toBeNull();
  });

  it("rejects nonsense options", () => {
    expect(() => compareRuns(BASE, BASE, { alpha: 0 })).toThrow(RangeError);
    expect(() => compareRuns(BASE, BASE, { threshold: -1 })).toThrow(RangeError);
  });
});

describe("Holm adjustment", () => {
  it("multiplies the k-th smallest p by (m - k + 1), keeping the order", () => {
    const ms = [0.01, 0.04, 0.03, 0.005, null].map(
      (p) => ({ p, pAdjusted: null }) as unknown as MetricComparison,
    );
    holmAdjust(ms);
    expect(ms.map((m) => m.pAdjusted)).toEqual([0.03, 0.06, 0.06, 0.02, null]);
  });
});

describe("compare output", () => {
  const slow = run("slow", regressed("ttfa_ms", 1.3, 3));
  const c = compareRuns(BASE, slow);

  it("prints an aligned table with a verdict per metric", () => {
    const text = comparisonTable(c, BASE, slow);
    const lines = text.split("\n");
    const header = lines.find((l) => l.startsWith("metric"))!;
    expect(header).toMatch(/metric\s+baseline\s+run\s+change\s+p \(Holm\)\s+99% CI of ratio\s+verdict/);
    const row = lines.find((l) => l.startsWith("ttfa_ms p95"))!;
    expect(row).toMatch(/REGRESSION$/);
    // Right-aligned numbers end in the same column as their header.
    expect(row.indexOf(" ms ") + 3).toBe(header.indexOf("baseline") + "baseline".length);
    expect(text).toMatch(/result: FAIL: regression in ttfa_ms p50, ttfa_ms p95/);
  });

  it("gives machines JSON", () => {
    const doc = JSON.parse(comparisonJson(c, BASE, slow));
    expect(doc.ok).toBe(false);
    expect(doc.regressions).toEqual(["ttfa_ms p50", "ttfa_ms p95"]);
    expect(doc.baseline.scenario).toBe("regression");
    const m = doc.metrics.find((x: { metric: string }) => x.metric === "ttfa_ms p95");
    expect(m).toMatchObject({ verdict: "regression", unit: "ms", direction: "higher-is-worse" });
    expect(typeof m.p).toBe("number");
  });
});
