import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { readResults } from "../../reports/read-results.ts";
import { writeReport } from "../../reports/report/write.ts";
import type { ScenarioDefinition } from "../format.ts";
import { quantiles } from "../metrics/hdr.ts";
import { k6JsonFile, readK6Json } from "../metrics/k6-json.ts";
import { MetricSet } from "../metrics/set.ts";
import { resolveScenario } from "../resolve.ts";
import { totalsOf } from "../run/admin.ts";
import { environment } from "../run/environment.ts";
import { IntervalsWriter, readIntervals } from "../run/intervals.ts";
import { writeResults } from "../run/results.ts";
import { buildSummary } from "../run/summary.ts";
import { ThresholdBook } from "../thresholds/evaluate.ts";
import { parseThresholds } from "../thresholds/parser.ts";
import { mergeCommand } from "./command.ts";
import { writeRunK6Json } from "./k6-points.ts";
import { k6Percentile } from "./merge-k6.ts";
import { checkSegments } from "./segments.ts";

// `ktv merge`: k6's documented JSON lines parsed exactly; N instances whose raw samples are known, merged: counters
// summed, rates over the merged span, the p95 over every sample (k6's rule for k6 points; HDR's precision for
// ktv run results), and a threshold that each instance passes alone failing on the merged run (exit 99), which
// is what k6's per-instance thresholds cannot see; inputs that do not fit refused with a reason.

const here = fileURLToPath(new URL(".", import.meta.url));
const tmp = () => mkdtempSync(join(tmpdir(), "ktv-merge-"));

function io() {
  let out = "";
  let err = "";
  return {
    io: {
      out: (t: string) => {
        out += t;
      },
      err: (t: string) => {
        err += t;
      },
    },
    out: () => out,
    err: () => err,
  };
}

const merge = async (
  paths: string[],
  o: { out: string; thresholds?: string; script?: string; k6Json?: boolean },
) => {
  const c = io();
  const code = await mergeCommand(paths, { report: false, ...o }, c.io);
  return { code, err: c.err(), out: c.out() };
};

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
/** Nearest rank (HdrHistogram's definition of a percentile): the ceil(p * N)-th smallest sample. */
const nearestRank = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.max(1, Math.ceil(p * values.length)) - 1]!;

