import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Simulator } from "../../simulator/app.ts";
import { testSimulator } from "../../test/sim.ts";
import { runPipeline } from "../pipeline/run.ts";
import { userConfig } from "../pipeline/test-fixtures.ts";

// Scoring in the real pipeline: the simulator serves the song and its pitch line, the VU's synthetic singer
// sings it through the publish mixer, and the scorer listens to the microphone at the player's position.

let sim: Simulator;
beforeAll(async () => {
  sim = await testSimulator();
});
afterAll(async () => {
  await sim.close();
});

describe("pipeline scoring", () => {
  it("scores the singer profiles against the served pitch line: in tune high, a semitone flat lower, silence 0", async () => {
    const run = (user: string, singer: string) =>
      runPipeline(
        // The clip's first notes come a few seconds in: start there.
        userConfig(sim.url, user, {
          startPositionMs: 5000,
          seconds: 8,
          scoring: { level: 4 },
          singers: [singer],
        }),
      );
    const [inTune, flat, silent] = await Promise.all([
      run("score-in-tune", "in-tune"),
      run("score-flat", "off:-100"),
      run("score-silent", "silent"),
    ]);
    for (const r of [inTune, flat, silent]) {
      expect(r.ok, JSON.stringify(r.failure)).toBe(true);
      expect(r.score).toBeTruthy();
      expect(r.score!.lines_scored).toBeGreaterThan(3);
      expect(r.score!.full).toBeGreaterThan(0);
      expect(r.score!.frames).toBeGreaterThan(700);
      expect(r.score!.cost_us).toBeGreaterThan(0);
    }
    expect(inTune.score!.singer).toBe("in-tune");
    expect(inTune.score!.average).toBeGreaterThanOrEqual(85);
    expect(flat.score!.average).toBeLessThan(inTune.score!.average - 30);
    expect(silent.score!.average).toBe(0);
    expect(silent.score!.total).toBe(0);
  });

  it("pauses scoring while the player is paused (player actions), as an app would", async () => {
    const r = await runPipeline(
      userConfig(sim.url, "score-paused", {
        startPositionMs: 5000,
        seconds: 4,
        scoring: {},
        player: { pauseProb: 1, pauseMs: 1000 },
      }),
    );
    expect(r.ok, JSON.stringify(r.failure)).toBe(true);
    expect(r.player!.pauses).toBe(1);
    const s = r.score!;
    // 400 frames read; the 100 read while paused are not analysed (nor the few before startScore).
    expect(s.frames).toBe(400);
    expect(s.frames_analysed).toBeLessThanOrEqual(s.frames - r.player!.paused_frames);
    expect(s.frames_analysed).toBeGreaterThan(250);
  });

  it("leaves the result without a score when scoring is off, and rejects bad scoring options", async () => {
    const r = await runPipeline(userConfig(sim.url, "score-off", { seconds: 1 }));
    expect(r.ok).toBe(true);
    expect(r.score).toBeUndefined();
    await expect(
      runPipeline(userConfig(sim.url, "score-bad", { scoring: { level: 7 }, singers: ["sharp"] })),
    ).rejects.toThrow(/scoring\.level.*|singers\[0\]/);
  });
});
