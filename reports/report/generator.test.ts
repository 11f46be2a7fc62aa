import { describe, expect, it } from "vitest";
import { baseline } from "../fixtures/make-results.ts";
import type { GeneratorReport, RunSummary } from "../format.ts";
import type { RunResults } from "../read-results.ts";
import { buildCharts } from "./charts.ts";
import { describeReason, generatorVerdict } from "./generator.ts";
import { renderMarkdown } from "./markdown.ts";
import { renderReport } from "./page.ts";

// A saturated load generator is said first: a banner at the very top of the HTML page and right under the
// Markdown title, with each reason, and the capacity knee shown as limited by the generator.

const figures = {
  samples: 30,
  elu_mean: 0.5,
  elu_max: 0.99,
  loop_delay_p99_ms: 12,
  loop_delay_max_ms: 40,
  clock_lag_p50_ms: 1,
  clock_lag_p99_ms: 9,
  clock_lag_max_ms: 30,
};

function generator(saturated: boolean): GeneratorReport {
  return {
    cores: 2,
    process_cpu: { mean: 0.7, max: 0.9 },
    main: { ...figures, elu_max: 0.4 },
    workers: [{ worker: 0, ...figures }],
    late_intervals: saturated ? 2 : 0,
    rules: {
      elu: 0.9,
      loop_delay_p99_ms: 50,
      clock_lag_p50_ms: 10,
      clock_lag_p99_ms: 50,
      stall_ms: 1000,
      process_cpu: 0.95,
      sustain_s: 3,
    },
    saturated_from_s: saturated ? 12 : null,
    reasons: saturated
      ? [
          {
            thread: "worker 1",
            figure: "elu",
            observed: 0.97,
            limit: 0.9,
            sustained_s: 3,
            from_s: 12,
            to_s: 18.5,
          },
        ]
      : [],
  };
}

function results(saturated: boolean): RunResults {
  const files = baseline(1);
  const s = files.summary as RunSummary;
  s.generator = generator(saturated);
  s.generator_saturated = saturated;
  s.capacity = saturated
    ? {
        ...s.capacity,
        knee: null,
        knee_limited_by: "generator",
        withheld_knee: { vus: 60, rooms: 15, metric: "mix_lateness_ms", expression: "p(99)<10", at_s: 20 },
        generator_limit: { vus: 48, rooms: 12, at_s: 12 },
      }
    : { ...s.capacity, knee_limited_by: null };
  return { dir: "/results/r", ...files };
}