describe("k6 JSON output", () => {
  it("parses the sample lines of k6's documentation page on JSON output exactly (fixtures/README.md)", async () => {
    const file = join(here, "fixtures/k6-docs-json-output.ndjson");
    const lines = [];
    for await (const l of readK6Json(file)) lines.push(l);
    expect(lines).toEqual([
      {
        kind: "metric",
        line: { name: "vus", type: "gauge", contains: "default", thresholds: [], submetrics: null },
      },
      {
        kind: "point",
        point: { metric: "vus", time: Date.parse("2017-05-09T12:34:45.625Z"), value: 5, tags: {} },
      },
      {
        kind: "metric",
        line: {
          name: "http_req_duration",
          type: "trend",
          contains: "time",
          thresholds: ["avg<1000"],
          submetrics: null,
        },
      },
      {
        kind: "point",
        point: {
          metric: "http_req_duration",
          time: Date.parse("2017-05-09T12:34:45.239Z"),
          value: 459.865729,
          tags: {
            group: "::my group::json",
            method: "GET",
            status: "200",
            url: "https://quickpizza.grafana.com/api/tools",
          },
        },
      },
    ]);

    const out = join(tmp(), "merged");
    const r = await merge([file], { out });
    expect(r.code, r.err).toBe(0);
    const { summary } = readResults(out);
    expect(summary.metrics.http_req_duration).toMatchObject({ count: 1, min: 459.865729, p95: 459.865729 });
    expect(summary.thresholds).toEqual([
      {
        metric: "http_req_duration",
        expression: "avg<1000",
        ok: true,
        observed: 459.865729,
        abortOnFail: false,
      },
    ]);
    const k6 = (summary as unknown as { k6_metrics: Record<string, { values: Record<string, number> }> })
      .k6_metrics;
    expect(k6.vus!.values).toEqual({ value: 5, min: 5, max: 5 });
    // The span is the earliest point to the latest, whatever their order in the file.
    expect(summary.duration_s).toBe(0.386);
    expect(r.err).toContain("threshold passed: http_req_duration avg<1000 (observed 459.866");
  });

  it("reads the current k6 writer's shape too: Metric data with name, thresholds with abortOnFail as objects, metadata", async () => {
    // As grafana/k6 internal/output/json/wrapper.go writes them (hand-made lines of that shape).
    const file = join(tmp(), "current.json");
    writeFileSync(
      file,
      [
        '{"type":"Metric","data":{"name":"http_reqs","type":"counter","contains":"default","thresholds":[{"threshold":"count<10","abortOnFail":true,"delayAbortEval":"10s"}],"submetrics":null},"metric":"http_reqs"}',
        '{"type":"Point","data":{"time":"2026-01-02T03:04:05.123456789Z","value":1,"tags":{"name":"a"},"metadata":{"trace_id":"x"}},"metric":"http_reqs"}',
        "",
      ].join("\n"),
    );
    const lines = [];
    for await (const l of readK6Json(file)) lines.push(l);
    expect(lines).toEqual([
      {
        kind: "metric",
        line: {
          name: "http_reqs",
          type: "counter",
          contains: "default",
          thresholds: ["count<10"],
          submetrics: null,
        },
      },
      {
        kind: "point",
        point: {
          metric: "http_reqs",
          time: Date.parse("2026-01-02T03:04:05.123Z"),
          value: 1,
          tags: { name: "a" },
        },
      },
    ]);
  });

  it("refuses what is not k6's shape, naming the file and line", async () => {
    const dir = tmp();
    const bad = join(dir, "bad.json");
    writeFileSync(
      bad,
      '{"type":"Point","data":{"time":"2024-01-01T00:00:00Z","value":1,"tags":null},"metric":"x"}\n',
    );
    const r = await merge([bad], { out: join(dir, "o") });
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${bad}:1: a Point of "x" before its Metric line`);
    writeFileSync(bad, '{"type":"Metric","data":{"type":"histogram"},"metric":"x"}\n');
    expect((await merge([bad], { out: join(dir, "o") })).err).toContain(
      `${bad}:1: metric "x" has type "histogram"`,
    );
  });
});

/** One k6 instance's JSON output, written by the runners' writer: `iterations` points, durations, VUs. */
async function k6Instance(
  path: string,
  o: { t0: number; durations: number[]; tags?: (i: number) => Record<string, string>; submetric?: string },
) {
  const thresholds: Record<string, string[]> = {
    http_req_duration: ["p(95)<2000"],
    iterations: ["count<150"],
  };
  const f = k6JsonFile(path, (name) => ({
    name,
    type: name === "vus" ? "gauge" : name === "iterations" ? "counter" : "trend",
    contains: name === "http_req_duration" ? "time" : "default",
    thresholds: thresholds[name] ?? [],
    submetrics:
      name === "http_req_duration" && o.submetric
        ? [{ name: o.submetric, suffix: "name:slow", tags: { name: "slow" } }]
        : null,
  }));
  f.writer.point("vus", 5, null, o.t0);
  o.durations.forEach((d, i) => {
    const t = o.t0 + i * 10;
    f.writer.point("http_req_duration", d, o.tags?.(i) ?? { name: "fast" }, t);
    f.writer.point("iterations", 1, { scenario: "default" }, t);
  });
  await f.close();
}

describe("ktv merge of k6 JSON output", () => {
  it("sums counters, takes the p95 over every raw sample by k6's rule, and fails a threshold only the merged run breaks", async () => {
    const dir = tmp();
    const a = join(dir, "a.json");
    const b = join(dir, "b.json.gz");
    const fast = range(1, 100);
    const slow = range(1000, 100);
    await k6Instance(a, { t0: 1_700_000_000_000, durations: fast });
    await k6Instance(b, { t0: 1_700_000_000_500, durations: slow });

    // Alone, each instance passes: 100 iterations < 150, its p95 < 2000.
    for (const one of [a, b]) {
      const r = await merge([one], { out: join(dir, "one") });
      expect(r.code, r.err).toBe(0);
    }
    const out = join(dir, "merged");
    const r = await merge([a, b], { out });
    expect(r.code, r.err).toBe(99);
    const { summary, timeseries } = readResults(out);
    expect(summary.counters.iterations).toBe(200);
    const all = Float64Array.from([...fast, ...slow]).sort();
    // k6's TrendSink.P over the 200 samples: rank 0.95 * 199 = 189.05 between 1089 and 1090.
    expect(summary.metrics.http_req_duration!.p95).toBe(k6Percentile(all, 0.95));
    expect(summary.metrics.http_req_duration!.p95).toBeCloseTo(1089.05, 9);
    // Not an average of the two instances' p95s (95.05 and 1094.05).
    expect(summary.metrics.http_req_duration!.p95).not.toBeCloseTo((95.05 + 1094.05) / 2, 0);
    expect(summary.thresholds.find((t) => t.metric === "iterations")).toMatchObject({
      ok: false,
      observed: 200,
    });
    expect(summary.thresholds.find((t) => t.metric === "http_req_duration")).toMatchObject({ ok: true });
    // The span runs from the first point (a at t0) to the last (b at t0 + 500 + 990 ms).
    expect(summary.duration_s).toBe(1.49);
    expect(timeseries.reduce((s, p) => s + p.iterations, 0)).toBe(200);
    expect(timeseries[0]!.vus).toBe(10);
    // `ktv report` reads it like any run.
    expect(readFileSync(writeReport(out).html, "utf8")).toContain("http_req_duration");
  });

  it("says which submetric thresholds k6's JSON does not record, and judges them when given", async () => {
    const dir = tmp();
    const a = join(dir, "a.json");
    const sub = "http_req_duration{name:slow}";
    await k6Instance(a, {
      t0: 1_700_000_000_000,
      durations: range(1, 100),
      tags: (i) => ({ name: i % 2 ? "slow" : "fast" }),
      submetric: sub,
    });
    const r = await merge([a], { out: join(dir, "o1") });
    expect(r.err).toContain(`submetrics ${sub} exist for thresholds that k6's JSON output does not record`);
    const given = join(dir, "thresholds.json");
    writeFileSync(given, JSON.stringify({ [sub]: ["max<100", "min>1"] }));
    const r2 = await merge([a], { out: join(dir, "o2"), thresholds: given });
    const { summary } = readResults(join(dir, "o2"));
    // The odd samples only: 2, 4, ..., 100.
    expect(summary.thresholds).toEqual([
      { metric: sub, expression: "max<100", ok: false, observed: 100, abortOnFail: false },
      { metric: sub, expression: "min>1", ok: true, observed: 2, abortOnFail: false },
    ]);
    expect(r2.code).toBe(99);
  });
});

