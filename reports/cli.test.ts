import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT, type Io, parseAlpha, parseThreshold, runCompare, runReport } from "./cli.ts";
import { baseline, noiseOnly, regressed, writeResults } from "./fixtures/make-results.ts";
import { RESULT_FILES } from "./read-results.ts";

const run = promisify(execFile);
const KTV = resolve(import.meta.dirname, "../scenarios/cli/ktv.ts");

let root: string;
const dirs = { base: "", noise: "", slow: "", partial: "", broken: "" };

function capture(): Io & { stdout: string; stderr: string } {
  const io = {
    stdout: "",
    stderr: "",
    out: (t: string) => {
      io.stdout += t;
    },
    err: (t: string) => {
      io.stderr += t;
    },
  };
  return io;
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "ktv-reports-cli-"));
  dirs.base = writeResults(join(root, "base"), baseline(1));
  dirs.noise = writeResults(join(root, "noise"), noiseOnly(2));
  dirs.slow = writeResults(join(root, "slow"), regressed("ttfa_ms", 1.3, 3));
  dirs.partial = writeResults(join(root, "partial"), baseline(4, { omitMetrics: ["e2e_latency_ms"] }));
  dirs.broken = writeResults(join(root, "broken"), baseline(5, { durationS: 10 }));
  unlinkSync(join(dirs.broken, RESULT_FILES.ledger));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("ktv compare", () => {
  it("exits 0 on noise", () => {
    const io = capture();
    expect(runCompare(dirs.base, dirs.noise, {}, io)).toBe(EXIT.ok);
    expect(io.stdout).toContain("result: no significant regression");
  });

  it("exits 1 on a +30% TTFA regression, naming ttfa_ms", () => {
    const io = capture();
    expect(runCompare(dirs.base, dirs.slow, {}, io)).toBe(EXIT.regression);
    expect(io.stdout).toMatch(/^ttfa_ms p95 .*REGRESSION$/m);
    expect(io.stdout).toContain("result: FAIL: regression in ttfa_ms p50, ttfa_ms p95");
  });

  it("exits 1 when a metric is missing from the run", () => {
    const io = capture();
    expect(runCompare(dirs.base, dirs.partial, {}, io)).toBe(EXIT.regression);
    expect(io.stdout).toMatch(/^e2e_latency_ms p50 .*FAIL: missing \(not in the run\)$/m);
  });

  it("exits 2 on a missing file or directory, naming it", () => {
    const io = capture();
    expect(runCompare(dirs.base, dirs.broken, {}, io)).toBe(EXIT.usage);
    expect(io.stderr).toMatch(/ktv compare: .*ledger\.json: missing/);
    expect(runCompare(join(root, "nowhere"), dirs.base, {}, capture())).toBe(EXIT.usage);
  });

  it("prints JSON with --json and honours --threshold and --alpha", () => {
    const io = capture();
    expect(runCompare(dirs.base, dirs.slow, { json: true, threshold: 0.5, alpha: 0.001 }, io)).toBe(EXIT.ok);
    const doc = JSON.parse(io.stdout);
    expect(doc).toMatchObject({ ok: true, threshold: 0.5, alpha: 0.001, regressions: [] });
    expect(doc.run.dir).toBe(dirs.slow);
  });

  it("parses its options", () => {
    expect(parseThreshold("10%")).toBeCloseTo(0.1, 12);
    expect(parseThreshold("12.5")).toBeCloseTo(0.125, 12);
    expect(() => parseThreshold("ten")).toThrow(/percentage/);
    expect(parseAlpha("0.05")).toBe(0.05);
    expect(() => parseAlpha("1")).toThrow(/\(0, 1\)/);
    expect(() => parseAlpha("")).toThrow();
  });
});

describe("ktv report", () => {
  it("writes the HTML and the Markdown summary and prints their paths", () => {
    const io = capture();
    const out = join(root, "out", "r.html");
    const md = join(root, "out", "summary.md");
    expect(runReport(dirs.base, { out, markdown: md }, io)).toBe(EXIT.ok);
    expect(io.stdout).toBe(`${out}\n${md}\n`);
    expect(readFileSync(out, "utf8")).toMatch(/^<!doctype html>/);
    expect(readFileSync(md, "utf8")).toMatch(/^# ktv report: regression/);
  });

  it("defaults to <results-dir>/report.html and prints Markdown for '-'", () => {
    const io = capture();
    expect(runReport(dirs.noise, { markdown: "-" }, io)).toBe(EXIT.ok);
    expect(existsSync(join(dirs.noise, "report.html"))).toBe(true);
    expect(io.stdout).toContain("## Thresholds");
  });

  it("exits 2 on bad input", () => {
    const io = capture();
    expect(runReport(dirs.broken, {}, io)).toBe(EXIT.usage);
    expect(io.stderr).toMatch(/^ktv report: .*ledger\.json: missing/);
  });
});

describe("through the ktv program", () => {
  const ktv = (...args: string[]) =>
    run(process.execPath, ["--import", "tsx", KTV, ...args], { timeout: 20_000 }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );

  it("exits 1 on a regression and 2 on a bad option", async () => {
    const [regression, usage] = await Promise.all([
      ktv("compare", dirs.base, dirs.slow),
      ktv("compare", dirs.base, dirs.noise, "--threshold", "lots"),
    ]);
    expect(regression.code).toBe(1);
    expect(regression.stdout).toContain("REGRESSION");
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("expected a percentage");
  });
});
