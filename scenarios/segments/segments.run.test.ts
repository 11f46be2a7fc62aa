import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunSummary } from "../../reports/format.ts";
import { readResults } from "../../reports/read-results.ts";
import type { Simulator } from "../../simulator/app.ts";
import { testSimulator } from "../../test/sim.ts";
import { buildProgram, exitCodeOf } from "../cli/ktv.ts";
import { runK6 } from "../k6-runner/run.ts";
import { resolveScenario } from "../resolve.ts";
import { runScenario } from "../run/runner.ts";
import { captureErr } from "../test-helpers.ts";
import { splitScenario } from "./fixtures/split-scenario.ts";
import { executionTuple } from "./tuple.ts";

// Execution segments end to end, both runners, against one simulator: a run split as 0:1/2 and 1/2:1 of
// 0,1/2,1 does the whole run's work between its two halves. Iteration executors exactly (iterations done);
// arrival-rate executors exactly for the scheduled starts (iterations + dropped: a loaded machine may drop,
// the schedule is exact). Each result names its segment and sequence for the merge to check coverage.

const root = fileURLToPath(new URL("../..", import.meta.url));
const SEQUENCE = "0,1/2,1";
const HALVES = ["0:1/2", "1/2:1"] as const;
const dirs: string[] = [];
let sim: Simulator;