describe("the load generator in the reports", () => {
  it("describes a reason with its thread, figure, limit and time", () => {
    expect(describeReason(generator(true).reasons[0]!)).toBe(
      "worker 1: event-loop utilisation 0.97 ≥ 0.9, held 3 s or more (12 s – 18.5 s)",
    );
    expect(generatorVerdict(results(false).summary)).toBeNull();
  });

  it("charts the generator's health per second when the run recorded it, and only then", () => {
    const r = results(true);
    expect(buildCharts(r).charts.some((c) => c.id === "generator")).toBe(false);
    r.timeseries.forEach((p, i) => {
      p.metrics.generator_elu = { count: 2, p50: 0.5, p95: 0.9, p99: 0.9, max: i === 3 ? 0.97 : 0.4 };
      p.metrics.generator_cpu = { count: 1, p50: 0.6, p95: 0.6, p99: 0.6, max: 0.6 };
    });
    const chart = buildCharts(r).charts.find((c) => c.id === "generator")!;
    expect(chart.section).toBe("mixing");
    expect(chart.data).toHaveLength(chart.series.length + 1);
    expect(chart.data[1]![3]).toBe(0.97);
    expect(chart.data[2]![0]).toBe(0.6);
    // No lag series recorded: gaps, not zeros.
    expect(chart.data[3]!.every((v) => v === null)).toBe(true);
    expect(renderReport(r)).toContain('id="fig-generator"');
  });

  it("charts CPU per thread in cores when the run recorded it, and only then", () => {
    const r = results(true);
    expect(buildCharts(r).charts.some((c) => c.id === "thread-cpu")).toBe(false);
    r.timeseries.forEach((p, i) => {
      p.metrics.generator_thread_cpu = { count: 2, p50: 0.7, p95: 0.9, p99: 0.9, max: i === 2 ? 0.95 : 0.8 };
      p.metrics.generator_cpu = { count: 1, p50: 0.9, p95: 0.9, p99: 0.9, max: 0.9 };
      if (i > 0) p.metrics.target_cpu = { count: 1, p50: 0.5, p95: 0.5, p99: 0.5, max: 0.5 };
    });
    const chart = buildCharts(r).charts.find((c) => c.id === "thread-cpu")!;
    expect(chart.section).toBe("mixing");
    expect(chart.series.map((s) => s.label)).toEqual([
      "busiest worker",
      "median worker",
      "embedded simulator thread",
      "whole process",
    ]);
    expect(chart.data).toHaveLength(chart.series.length + 1);
    expect(chart.data[1]![2]).toBe(0.95);
    expect(chart.data[2]![2]).toBe(0.7);
    // A second without a simulator sample is a gap, not a zero.
    expect([chart.data[3]![0], chart.data[3]![1]]).toEqual([null, 0.5]);
    // The process share of all cores, in cores.
    expect(chart.data[4]![0]).toBeCloseTo(0.9 * r.summary.generator!.cores, 10);
    expect(renderReport(r)).toContain('id="fig-thread-cpu"');
  });

  it("the run details say whether the generator kept up, with its worst figures; old results say nothing", () => {
    const kept = renderReport(results(false));
    expect(kept).toContain(
      "<dt>Load generator</dt><dd>kept up (worker ELU max 0.99, clock lag p99 max 9 ms, loop delay p99 max 12 ms, process CPU max 90% of 2 cores)</dd>",
    );
    expect(renderMarkdown(results(true))).toContain(
      "| load generator | saturated from 12 s (worker ELU max 0.99,",
    );
    const old = baseline(1);
    expect(renderReport({ dir: "d", ...old })).not.toContain("<dt>Load generator</dt>");
    expect(renderMarkdown({ dir: "d", ...old })).not.toContain("load generator");
  });

  it("HTML: a banner before the first section, a status in the header, the knee marked as the generator's", () => {
    const page = renderReport(results(true));
    const banner = page.indexOf('id="generator-saturated"');
    expect(banner).toBeGreaterThan(0);
    expect(banner).toBeLessThan(page.indexOf('id="overview"'));
    expect(page).toContain("Load generator saturated: these results may measure the harness");
    expect(page).toContain("worker 1: event-loop utilisation 0.97 ≥ 0.9");
    expect(page).toContain('<span class="status fail">load generator saturated</span>');
    expect(page).toContain("No capacity knee is reported: the load generator saturated at 48 VUs / 12 rooms");
    expect(page).toContain("limited by the generator");
    expect(page).toContain("2 interval(s) were flushed late");
  });

  it("HTML: nothing of it when the generator kept up", () => {
    const page = renderReport(results(false));
    expect(page.includes('id="generator-saturated"')).toBe(false);
    expect(page.includes(">load generator saturated</span>")).toBe(false);
  });

  it("Markdown: the warning right under the title, and the knee row", () => {
    const md = renderMarkdown(results(true));
    const lines = md.split("\n");
    expect(lines[0]).toMatch(/^# ktv report:/);
    expect(lines[2]).toMatch(
      /^> \*\*⚠️ Load generator saturated\.\*\* The load generator was saturated from 12 s/,
    );
    expect(md).toContain("> - worker 1: event-loop utilisation 0.97 ≥ 0.9");
    expect(md).toContain(
      "| knee | **none: limited by the load generator** (saturated at 48 VUs / 12 rooms) |",
    );
    expect(renderMarkdown(results(false))).not.toContain("Load generator saturated");
  });
});
