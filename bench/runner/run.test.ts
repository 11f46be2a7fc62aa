import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readBenchResults } from "../../reports/bench-format.ts";
import { type BenchCase, type RaceOptions, RoundFailure } from "./case.ts";
import { parseBenchArgs } from "./options.ts";
import { runBench } from "./run.ts";
import { shared } from "./shared.ts";

// The runner's logic with fake cases that return fixed numbers: orientation, medians and min-max, verdicts,
// interleaving, skipped peers, errors, the results file, --only and --quick. Nothing here measures time.

interface Fake {
  case: BenchCase;
  calls: string[];
  setups: RaceOptions[];
  closed: number;
}

function fake(
  name: string,
  ours: number[],
  reference: number[],
  over: Partial<BenchCase> & { finishFailure?: string; throwAt?: number } = {},
): Fake {
  const f: Fake = { calls: [], setups: [], closed: 0, case: undefined as unknown as BenchCase };
  f.case = {
    name,
    description: `fake ${name}`,
    referenceName: "ref",
    unit: "req/s",
    higherIsBetter: true,
    target: 1,
    targetOf: "ratio",
    ...over,
    async setup(opts) {
      f.setups.push(opts);
      let o = 0;
      let r = 0;
      return {
        ours: () => {
          f.calls.push("ours");
          if (over.throwAt === o) throw new Error("boom in ours");
          return ours[o++ % ours.length]!;
        },
        reference: () => {
          f.calls.push("reference");
          return reference[r++ % reference.length]!;
        },
        finish: () => (over.finishFailure ? { failure: over.finishFailure, extra: { checked: true } } : {}),
        close: () => {
          f.closed++;
        },
      };
    },
  };
  return f;
}