beforeAll(async () => {
  sim = await testSimulator({ seed: 4 });
}, 60_000);
afterAll(async () => {
  await sim?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const quiet = () => ({ write: () => {} });

/** The CLI in this process (no tsx start-up to pay twice): what it wrote, and how it ended. */
async function cli(args: string[]): Promise<{ out: string; err: string; code: number }> {
  const saved = { out: process.stdout.write, err: process.stderr.write, exitCode: process.exitCode };
  let out = "";
  let err = "";
  process.stdout.write = ((t: string) => {
    out += t;
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((t: string) => {
    err += t;
    return true;
  }) as typeof process.stderr.write;
  let code = 0;
  try {
    await (await buildProgram()).parseAsync(["node", "ktv", ...args]);
  } catch (e) {
    // What main() would exit with.
    code = exitCodeOf(e, (t) => {
      err += t;
    });
  } finally {
    process.stdout.write = saved.out;
    process.stderr.write = saved.err;
    process.exitCode = saved.exitCode;
  }
  return { out, err, code };
}

describe("ktv run: two segments are the whole run", () => {
  const def = splitScenario("segments");

  async function run(segment?: string): Promise<RunSummary> {
    const out = mkdtempSync(join(tmpdir(), "ktv-segment-run-"));
    dirs.push(out);
    const err = captureErr();
    const tuple = segment ? executionTuple(segment, SEQUENCE) : undefined;
    const r = await runScenario({
      scenario: resolveScenario(def, tuple ? { segment: tuple } : {}),
      target: sim.url,
      out,
      seed: 7,
      err,
      workers: 1,
    });
    expect(r.exitCode, err.text()).toBe(0);
    // Read as `ktv report` and a merge read it (reports/schema.ts checks the two fields' shape).
    const s = readResults(r.dir).summary;
    expect(s.counters.interrupted_iterations ?? 0).toBe(0);
    return s;
  }

  it("0:1/2 and 1/2:1 of 0,1/2,1 run the unsegmented run's iterations and scheduled starts, and say so", {
    timeout: 120_000,
  }, async () => {
    // All at once, as two machines beside a reference run (on an external target the vendor-route check
    // allows the other runs' requests).
    const [whole, ...halves] = await Promise.all([run(), ...HALVES.map((h) => run(h))]);
    const started = (s: RunSummary) => s.counters.iterations + s.counters.dropped_iterations;
    // 21 iterations + 20 arrivals, whole or split.
    expect(started(whole)).toBe(41);
    expect(started(halves[0]!) + started(halves[1]!)).toBe(started(whole));
    // The split as k6 makes it: vus 3 -> 2 + 1, so the iterations 14 + 7; maxVUs 4 -> 2 + 2, arrivals 10 + 10.
    expect(halves.map(started)).toEqual([24, 17]);
    expect(whole.execution_segment).toBe("0:1");
    expect(whole.execution_segment_sequence).toBe("0,1");
    expect(halves.map((s) => [s.execution_segment, s.execution_segment_sequence])).toEqual([
      ["0:1/2", SEQUENCE],
      ["1/2:1", SEQUENCE],
    ]);
  });

  it("--plan prints the cut plan and the segment it was cut for", async () => {
    const r = await cli([
      "run",
      "smoke",
      "--plan",
      "--execution-segment",
      "1/2:1",
      "--execution-segment-sequence",
      SEQUENCE,
    ]);
    expect(r.code, r.err).toBe(0);
    const plan = JSON.parse(r.out) as {
      execution_segment: string;
      execution_segment_sequence: string;
      max_vus: number;
    };
    // smoke: 4 constant VUs, 2 in each half.
    expect([plan.execution_segment, plan.execution_segment_sequence, plan.max_vus]).toEqual([
      "1/2:1",
      SEQUENCE,
      2,
    ]);
  });

  it("refuses a segment that is not one of the sequence's, and bad values, as usage errors naming them", async () => {
    const run = (args: string[]) => cli(["run", "smoke", "--plan", ...args]);
    const outside = await run(["--execution-segment", "1/2:3/2"]);
    expect([outside.code, outside.err]).toEqual([
      2,
      expect.stringMatching(/end must be at most 1, got 3\/2/),
    ]);
    const decreasing = await run(["--execution-segment-sequence", "0,1/2,1/3"]);
    expect([decreasing.code, decreasing.err]).toEqual([
      2,
      expect.stringMatching(/point 3.*must be less than/),
    ]);
    const foreign = await run(["--execution-segment", "0:1/3", "--execution-segment-sequence", SEQUENCE]);
    expect(foreign.code).toBe(2);
    expect(foreign.err).toMatch(
      /execution segment 0:1\/3 is not one of the sequence's segments \(0:1\/2, 1\/2:1\)/,
    );
  });
});

describe("ktv k6: two segments of vendor-api.ts are the whole run", () => {
  const script = join(root, "scenarios/k6/vendor-api.ts");
  // The halves share a prefix (their users are distinct by exec.vu.idInTest, as on two machines); the unsegmented
  // run beside them is another test, so it takes its own: with the same one its VU 1 would be the same user in
  // the same room as half 0:1/2's VU 1, and a member taking the share the other process just replaced is refused
  // 1017051 (one free fetch per user), as the vendor would (CI saw it: 2 failed checks).
  const env = (prefix: string) => ({
    KTV_TARGET: sim.url,
    KTV_RATE: "10",
    KTV_DURATION: "2s",
    KTV_VUS: "2",
    KTV_PREFIX: prefix,
  });

  it("0:1/2 and 1/2:1 together start the unsegmented run's 20 scheduled arrivals", {
    timeout: 60_000,
  }, async () => {
    // The two halves at once, as two machines would run them, beside the unsegmented run.
    const [a, b, whole] = (
      await Promise.all([
        ...HALVES.map((segment) =>
          runK6({
            script,
            env: env("k6seg"),
            segment: { segment, sequence: SEQUENCE },
            out: quiet(),
            err: quiet(),
          }),
        ),
        runK6({ script, env: env("k6whole"), out: quiet(), err: quiet() }),
      ])
    ).map((r) => r.summary!);
    const started = (s: NonNullable<typeof a>) =>
      (s.metrics.iterations?.values.count ?? 0) + (s.metrics.dropped_iterations?.values.count ?? 0);
    expect(started(whole!)).toBe(20);
    // Every call answered as it should (user ids by exec.vu.idInTest: the halves' users are distinct).
    for (const s of [a, b, whole]) expect(s!.metrics.checks!.values.fails).toBe(0);
    expect([started(a!), started(b!)]).toEqual([10, 10]);
    expect([a!.state.execution_segment, b!.state.execution_segment]).toEqual([...HALVES]);
    expect(a!.state.execution_segment_sequence).toBe(SEQUENCE);
    expect(whole!.state.execution_segment).toBe("0:1");
  });

  it("exec.scenario.iterationInTest numbers the whole test's shared iterations 0..49 across the instances, exec.vu.idInTest its VUs", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ktv-segment-k6-"));
    dirs.push(dir);
    const seen = await Promise.all(
      ["0:1/4", "1/4:3/4", "3/4:1"].map(async (segment, i) => {
        const json = join(dir, `${i}.ndjson`);
        const r = await runK6({
          script: join(root, "scenarios/k6/fixtures/segment-iterations.ts"),
          env: {},
          segment: { segment, sequence: "0,1/4,3/4,1" },
          jsonOut: json,
          out: quiet(),
          err: quiet(),
        });
        expect(r.exitCode).toBe(0);
        const points = readFileSync(json, "utf8")
          .trim()
          .split("\n")
          .map(
            (l) => JSON.parse(l) as { type: string; metric: string; data: { tags?: Record<string, string> } },
          )
          .filter((l) => l.type === "Point" && l.metric === "iteration_in_test");
        // Within the instance its own iterations are 0..n-1.
        expect(points.map((p) => Number(p.data.tags!.instance)).sort((x, y) => x - y)).toEqual([
          ...Array(points.length).keys(),
        ]);
        return {
          iterations: points.map((p) => Number(p.data.tags!.test)).sort((x, y) => x - y),
          vus: [...new Set(points.map((p) => Number(p.data.tags!.vu)))],
        };
      }),
    );
    // exec.vu.idInTest: the instances' VUs are the whole test's 1..5, each on one instance.
    expect(seen.flatMap((x) => x.vus).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5]);
    const numbers = seen.map((x) => x.iterations);
    // k6's TestSharedIterationsGlobalIters, to the number.
    expect(numbers[0]).toEqual([1, 6, 11, 16, 21, 26, 31, 36, 41, 46]);
    expect(numbers[2]).toEqual([3, 8, 13, 18, 23, 28, 33, 38, 43, 48]);
    expect(numbers.flat().sort((x, y) => x - y)).toEqual([...Array(50).keys()]);
  });

  it("ktv k6 --execution-segment --execution-segment-sequence: this instance's share, named in the text summary", async () => {
    const r = await cli([
      "k6",
      join(root, "scenarios/k6/fixtures/segment-iterations.ts"),
      "--target",
      sim.url,
      "--execution-segment",
      "0:1/4",
      "--execution-segment-sequence",
      "0,1/4,3/4,1",
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("execution segment 0:1/4 of 0,1/4,3/4,1");
    expect(r.out).toMatch(/iterations\.*: 10\b/);
  });

  it("a segment that is not one of the sequence's is an invalid config (104) naming it", async () => {
    const said: string[] = [];
    const r = await runK6({
      script: join(root, "scenarios/k6/fixtures/segment-iterations.ts"),
      env: {},
      segment: { segment: "2/3:1", sequence: SEQUENCE },
      out: quiet(),
      err: { write: (t) => void said.push(t) },
    });
    expect(r.exitCode).toBe(104);
    expect(said.join("")).toMatch(/execution segment 2\/3:1 is not one of the sequence's segments/);
  });

  it("the script's options.executionSegment and executionSegmentSequence apply when no flag is given", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ktv-segment-opt-"));
    dirs.push(dir);
    const script = join(dir, "half.js");
    writeFileSync(
      script,
      `export const options = { vus: 2, iterations: 4, executionSegment: "1/2:1", executionSegmentSequence: "0,1/2,1" };
export default async function () {}
`,
    );
    const r = await runK6({ script, env: {}, out: quiet(), err: quiet() });
    expect(r.exitCode).toBe(0);
    expect(r.summary!.metrics.iterations!.values.count).toBe(2);
    expect(r.summary!.state.execution_segment).toBe("1/2:1");
    // A flag wins over the script's option, as in k6.
    const flagged = await runK6({
      script,
      env: {},
      segment: { segment: "0:1/2" },
      out: quiet(),
      err: quiet(),
    });
    expect(flagged.summary!.state.execution_segment).toBe("0:1/2");
  });
});
