import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { pipelineResult } from "../reference/pipeline/test-fixtures.ts";
import { readResults } from "../reports/read-results.ts";
import type { ScenarioDefinition } from "./format.ts";
import { quantiles } from "./metrics/hdr.ts";
import { MetricSet } from "./metrics/set.ts";
import { resolveScenario } from "./resolve.ts";
import { EXIT, runScenario } from "./run/runner.ts";
import { captureErr, recorderOf } from "./test-helpers.ts";
import { validateScenario } from "./validate.ts";
import { pipelineConfig, recordResult } from "./vu/pipeline.ts";
import type { IterationSpec, VuContext } from "./vu/types.ts";

// ktv.scoring (issue 14 item 3): validated as data, carried to a singer's pipeline config, its result recorded
// as the `score` and `scoring_cost_us` trends, and run through the real runner.

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const base = (ktv: Record<string, unknown>): unknown => ({
  name: "t",
  description: "",
  options: { vus: 1, duration: "1s" },
  ktv,
});

describe("ktv.scoring", () => {
  it("validates level, interval and singer profiles, and resolves the defaults", () => {
    expect(validateScenario(base({ scoring: { level: 0, singers: ["in-tune", "off:-100"] } }))).toEqual([]);
    expect(
      validateScenario(base({ scoring: { level: 5, pitchValueInterval: 5, singers: ["sharp"], x: 1 } })),
    ).toEqual([
      "ktv.scoring.x: unknown field (expected one of level, pitchValueInterval, singers)",
      "ktv.scoring.level: must be an integer in 0..4, got 5",
      "ktv.scoring.pitchValueInterval: must be an integer in 10..60000, got 5",
      expect.stringContaining("ktv.scoring.singers[0]: singer: expected in-tune"),
    ]);
    expect(validateScenario(base({ vu: "http", scoring: {} }))).toContainEqual(
      expect.stringContaining("ktv.scoring: is for pipeline VUs"),
    );
    expect(resolveScenario(base({ scoring: {} }) as ScenarioDefinition).scoring).toEqual({
      level: 4,
      pitchValueInterval: 50,
      singers: ["in-tune"],
    });
    expect(resolveScenario(base({}) as ScenarioDefinition).scoring).toBeNull();
  });

  it("reaches a singer's pipeline config, not a listener's", () => {
    const spec = {
      seat: { room: 0, slot: 0, role: "singer" },
      song: { songID: "1" },
      resource: { type: 1, quality: 0, vendorId: 0, billingMode: 0 },
      seed: 3,
      scoring: { level: 2, pitchValueInterval: 60, singers: ["late:200"] },
    } as unknown as IterationSpec;
    const ctx = { target: "http://127.0.0.1:1", appID: 1, appSign: "a", rec: recorderOf(new MetricSet()) };
    const c = pipelineConfig(ctx as VuContext, spec);
    expect(c.scoring).toEqual({ level: 2, pitchValueInterval: 60 });
    expect(c.singers).toEqual(["late:200"]);
    const listener = pipelineConfig(ctx as VuContext, {
      ...spec,
      seat: { room: 0, slot: 1, role: "listener" },
    });
    expect(listener.scoring).toBeUndefined();
  });

  it("records each scored iteration's average as `score` and its scoring cost; nothing without a scored line", () => {
    const set = new MetricSet();
    const score = {
      singer: "in-tune",
      level: 4,
      pitch_value_interval_ms: 50,
      lines_scored: 5,
      previous: 90,
      average: 93,
      total: 465,
      full: 4700,
      cost_us: 14.5,
      cost_mean_us: 16,
      frames: 1000,
      frames_analysed: 990,
    };
    recordResult(recorderOf(set), pipelineResult({ score }), true);
    recordResult(recorderOf(set), pipelineResult({ score: { ...score, lines_scored: 0, average: 0 } }), true);
    expect(quantiles(set.trends.get("score"))).toMatchObject({ count: 1, p50: 93 });
    expect(quantiles(set.trends.get("scoring_cost_us"))).toMatchObject({ count: 1 });
  });

  it("runs through the runner: singers score in tune, the trends reach the summary", async () => {
    const out = mkdtempSync(join(tmpdir(), "ktv-scoring-run-"));
    dirs.push(out);
    const err = captureErr();
    const scenario = resolveScenario({
      name: "scoring-short",
      description: "one room, its singer scored",
      options: {
        // One iteration per VU: started in the first 2 s, its 8 s of singing finish in the graceful stop (a
        // longer duration only started a second song that sang through the stop too).
        scenarios: { rooms: { executor: "constant-vus", vus: 2, duration: "2s", gracefulStop: "15s" } },
        thresholds: { errors: ["rate==0"], score: ["count>0", "p(50)>=85"], scoring_cost_us: ["count>0"] },
      },
      ktv: {
        population: { usersPerRoom: 2 },
        resource: { type: 2 },
        singSeconds: 8,
        scoring: { level: 4, singers: ["in-tune"] },
        simulator: { catalogSize: 2000 },
      },
    });
    const outcome = await runScenario({ scenario, out, seed: 5, err, workers: 1 });
    const s = readResults(out).summary;
    expect(s.thresholds.map((t) => [t.metric, t.ok])).toEqual([
      ["errors", true],
      ["score", true],
      ["score", true],
      ["scoring_cost_us", true],
    ]);
    expect(outcome.exitCode, err.text()).toBe(EXIT.ok);
  }, 60_000);
});
