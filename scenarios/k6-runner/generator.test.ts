import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type K6RunOptions, runK6 } from "./run.ts";
import { textSummary } from "./summary.ts";

// `ktv k6` watches itself as `ktv run` does (generator.ts): its summary carries the generator block, its
// per-second samples are metrics, and the text summary shows them. Nothing here asserts whether the run was
// saturated (a loaded CI machine may make it so): only that the verdict and the figures agree. What it judges
// starts after the init phase, which initialises the VUs first.

describe("k6 runner: the generator's self-watch in the summary", () => {
  it("a run's summary has the generator block and its per-second samples as generator_* trends", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ktv-k6-gen-"));
    const script = join(dir, "s.js");
    writeFileSync(
      script,
      `import { setTimeout } from "k6/timers";
export const options = { vus: 1, duration: "2500ms", summaryTrendStats: ["avg", "count"] };
export default async function () { await new Promise((r) => setTimeout(r, 100)); }
`,
    );
    let out = "";
    const o: Pick<K6RunOptions, "out" | "err"> = {
      out: {
        write: (t) => {
          out += t;
        },
      },
      err: { write: () => {} },
    };
    const r = await runK6({ script, env: {}, ...o });
    const g = r.summary!.generator!;
    expect(typeof r.summary!.generator_saturated).toBe("boolean");
    expect(r.summary!.generator_saturated).toBe(g.reasons.length > 0);
    // The VUs' thread is judged by the worker rules, as worker 0.
    expect(g.workers.map((w) => w.worker)).toEqual([0]);
    expect(g.workers[0]!.samples).toBeGreaterThanOrEqual(2);
    expect(g.rules.elu).toBeGreaterThan(0);
    expect(r.summary!.metrics.generator_elu!.values.count).toBe(g.workers[0]!.samples);
    expect(r.summary!.metrics.generator_cpu!.values.count).toBeGreaterThanOrEqual(2);
    expect(out).toContain("█ GENERATOR");
    expect(textSummary(r.summary!, r.thresholds)).toContain("process cpu mean=");
  }, 30_000);
});

describe("k6 runner: the init phase", () => {
  it("initialises every VU a scenario starts with before its first iteration, as k6 does", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ktv-k6-init-"));
    const script = join(dir, "s.js");
    writeFileSync(
      script,
      `import { check } from "k6";
import exec from "k6/execution";
export const options = { vus: 4, iterations: 4 };
export default async function () { check(exec.instance.vusInitialized, { "all 4 VUs initialised": (n) => n === 4 }); }
`,
    );
    const r = await runK6({ script, env: {}, out: { write: () => {} }, err: { write: () => {} } });
    expect(r.summary!.root_group.checks.map((c) => [c.name, c.passes, c.fails])).toEqual([
      ["all 4 VUs initialised", 4, 0],
    ]);
  });
});