describe("ktv merge of k6-operator runners", () => {
  it("refuses a runner given twice or a runner missing (their instance_id tags), merges runners 1..N", async () => {
    const dir = tmp();
    const runner = async (id: number) => {
      const f = join(dir, `runner-${id}.json`);
      await k6Instance(f, {
        t0: 1_700_000_000_000,
        durations: [id],
        tags: () => ({ instance_id: String(id) }),
      });
      return f;
    };
    const [r1, r2, r3] = [await runner(1), await runner(2), await runner(3)];
    const out = join(dir, "o");
    // Runner 1 of another test run, say, beside this one's.
    const again = join(dir, "runner-1-again.json");
    copyFileSync(r1, again);
    const twice = await merge([r1, r2, again], { out });
    expect(twice.code).toBe(2);
    expect(twice.err).toContain(`${r1} and ${again} are both k6-operator runner 1`);
    const gap = await merge([r1, r3], { out });
    expect(gap.code).toBe(2);
    expect(gap.err).toContain("no input from k6-operator runner(s) 2 (the inputs are runners 1, 3)");
    const whole = await merge([r3, r1, r2], { out });
    expect(whole.code, whole.err).toBe(0);
    expect(readResults(out).summary.metrics.http_req_duration!.count).toBe(3);
  });
});

