import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readBenchResults } from "../reports/bench-format.ts";
import { BEGIN, END, readmeTablesMain, renderBenchMarkdown, replaceBenchSection } from "./readme-tables.ts";

// The README's benchmark table comes from a bench results file and nothing else: a fixed file gives exactly
// this Markdown, and only the part between the markers changes.

const FIXTURE = new URL("../reports/fixtures/bench-latest.json", import.meta.url).pathname;

const EXPECTED = `\`npm run bench -- --quick\` on 2026-12-07: 2 x AMD EPYC, linux 6.18, Node v20.20.2, load average 3.50 2.00 1.25 at the start and 4.00 2.50 1.50 at the end (95.4 s). Medians of interleaved rounds; ratio oriented so that higher is better (ours / reference for a rate, reference / ours for a cost), min-max over the rounds.

| case | ours | reference | ratio (min-max) | target | result |
|---|---:|---:|---:|---|---|
| \`kernel-vs-memcpy\` | 591 ns CPU/frame | 178 ns CPU/frame (TypedArray.set) | 0.30x (0.29-0.31) | ratio >= 0.4 | FAIL |
| \`publish-cpu-per-frame\` | 0.54 µs CPU/frame | 17.7 µs CPU/frame (scalar kernel) | 32.8x (28.1-40.2) | <= 10 µs CPU/frame | pass |
| \`mixer-vs-ffmpeg\` | - | (ffmpeg amix) | - | ratio >= 5 | skipped: skipped: ffmpeg not found on PATH; npm run setup:bench (as root: apt-get install -y ffmpeg nginx wrk) installs it |
| \`cdn-vs-nginx\` | 190 MB/s | 266 MB/s (nginx) | 0.72x (0.66-0.77) | ratio >= 0.7 | pass |`;

describe("README benchmark table", () => {
  it("renders a fixed latest.json as the expected Markdown", () => {
    expect(renderBenchMarkdown(readBenchResults(FIXTURE))).toBe(EXPECTED);
  });

  it("replaces only the part between the markers, and again idempotently", () => {
    const readme = `# T\n\nbefore\n\n${BEGIN}\nold table\n${END}\n\nafter\n`;
    const once = replaceBenchSection(readme, "NEW");
    expect(once).toBe(`# T\n\nbefore\n\n${BEGIN}\nNEW\n${END}\n\nafter\n`);
    expect(replaceBenchSection(once, "NEW")).toBe(once);
  });

  it("refuses a README without the markers", () => {
    expect(() => replaceBenchSection("# no markers\n", "x")).toThrow(/markers/);
  });

  it("the repository README carries the markers", () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    expect(() => replaceBenchSection(readme, "x")).not.toThrow();
  });

  it("npm run bench:readme rewrites a README from a file, and --check then passes", () => {
    const dir = mkdtempSync(join(tmpdir(), "ktv-bench-readme-"));
    try {
      const readme = join(dir, "README.md");
      writeFileSync(readme, `# T\n${BEGIN}\n(none)\n${END}\n`);
      const errs: string[] = [];
      const io = { out: () => {}, err: (l: string) => errs.push(l) };
      const run = (...args: string[]) => readmeTablesMain(["--in", FIXTURE, "--readme", readme, ...args], io);
      expect(run("--check")).toBe(1);
      expect(run()).toBe(0);
      expect(readFileSync(readme, "utf8")).toBe(`# T\n${BEGIN}\n${EXPECTED}\n${END}\n`);
      expect(run("--check")).toBe(0);
      expect(readmeTablesMain(["--in", join(dir, "none.json"), "--readme", readme], io)).toBe(2);
      expect(errs.at(-1)).toMatch(/none\.json: missing/);
      expect(readmeTablesMain(["--bogus"], io)).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the script runs as npm run bench:readme does", () => {
    const script = new URL("./readme-tables.ts", import.meta.url).pathname;
    const r = spawnSync(process.execPath, ["--import", "tsx", script, "--in", "/nonexistent.json"], {
      encoding: "utf8",
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/nonexistent\.json: missing/);
  });
});