const quiet = {
  log: () => {},
  peer: (b: string) => `${b} 1.0`,
  machine: () => MACHINE,
  loadavg: () => [1, 2, 3],
};
const MACHINE = { cpu: "Test CPU", cores: 2, node: "v20.0.0", platform: "linux test", memory_gib: 8 };
const run = (cases: Fake[], opts: Partial<Parameters<typeof runBench>[1]> = {}, deps = {}) =>
  runBench(
    cases.map((c) => c.case),
    { quick: false, out: null, ...opts },
    { ...quiet, ...deps },
  );

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe("bench runner", () => {
  it("orients the ratio so that higher is better: ours/reference for a rate, reference/ours for a cost", async () => {
    const rate = fake("rate", [200], [100]);
    const cost = fake("cost", [50], [100], { unit: "µs", higherIsBetter: false });
    const res = await run([rate, cost]);
    expect(res.cases.map((c) => c.ratio)).toEqual([2, 2]);
  });

  it("takes medians, per-round ratio min-max and each side's range", async () => {
    // Rounds: ours 10, 30, 20, 50, 40 against reference 10 each: per-round ratios 1, 3, 2, 5, 4.
    const f = fake("m", [10, 30, 20, 50, 40], [10, 10, 10, 10, 10]);
    const [c] = (await run([f])).cases;
    expect(c).toMatchObject({ ours: 30, reference: 10, ratio: 3, min: 1, max: 5, rounds: 5 });
    expect(c).toMatchObject({ ours_min: 10, ours_max: 50, reference_min: 10, reference_max: 10 });
  });

  it("judges the ratio against a ratio target, and our own value against a value target", async () => {
    const res = await run([
      fake("ratio-pass", [80], [100], { target: 0.8 }),
      fake("ratio-fail", [79], [100], { target: 0.8 }),
      fake("cost-pass", [10], [100], { higherIsBetter: false, target: 10, targetOf: "ours" }),
      fake("cost-fail", [11], [1000], { higherIsBetter: false, target: 10, targetOf: "ours" }),
      fake("rate-pass", [500], [1000], { target: 400, targetOf: "ours" }),
    ]);
    expect(res.cases.map((c) => [c.name, c.pass, c.status])).toEqual([
      ["ratio-pass", true, "pass"],
      ["ratio-fail", false, "fail"],
      ["cost-pass", true, "pass"],
      ["cost-fail", false, "fail"],
      ["rate-pass", true, "pass"],
    ]);
  });

  it("fails a case whose check fails even when the ratio meets the target", async () => {
    const [c] = (await run([fake("ident", [10], [1], { finishFailure: "outputs differ" })])).cases;
    expect(c).toMatchObject({
      status: "fail",
      pass: false,
      reason: "outputs differ",
      extra: { checked: true },
    });
    expect(c!.ratio).toBe(10);
  });

  it("interleaves: ours first in even rounds, the reference first in odd ones", async () => {
    const f = fake("order", [1], [1]);
    await run([f], { quick: true });
    expect(f.calls).toEqual(["ours", "reference", "reference", "ours", "ours", "reference"]);
  });

  it("skips a case whose peer is missing, with the install command, without setting it up", async () => {
    const needs = fake("needs-ffmpeg", [1], [1], { peers: ["ffmpeg"] });
    const other = fake("other", [2], [1]);
    const res = await run([needs, other], {}, { peer: (b: string) => (b === "ffmpeg" ? null : "x") });
    expect(res.cases[0]).toMatchObject({ status: "skipped", pass: null, ratio: null, ours: null, rounds: 0 });
    expect(res.cases[0]!.reason).toMatch(/ffmpeg not found on PATH.*npm run setup:bench/);
    expect(needs.setups).toEqual([]);
    expect(res.cases[1]).toMatchObject({ status: "pass" });
    expect(res.peers).toEqual({ ffmpeg: null });
  });

  it("runs a case whose optional peer is missing", async () => {
    const f = fake("opt", [1], [1], { optionalPeers: ["wrk"] });
    const res = await run([f], {}, { peer: () => null });
    expect(res.cases[0]!.status).toBe("pass");
    expect(res.peers).toEqual({ wrk: null });
  });

  it("records a case that throws as an error, closes it, and carries on", async () => {
    const bad = fake("bad", [1], [1], { throwAt: 1 });
    const good = fake("good", [3], [1]);
    const res = await run([bad, good]);
    expect(res.cases[0]).toMatchObject({
      status: "error",
      pass: false,
      ratio: null,
      reason: "error: boom in ours",
    });
    expect(bad.closed).toBe(1);
    expect(res.cases[1]).toMatchObject({ status: "pass", ratio: 3 });
  });

  // A side's figures per round; null = that round throws RoundFailure (as the relay race does when no step
  // meets its lag bar).
  const flaky = (name: string, ours: (number | null)[], reference: (number | null)[]): BenchCase => ({
    ...fake(name, [1], [1]).case,
    async setup() {
      let o = 0;
      let r = 0;
      const call = (xs: (number | null)[], i: number, side: string) => {
        const v = xs[i];
        if (v === null || v === undefined) throw new RoundFailure(`no figure from ${side} ${i + 1}`);
        return v;
      };
      return { ours: () => call(ours, o++, "ours"), reference: () => call(reference, r++, "ref") };
    },
  });

  it("keeps a case one of whose rounds failed: medians over the other rounds, the failure recorded", async () => {
    dir = mkdtempSync(join(tmpdir(), "ktv-bench-run-"));
    const out = join(dir, "latest.json");
    const lines: string[] = [];
    // 5 rounds; ours fails in round 2: ours median of 10, 20, 50, 40 = 30; per-round ratios over rounds 1, 3-5.
    const res = await run(
      [{ case: flaky("relay", [10, null, 20, 50, 40], [10, 10, 10, 10, 10]) } as Fake],
      { out },
      { log: (l: string) => lines.push(l) },
    );
    const expected = {
      status: "pass",
      pass: true,
      ours: 30,
      reference: 10,
      ratio: 3,
      min: 1,
      max: 5,
      rounds: 5,
      rounds_failed: 1,
      round_failures: ["round 2 ours: no figure from ours 2"],
    };
    expect(res.cases[0]).toMatchObject(expected);
    expect(res.cases[0]!.reason).toMatch(/^1 of 5 rounds failed, medians over the others \(round 2 ours/);
    // Kept in the results file, which still reads as the bench format.
    expect(readBenchResults(out).cases[0]).toMatchObject(expected);
    expect(lines).toContain("  round 2: ours FAILED, ref 10.0 req/s");
  });

  it("judges a case by the rounds that gave figures: failed rounds on both sides, none paired", async () => {
    const [c] = (await run([{ case: flaky("split", [null, 8, 8], [10, null, 10]) } as Fake], { quick: true }))
      .cases;
    expect(c).toMatchObject({ status: "fail", ours: 8, reference: 10, ratio: 0.8, rounds: 3 });
    expect(c).toMatchObject({ rounds_failed: 2, min: 0.8, max: 0.8 });
    expect(c!.round_failures).toEqual([
      "round 1 ours: no figure from ours 1",
      "round 2 reference: no figure from ref 2",
    ]);
  });

  it("reports a case every round of which failed as failed, with the reason, never missing", async () => {
    dir = mkdtempSync(join(tmpdir(), "ktv-bench-run-"));
    const out = join(dir, "latest.json");
    const res = await run(
      [{ case: flaky("dead", [null, null, null], [5, 5, 5]) } as Fake, fake("after", [2], [1])],
      { out, quick: true },
    );
    expect(res.cases.map((c) => c.name)).toEqual(["dead", "after"]);
    expect(res.cases[0]).toMatchObject({
      status: "fail",
      pass: false,
      ours: null,
      reference: 5,
      ratio: null,
      min: null,
      rounds: 3,
      rounds_failed: 3,
      reason: "every round of ours failed (round 1 ours: no figure from ours 1)",
    });
    expect(res.cases[1]).toMatchObject({ status: "pass" });
    expect(readBenchResults(out).cases[0]).toMatchObject({ name: "dead", status: "fail", rounds_failed: 3 });
  });

  it("records a measurement that is not a positive number as an error", async () => {
    const res = await run([fake("nan", [Number.NaN], [1])]);
    expect(res.cases[0]).toMatchObject({ status: "error" });
    expect(res.cases[0]!.reason).toMatch(/positive number/);
  });

  it("writes the results file in the bench format, with the machine and load average", async () => {
    dir = mkdtempSync(join(tmpdir(), "ktv-bench-run-"));
    const out = join(dir, "sub", "latest.json");
    const lines: string[] = [];
    await run(
      [fake("a", [2], [1]), fake("s", [1], [1], { peers: ["nginx"] })],
      { out },
      {
        log: (l: string) => lines.push(l),
        peer: () => null,
      },
    );
    const res = readBenchResults(out);
    expect(res.machine).toEqual({ ...MACHINE, loadavg_start: [1, 2, 3], loadavg_end: [1, 2, 3] });
    expect(res.mode).toBe("full");
    for (const c of res.cases) {
      for (const k of [
        "name",
        "ours",
        "reference",
        "unit",
        "ratio",
        "target",
        "pass",
        "rounds",
        "min",
        "max",
      ]) {
        expect(c).toHaveProperty(k);
      }
    }
    expect(JSON.parse(readFileSync(out, "utf8")).cases.map((c: { name: string }) => c.name)).toEqual([
      "a",
      "s",
    ]);
    const text = lines.join("\n");
    expect(text).toMatch(/2 x Test CPU, linux test, node v20\.0\.0, 8 GiB, load average 1\.00 2\.00 3\.00/);
    expect(text).toMatch(
      /^a +2\.00 +1\.00 \(ref\) +req\/s +2\.00x +2\.00-2\.00 +ratio >= 1 +pass +\d+(\.\d)? s$/m,
    );
    expect(text).toMatch(/^s .* skipped +-$/m);
  });

  it("--only runs just the named cases", async () => {
    const a = fake("a", [1], [1]);
    const b = fake("b", [1], [1]);
    const args = parseBenchArgs(["--only", "b", "--out", "-"], ["a", "b"]);
    const res = await runBench([a.case, b.case], args, quiet);
    expect(res.cases.map((c) => c.name)).toEqual(["b"]);
    expect(a.setups).toEqual([]);
  });

  it("--quick reaches every case, with the quick rounds (a case's own or the default)", async () => {
    const cases = [
      fake("a", [1], [1]),
      fake("b", [1], [1], { rounds: { quick: 2, full: 9 } }),
      fake("c", [1], [1]),
    ];
    const quick = parseBenchArgs(["--quick"], ["a", "b", "c"]);
    const res = await runBench(
      cases.map((c) => c.case),
      { ...quick, out: null },
      quiet,
    );
    expect(cases.map((c) => c.setups)).toEqual([
      [{ quick: true, rounds: 3 }],
      [{ quick: true, rounds: 2 }],
      [{ quick: true, rounds: 3 }],
    ]);
    expect(res.mode).toBe("quick");
    expect(res.cases.map((c) => c.rounds)).toEqual([3, 2, 3]);
    const full = cases.map((c) => fake(c.case.name, [1], [1], { rounds: c.case.rounds }));
    await runBench(
      full.map((c) => c.case),
      { quick: false, out: null },
      quiet,
    );
    expect(full.map((c) => c.setups[0])).toEqual([
      { quick: false, rounds: 5 },
      { quick: false, rounds: 9 },
      { quick: false, rounds: 5 },
    ]);
  });

  it("times each case by phase (setup, rounds, finish + close), prints it and writes duration_s", async () => {
    // A virtual clock: each phase advances it by a known amount, so the split is exact.
    let t = 0;
    const phased: BenchCase = {
      name: "phased",
      description: "phases",
      referenceName: "ref",
      unit: "req/s",
      higherIsBetter: true,
      target: 1,
      targetOf: "ratio",
      async setup() {
        t += 2500;
        return {
          ours: () => {
            t += 1000;
            return 1;
          },
          reference: () => {
            t += 500;
            return 1;
          },
          finish: () => {
            t += 100;
            return {};
          },
          close: () => {
            t += 300;
          },
        };
      },
    };
    const broken: BenchCase = {
      ...phased,
      name: "broken",
      async setup() {
        t += 700;
        throw new Error("no server");
      },
    };
    const lines: string[] = [];
    const res = await runBench(
      [phased, broken],
      { quick: true, out: null },
      { ...quiet, now: () => t, log: (l) => lines.push(l) },
    );
    // 3 quick rounds x (1 s + 0.5 s) = 4.5 s of rounds; finish 0.1 + close 0.3.
    expect(res.cases[0]).toMatchObject({
      duration_s: 7.4,
      phases_s: { setup: 2.5, rounds: 4.5, finish_close: 0.4 },
    });
    expect(res.cases[1]).toMatchObject({
      status: "error",
      duration_s: 0.7,
      phases_s: { setup: 0.7, rounds: 0, finish_close: 0 },
    });
    expect(res.duration_s).toBe(8.1);
    const text = lines.join("\n");
    expect(text).toMatch(
      /phased: ratio 1\.00 .*PASS \[7\.4 s: setup 2\.5, rounds 4\.5, finish\+close 0\.4\]/,
    );
    expect(text).toMatch(/broken: error: no server \[0\.7 s: setup 0\.7/);
    expect(text).toMatch(/^phased .* pass +7\.4 s$/m);
  });

  it("prints a case's quick note in --quick only, and keeps it in extra.quick", async () => {
    const lines: string[] = [];
    const noted = fake("noted", [1], [1], { quickNote: "fewer VUs: indicative" });
    const quickRes = await run([noted], { quick: true }, { log: (l: string) => lines.push(l) });
    expect(lines).toContain("  quick: fewer VUs: indicative");
    expect(quickRes.cases[0]!.extra).toEqual({ quick: "fewer VUs: indicative" });
    const fullLines: string[] = [];
    const fullRes = await run([noted], { quick: false }, { log: (l: string) => fullLines.push(l) });
    expect(fullLines.join("\n")).not.toMatch(/indicative/);
    expect(fullRes.cases[0]!.extra).toBeUndefined();
  });

  it("stops the servers cases shared when the run ends, once, after every case", async () => {
    const events: string[] = [];
    const user = (name: string): BenchCase => ({
      ...fake(name, [1], [1]).case,
      async setup() {
        const server = await shared(
          "srv",
          async () => {
            events.push("start");
            return "srv";
          },
          () => {
            events.push("stop");
          },
        );
        events.push(`${name} uses ${server}`);
        if (name === "b") throw new Error("b broke");
        return { ours: () => 1, reference: () => 1 };
      },
    });
    const res = await runBench([user("a"), user("b"), user("c")], { quick: true, out: null }, quiet);
    expect(events).toEqual(["start", "a uses srv", "b uses srv", "c uses srv", "stop"]);
    expect(res.cases.map((c) => c.status)).toEqual(["pass", "error", "pass"]);
  });

  it("prestarts every runnable case's shared servers at once before the first measurement", async () => {
    const events: string[] = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const withPrestart = (name: string, over: Partial<BenchCase> = {}): BenchCase => ({
      ...fake(name, [1], [1]).case,
      ...over,
      async prestart() {
        events.push(`prestart ${name}`);
        // Both prestarts are under way before either finishes: they run at once.
        if (events.filter((e) => e.startsWith("prestart")).length === 2) release();
        await gate;
        if (name === "b") throw new Error("no port");
      },
      async setup() {
        events.push(`setup ${name}`);
        return { ours: () => 1, reference: () => 1 };
      },
    });
    const lines: string[] = [];
    await runBench(
      [withPrestart("a"), withPrestart("b"), withPrestart("c", { peers: ["nginx"] })],
      { quick: true, out: null },
      { ...quiet, peer: (b: string) => (b === "nginx" ? null : "x"), log: (l) => lines.push(l) },
    );
    // c's peer is missing: not prestarted, not set up; b's prestart failed: logged, and b still runs.
    expect(events).toEqual(["prestart a", "prestart b", "setup a", "setup b"]);
    expect(lines.join("\n")).toMatch(
      /shared servers started in .* for a, b\); failed, each case retries: b: no port/,
    );
  });
});