describe("ktv merge --script", () => {
  it("judges every threshold of the script the inputs ran (submetrics included), and refuses another script's output", async () => {
    const dir = tmp();
    const script = join(here, "../k6/vendor-api.ts");
    const own: Record<string, string[]> = {
      checks: ["rate>0.99"],
      http_req_failed: ["rate<0.01"],
      dropped_iterations: ["count==0"],
    };
    const types: Record<string, "rate" | "trend" | "counter"> = {
      checks: "rate",
      http_req_failed: "rate",
      http_req_duration: "trend",
    };
    const file = join(dir, "vendor-api.json");
    const f = k6JsonFile(file, (name) => ({
      name,
      type: types[name] ?? "counter",
      contains: name === "http_req_duration" ? "time" : "default",
      thresholds: own[name] ?? [],
      submetrics: null,
    }));
    for (let i = 0; i < 20; i++) {
      const t = 1_700_000_000_000 + i * 100;
      f.writer.point(
        "http_req_duration",
        i < 10 ? 50 : 1500,
        { name: i < 10 ? "search" : "requestResource" },
        t,
      );
      f.writer.point("http_req_failed", 0, { name: "x" }, t);
      f.writer.point("checks", 1, { check: "code 0" }, t);
    }
    await f.close();
    const r = await merge([file], { out: join(dir, "o"), script });
    expect(r.code, r.err).toBe(99);
    const { summary } = readResults(join(dir, "o"));
    expect(summary.thresholds.find((t) => t.metric === "http_req_duration{name:requestResource}")).toEqual({
      metric: "http_req_duration{name:requestResource}",
      expression: "p(95)<1000",
      ok: false,
      observed: 1500,
      abortOnFail: false,
    });
    expect(summary.thresholds.filter((t) => t.ok).map((t) => t.metric)).toEqual([
      "checks",
      "http_req_failed",
      "dropped_iterations",
    ]);
    const other = join(dir, "other.json");
    await k6Instance(other, { t0: 1_700_000_000_000, durations: [1, 2] });
    const r2 = await merge([other], { out: join(dir, "o2"), script });
    expect(r2.code).toBe(2);
    expect(r2.err).toContain(`metric "http_req_duration" carries thresholds ["p(95)<2000"]`);
    expect(r2.err).toContain("the inputs did not run this script");
  });
});

// --- ktv run results directories -------------------------------------------------------------------------

const SCENARIO: ScenarioDefinition = {
  name: "merge-fixture",
  description: "two instances of one scenario",
  options: {
    scenarios: { rooms: { executor: "constant-vus", vus: 2, duration: "2s" } },
    thresholds: {
      ttfa_ms: ["p(95)<2000"],
      billable_requests: ["count<150"],
      iterations: ["rate<1000"],
    },
  },
  ktv: { vu: "pipeline", population: { usersPerRoom: 2, singersPerRoom: 1 } },
} as ScenarioDefinition;

/**
 * A results directory as `ktv run` writes it (the runner's own summary, results and intervals writers), from
 * known samples: two 1 s intervals, half of `ttfa` each, one iteration and one billable request per sample.
 */
