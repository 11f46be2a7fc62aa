import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readBenchResults } from "../bench-format.ts";
import { EXIT, type Io, runReport } from "../cli.ts";
import { chartGeometry, renderBenchPage } from "./bench-page.ts";

// `ktv report --bench`: a bench results file becomes one HTML page with no script, a row per case drawing the
// ratio (or our value) against the target; hostile text stays text; a bad file is a usage error (exit 2).

const FIXTURE = new URL("../fixtures/bench-latest.json", import.meta.url).pathname;
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "ktv-bench-page-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

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

describe("bench page", () => {
  const res = readBenchResults(FIXTURE);

  it("draws a ratio case against its target and parity, a value case against its target and the reference", () => {
    expect(chartGeometry(res.cases[0]!)).toMatchObject({
      bar: 0.3012,
      lo: 0.29,
      hi: 0.314,
      target: 0.4,
      mark: 1,
    });
    expect(chartGeometry(res.cases[1]!)).toMatchObject({ bar: 0.54, target: 10, mark: 17.7, pass: true });
    expect(chartGeometry(res.cases[2]!)).toBeNull();
  });

  it("one row per case with its status, one SVG per measured case, and no script", () => {
    const page = renderBenchPage(res, { source: "latest.json", generatedAt: new Date(0) });
    expect(page.match(/<tr class="bench-row">/g)).toHaveLength(4);
    expect(page.match(/<svg /g)).toHaveLength(3);
    expect(page).toContain("1 fail");
    expect(page).toContain("2 pass");
    expect(page).toContain("1 skipped");
    expect(page).toContain("target 0.40x");
    expect(page).toContain("ffmpeg not found on PATH");
    expect(page).not.toMatch(/<script/i);
    expect(page).toMatch(
      /Content-Security-Policy" content="default-src &#39;none&#39;; style-src &#39;sha256-/,
    );
  });

  it("escapes text from the file", () => {
    const evil = structuredClone(res);
    evil.cases[0]!.name = "<script>alert(1)</script>";
    evil.cases[0]!.reason = '"><img src=x onerror=alert(1)>';
    const page = renderBenchPage(evil, { source: "x" });
    expect(page).not.toContain("<script>alert(1)");
    expect(page).not.toContain("<img src=x");
    expect(page).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
  });

  it("ktv report --bench writes bench.html beside the file, or --out", () => {
    const io = capture();
    const file = join(dir, "latest.json");
    writeFileSync(file, readFileSync(FIXTURE));
    expect(runReport(undefined, { bench: file }, io)).toBe(EXIT.ok);
    expect(io.stdout.trim()).toBe(join(dir, "bench.html"));
    expect(readFileSync(join(dir, "bench.html"), "utf8")).toContain("kernel-vs-memcpy");
    const out = join(dir, "o", "page.html");
    expect(runReport(undefined, { bench: file, out }, capture())).toBe(EXIT.ok);
    expect(readFileSync(out, "utf8")).toContain("<!doctype html>");
  });

  it("exits 2 on a missing, malformed or foreign file, and on --bench with a results directory", () => {
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ ...res, cases: [{ name: 1 }] }));
    const other = join(dir, "other.json");
    writeFileSync(other, JSON.stringify({ format: "ktv-results/1" }));
    for (const [file, msg] of [
      [join(dir, "none.json"), /none\.json: missing/],
      [bad, /bad\.json: not in the bench format/],
      [other, /format is "ktv-results\/1", expected "ktv-bench\/1"/],
    ] as const) {
      const io = capture();
      expect(runReport(undefined, { bench: file }, io)).toBe(EXIT.usage);
      expect(io.stderr).toMatch(msg);
    }
    const io = capture();
    expect(runReport(dir, { bench: FIXTURE }, io)).toBe(EXIT.usage);
    expect(io.stderr).toMatch(/--bench takes the bench results file alone/);
    const none = capture();
    expect(runReport(undefined, {}, none)).toBe(EXIT.usage);
    expect(none.stderr).toMatch(/missing <results-dir>/);
  });
});
