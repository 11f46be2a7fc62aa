import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readResults } from "../../reports/read-results.ts";
import type { Simulator } from "../../simulator/app.ts";
import { testSimulator } from "../../test/sim.ts";
import { planOf, resolveScenario } from "../resolve.ts";
import { splitScenario } from "../segments/fixtures/split-scenario.ts";
import { mergeCommand } from "./command.ts";
import { k6Percentile } from "./merge-k6.ts";

// One result from many machines, end to end: two execution segments (0:1/2 and 1/2:1 of 0,1/2,1) run as two
// processes against one simulator, for a `ktv run` scenario and for scenarios/k6/vendor-api.ts under `ktv k6`,
// then `ktv merge`d. The merge starts the unsegmented plan's iterations, covers the segments 0:1, and its p95
// is the p95 over both processes' samples: exactly (k6's rule) for k6's raw points; for `ktv run`, within the
// HDR histograms' precision of the nearest-rank p95 over both processes' samples as their own `--k6-json`
// wrote them (each at its bucket). The four processes run at once (a few seconds of the CI's budget).

const root = fileURLToPath(new URL("../..", import.meta.url));
const SEQUENCE = "0,1/2,1";
const HALVES = ["0:1/2", "1/2:1"] as const;
const SCENARIO = splitScenario("segments-merge", { iteration_duration_ms: ["p(95)<10000"] });

function ktv(args: string[]): Promise<{ code: number | null; err: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", join(root, "scenarios/cli/ktv.ts"), ...args], {
    cwd: root,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let err = "";
  child.stderr.on("data", (d) => {
    err += d;
  });
  return new Promise((r) => child.on("exit", (code) => r({ code, err })));
}

const quiet = () => {
  let err = "";
  return {
    io: {
      out: () => {},
      err: (t: string) => {
        err += t;
      },
    },
    err: () => err,
  };
};

/** The values of `metric`'s points in k6 JSON files whose tags pass `keep`. */
function pointValues(
  files: string[],
  metric: string,
  keep: (tags: Record<string, string>) => boolean,
): number[] {
  return files.flatMap((f) =>
    readFileSync(f, "utf8")
      .split("\n")
      .filter((l) => l.includes('"type":"Point"'))
      .map(
        (l) =>
          JSON.parse(l) as { metric: string; data: { value: number; tags: Record<string, string> | null } },
      )
      .filter((p) => p.metric === metric && keep(p.data.tags ?? {}))
      .map((p) => p.data.value),
  );
}

describe("two segments as two processes, merged", () => {
  let sim: Simulator;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "ktv-segments-merge-"));
    sim = await testSimulator({ seed: 5 });
  }, 60_000);
  afterAll(async () => {
    await sim?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("ktv run and ktv k6 (vendor-api.ts): the unsegmented plan's iterations, segments 0:1, the p95 over all samples", {
    timeout: 180_000,
  }, async () => {
    const scenarioFile = join(dir, "segments-merge.json");
    writeFileSync(scenarioFile, JSON.stringify(SCENARIO));
    const seg = (s: string) => ["--execution-segment", s, "--execution-segment-sequence", SEQUENCE];
    const runDirs = HALVES.map((_, i) => join(dir, `run-${i}`));
    const k6Files = HALVES.map((_, i) => join(dir, `k6-${i}.json`));
    const runs = await Promise.all([
      ...HALVES.map((h, i) =>
        ktv(
          [
            "run",
            scenarioFile,
            "--target",
            sim.url,
            ...seg(h),
            "--out",
            runDirs[i]!,
            "--workers",
            "1",
          ].concat(["--no-report", "--k6-json", "--seed", String(i + 1)]),
        ),
      ),
      ...HALVES.map((h, i) =>
        ktv(
          ["k6", join(root, "scenarios/k6/vendor-api.ts"), "--target", sim.url, ...seg(h)].concat([
            "-e",
            "KTV_RATE=10",
            "-e",
            "KTV_DURATION=2s",
            "-e",
            "KTV_VUS=2",
            "--out",
            `json=${k6Files[i]}`,
          ]),
        ),
      ),
    ]);
    // A process may fail a latency threshold on a loaded machine (99): a verdict, its results are whole.
    for (const r of runs) expect([0, 99], r.err).toContain(r.code);

    // ktv run: 21 shared iterations + 20 scheduled arrivals, as the unsegmented plan has them.
    const plan = planOf(resolveScenario(SCENARIO));
    const planned = plan.scenarios.reduce(
      (n, p) => n + (p.iterations && "total" in p.iterations ? p.iterations.total : (p.arrivals?.count ?? 0)),
      0,
    );
    expect(planned).toBe(41);
    const out = join(dir, "run-merged");
    const q = quiet();
    expect([0, 99], q.err()).toContain(await mergeCommand(runDirs, { out, report: false }, q.io));
    const { summary } = readResults(out);
    expect(summary.counters.iterations + summary.counters.dropped_iterations).toBe(planned);
    expect((summary as unknown as { execution_segment: string }).execution_segment).toBe("0:1");
    const samples = pointValues(
      runDirs.map((d) => join(d, "k6.json")),
      "iteration_duration_ms",
      (t) => t.corrected === undefined,
    );
    expect(samples.length).toBe(summary.metrics.iteration_duration_ms!.count);
    const exact = [...samples].sort((a, b) => a - b)[Math.ceil(0.95 * samples.length) - 1]!;
    const p95 = summary.metrics.iteration_duration_ms!.p95;
    expect(p95).toBeGreaterThanOrEqual(exact);
    expect(p95 - exact).toBeLessThanOrEqual(exact * 2 ** -10 + 0.001);

    // ktv k6 vendor-api.ts: 20 scheduled arrivals (10/s for 2 s) between the two processes.
    const k6Out = join(dir, "k6-merged");
    const q2 = quiet();
    const code = await mergeCommand(
      k6Files,
      { out: k6Out, report: false, script: join(root, "scenarios/k6/vendor-api.ts") },
      q2.io,
    );
    expect([0, 99], q2.err()).toContain(code);
    const k6 = readResults(k6Out).summary;
    expect(k6.counters.iterations + k6.counters.dropped_iterations).toBe(20);
    const durations = Float64Array.from(pointValues(k6Files, "http_req_duration", () => true)).sort();
    expect(k6.metrics.http_req_duration!.count).toBe(durations.length);
    expect(k6.metrics.http_req_duration!.p95).toBe(k6Percentile(durations, 0.95));
    // The script's submetric threshold, which k6's JSON does not record, judged over both processes' samples.
    const sub = k6.thresholds.find((t) => t.metric === "http_req_duration{name:requestResource}")!;
    const requests = Float64Array.from(
      pointValues(k6Files, "http_req_duration", (t) => t.name === "requestResource"),
    ).sort();
    expect(sub.observed).toBe(k6Percentile(requests, 0.95));
  });
});