function runDir(
  dir: string,
  o: { t0: number; ttfa: number[]; name?: string; segment?: string; sequence?: string; legacy?: boolean },
): string {
  const s = resolveScenario({ ...SCENARIO, name: o.name ?? SCENARIO.name });
  const w = new IntervalsWriter(dir, o.t0, 1000);
  const total = new MetricSet();
  const book = new ThresholdBook(parseThresholds(s.options.thresholds).thresholds, 1000);
  const half = o.ttfa.length / 2;
  for (const [k, part] of [o.ttfa.slice(0, half), o.ttfa.slice(half)].entries()) {
    const set = new MetricSet();
    for (const v of part) {
      set.record("ttfa_ms", v);
      set.add("iterations");
      set.add("billable_requests");
      set.rate("errors", false);
    }
    w.add(o.t0 + k * 1000, o.t0 + (k + 1) * 1000, 2, set);
    total.mergeSet(set);
    book.onInterval(set, total, (k + 1) * 1000);
  }
  w.close();
  const env = environment({
    seed: 1,
    startedAt: new Date(o.t0),
    target: "http://127.0.0.1:1",
    mediaSocket: null,
    workers: 1,
    embedded: false,
  });
  const ledger = { rows: [], totals: totalsOf([]), next_since_id: null };
  const summary = buildSummary({
    scenario: s,
    total,
    points: [],
    thresholds: book.final(total, 2),
    aborts: [],
    ledger,
    t0: o.t0,
    endT: o.t0 + 2000,
    stopReason: null,
    environment: env,
    notes: [],
  });
  if (o.segment) {
    summary.execution_segment = o.segment;
    if (o.sequence) summary.execution_segment_sequence = o.sequence;
  }
  if (o.legacy) {
    // Results from before execution segments: no segment recorded at all.
    delete summary.execution_segment;
    delete summary.execution_segment_sequence;
  }
  writeResults(dir, { summary, timeseries: [], ledger, faultEvents: [], environment: env });
  return dir;
}

