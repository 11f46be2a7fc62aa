import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { ScenarioDefinition } from "../format.ts";
import { resolveScenario } from "../resolve.ts";
import { captureErr } from "../test-helpers.ts";
import { runScenario } from "./runner.ts";
import { bundleWorker } from "./worker-bundle.ts";

// The workers run from one JavaScript bundle built for the run: nothing in it needs a TypeScript loader, every
// package is imported from where Node would find it, and a run from it works, a TypeScript --client included.

const dirs: string[] = [];
const scratch = () => {
  const d = mkdtempSync(join(tmpdir(), "ktv-bundle-test-"));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("the worker bundle", () => {
  it("is plain JavaScript whose imports are node builtins or absolute file URLs", async () => {
    const url = await bundleWorker(scratch());
    const text = readFileSync(url, "utf8");
    const specifiers = [
      ...text.matchAll(/^(?:import|export)\s[^;]*?from\s*"([^"]+)";$/gm),
      ...text.matchAll(/\bimport\("([^"]+)"\)/g),
    ].map((m) => m[1]!);
    expect(specifiers.length).toBeGreaterThan(3);
    for (const s of specifiers) expect(s, s).toMatch(/^(node:|file:\/\/)/);
    expect(specifiers.some((s) => s.endsWith(".ts"))).toBe(false);
    // The TypeScript loader stays reachable for a --client module written in TypeScript.
    expect(specifiers.some((s) => /tsx\/dist\/esm\/api/.test(s))).toBe(true);
  });

  it("runs a scenario, with a TypeScript client module, and the run says how its workers loaded", async () => {
    const def: ScenarioDefinition = {
      name: "bundled",
      description: "bundled workers",
      options: {
        scenarios: { users: { executor: "constant-vus", vus: 2, duration: "2s", gracefulStop: "5s" } },
      },
      ktv: {
        vu: "pipeline",
        population: { usersPerRoom: 1 },
        resource: { type: 2 },
        simulator: { catalogSize: 2000 },
      },
    };
    const out = scratch();
    const err = captureErr();
    for (const workerLoader of ["bundle", "tsx"] as const) {
      const r = await runScenario({
        scenario: resolveScenario(def),
        out,
        seed: 4,
        err,
        workers: 1,
        workerLoader,
        clientModule: new URL("./idle-client.fixture.ts", import.meta.url).pathname,
      });
      expect(r.exitCode, err.text()).toBe(0);
      expect(r.summary.generator?.worker_loader).toBe(workerLoader);
      expect(r.summary.counters.iterations).toBeGreaterThan(0);
    }
    expect(err.text()).not.toMatch(/could not bundle|crashed|exited/);
  }, 60_000);
});