describe("ktv merge of ktv run results", () => {
  it("sums counters, rates over the merged span, p95 over every sample within HDR's precision, exit 99 on a breach no instance shows", async () => {
    const dir = tmp();
    const fast = range(1, 100);
    const slow = range(1000, 100);
    const a = runDir(join(dir, "a"), {
      t0: 1_700_000_000_000,
      ttfa: fast,
      segment: "0:1/2",
      sequence: "0,1/2,1",
    });
    const b = runDir(join(dir, "b"), {
      t0: 1_700_000_000_300,
      ttfa: slow,
      segment: "1/2:1",
      sequence: "0,1/2,1",
    });
    for (const one of [a, b]) expect(readResults(one).summary.thresholds.every((t) => t.ok)).toBe(true);

    const out = join(dir, "merged");
    const r = await merge([a, b], { out, k6Json: true });
    expect(r.code, r.err).toBe(99);
    const { summary, timeseries } = readResults(out);
    expect(summary.counters.iterations).toBe(200);
    expect(summary.counters.billable_requests).toBe(200);
    // From a's start to b's end: 2.3 s, over which the iteration rate is taken.
    expect(summary.duration_s).toBe(2.3);
    const byMetric = Object.fromEntries(summary.thresholds.map((t) => [t.metric, t]));
    expect(byMetric.billable_requests).toMatchObject({ ok: false, observed: 200 });
    expect(byMetric.iterations!.observed).toBeCloseTo(200 / 2.3, 9);
    // The p95 over all 200 samples (the 190th smallest, 1089 ms), not a mean of the instances' 95 and 1094 ms.
    // HDR at 3 significant digits, recorded in µs, reports the top of the sample's bucket: at most 2^-10 of the
    // value above it (a bucket is 1/2048 of its power of two, and a value is at least half its power).
    const exact = nearestRank([...fast, ...slow], 0.95);
    expect(exact).toBe(1089);
    const p95 = summary.metrics.ttfa_ms!.p95;
    expect(p95).toBeGreaterThanOrEqual(exact);
    expect(p95 - exact).toBeLessThanOrEqual(exact * 2 ** -10);
    expect(byMetric.ttfa_ms).toMatchObject({ ok: true, observed: p95 });
    expect(summary.metrics.ttfa_ms!.max).toBe(1099);
    expect(summary.metrics.ttfa_ms!.min).toBe(1);
    expect((summary as unknown as { execution_segment: string }).execution_segment).toBe("0:1");
    // Intervals in slots from a's start: b's (ending 1.3 s and 2.3 s in) fall in the 2nd and 3rd.
    expect(timeseries.map((p) => [p.elapsed_s, p.iterations, p.vus])).toEqual([
      [1, 50, 2],
      [2, 100, 4],
      [2.3, 50, 2],
    ]);
    // The merge writes its own intervals, so merges merge again (e.g. per rack, then racks).
    expect(readIntervals(out).intervals.map((iv) => iv.set.counter("iterations"))).toEqual([50, 100, 50]);
    // --k6-json: the merged samples as k6 points, which merge back as k6 input to the same totals.
    const r2 = await merge([join(out, "k6.json")], { out: join(dir, "again") });
    const again = readResults(join(dir, "again")).summary;
    expect(again.counters.iterations).toBe(200);
    expect(again.metrics.ttfa_ms!.count).toBe(200);
    expect(again.thresholds.find((t) => t.metric === "billable_requests")).toMatchObject({ ok: false });
    expect(r2.code).toBe(99);
  });

  it("refuses inputs that do not fit: another scenario, overlapping or missing segments, a part with a whole run", async () => {
    const dir = tmp();
    const t0 = 1_700_000_000_000;
    const ttfa = [10, 20];
    const half1 = runDir(join(dir, "h1"), { t0, ttfa, segment: "0:1/2", sequence: "0,1/2,1" });
    const other = runDir(join(dir, "other"), {
      t0,
      ttfa,
      name: "another",
      segment: "1/2:1",
      sequence: "0,1/2,1",
    });
    const over = runDir(join(dir, "over"), { t0, ttfa, segment: "1/3:1", sequence: "0,1/3,1" });
    // A whole run records 0:1 of 0,1; an older result records nothing.
    const whole = runDir(join(dir, "whole"), { t0, ttfa });
    const whole2 = runDir(join(dir, "whole2"), { t0, ttfa });
    const legacy = runDir(join(dir, "legacy"), { t0, ttfa, legacy: true });
    const out = join(dir, "o");
    const err = async (paths: string[]) => {
      const r = await merge(paths, { out });
      expect(r.code).toBe(2);
      return r.err;
    };
    expect(await err([half1, other])).toContain(`ran scenario "another"`);
    expect(await err([half1, legacy])).toContain("recorded no execution segment");
    expect(await err([half1, whole])).toContain("different execution segment sequences");
    expect(await err([whole, whole2])).toContain("execution segments overlap");
    expect(await err([half1])).toContain("execution segment 1/2:1 is missing");
    expect(await err([half1, over])).toContain("different execution segment sequences");
    expect(() =>
      checkSegments([
        { source: "a", segment: "0:1/2", sequence: null },
        { source: "b", segment: "1/3:1", sequence: null },
      ]),
    ).toThrow("execution segments overlap: a ran 0:1/2 and b ran 1/3:1");
    // k6's notations, exact: thirds as fractions, a percentage, a lone bound meaning 0:bound.
    const seq = "0,1/3,2/3,1";
    expect(
      checkSegments([
        { source: "a", segment: "2/3:100%", sequence: seq },
        { source: "b", segment: "1/3:2/3", sequence: seq },
        { source: "c", segment: "1/3", sequence: seq },
      ]),
    ).toBe("0:1");
    expect(() =>
      checkSegments([
        { source: "a", segment: "0:0.5", sequence: "0,0.5,1" },
        { source: "b", segment: "50%:1", sequence: "0,1/3,1" },
      ]),
    ).toThrow("different execution segment sequences");
    expect(() =>
      checkSegments([
        { source: "a", segment: "0:0.5", sequence: "0,0.5,1" },
        { source: "b", segment: "50%:1", sequence: "0,1/2,100%" },
      ]),
    ).not.toThrow();
    expect(await err([half1, join(here, "fixtures/k6-docs-json-output.ndjson")])).toContain("the inputs mix");
    expect(await err([half1, `${half1}/`])).toContain("is given twice");
    const self = await merge([half1, over], { out: half1 });
    expect([self.code, self.err]).toEqual([
      2,
      `ktv merge: --out ${half1} is one of the inputs: the merge would overwrite it\n`,
    ]);
  });
});

describe("ktv run --k6-json", () => {
  it("writes a sample per trend sample and rate sample, a failure once with its code, a counter's interval sum", async () => {
    const set = new MetricSet();
    for (const v of [1.5, 2, 250]) set.record("ttfa_ms", v);
    set.add("bytes_downloaded", 4096);
    for (let i = 0; i < 5; i++) set.rate("errors", i < 2);
    set.rate("errors{code:1017019}", true);
    const file = join(tmp(), "k6.json");
    await writeRunK6Json(file, [{ start_t: 0, t: 1_700_000_001_000, vus: 3, set }], {
      ttfa_ms: ["p(95)<3000"],
      "errors{code:1017019}": ["rate<0.5"],
    });
    const metrics = new Map<string, unknown>();
    const points: [string, number, Record<string, string>][] = [];
    for await (const l of readK6Json(file)) {
      if (l.kind === "metric") metrics.set(l.line.name, l.line);
      else points.push([l.point.metric, l.point.value, l.point.tags]);
    }
    expect(metrics.get("ttfa_ms")).toMatchObject({
      type: "trend",
      contains: "time",
      thresholds: ["p(95)<3000"],
    });
    expect(metrics.get("errors")).toMatchObject({
      type: "rate",
      thresholds: [],
      submetrics: [{ name: "errors{code:1017019}", suffix: "code:1017019", tags: { code: "1017019" } }],
    });
    expect(metrics.get("bytes_downloaded")).toMatchObject({ type: "counter", contains: "data" });
    expect(points).toEqual([
      ["vus", 3, {}],
      ["ttfa_ms", 1.5, {}],
      ["ttfa_ms", 2, {}],
      ["ttfa_ms", 250, {}],
      ["bytes_downloaded", 4096, {}],
      ["errors", 1, { code: "1017019" }],
      ["errors", 1, {}],
      ["errors", 0, {}],
      ["errors", 0, {}],
      ["errors", 0, {}],
    ]);
  });
});

describe("intervals.ndjson", () => {
  it("gives back each interval's histograms exactly: counts, percentiles, the exact minimum and maximum", () => {
    const dir = tmp();
    const sets = [
      [0, 0, 0.001, 1.5, 2.0004, 999.9, 12_345.678, 50_000],
      [0, 0, 0],
      [7.25],
      // A minimum in a wide bucket (1,024 units there), not the maximum.
      [12_345.678, 12_345.9, 50_000.001],
      range(1, 5000).map((v) => v * 0.37),
    ].map((values) => {
      const s = new MetricSet();
      for (const v of values) s.record("ttfa_ms", v);
      s.add("iterations", values.length);
      s.rate("errors", true);
      s.error(1017019, 2);
      return s;
    });
    const w = new IntervalsWriter(dir, 1_000, 1000);
    for (const [i, s] of sets.entries()) w.add(1_000 + i * 1000, 2_000 + i * 1000, i, s);
    w.close();
    const back = readIntervals(dir);
    expect(back.t0).toBe(1_000);
    expect(back.intervals.map((iv) => [iv.start_t, iv.t, iv.vus])).toEqual(
      sets.map((_, i) => [1_000 + i * 1000, 2_000 + i * 1000, i]),
    );
    back.intervals.forEach((iv, i) => {
      expect(iv.set.snapshot()).toEqual(sets[i]!.snapshot());
      expect(quantiles(iv.set.trends.get("ttfa_ms"))).toEqual(quantiles(sets[i]!.trends.get("ttfa_ms")));
    });
    expect(quantiles(back.intervals[0]!.set.trends.get("ttfa_ms"))).toMatchObject({ min: 0, max: 50_000 });
    expect(quantiles(back.intervals[3]!.set.trends.get("ttfa_ms"))).toMatchObject({
      count: 3,
      min: 12_345.678,
      max: 50_000.001,
    });
  });
});
