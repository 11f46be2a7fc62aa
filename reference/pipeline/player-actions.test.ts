import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Simulator } from "../../simulator/app.ts";
import { testSimulator } from "../../test/sim.ts";
import { WavFileReader } from "../mixer/wav-reader.ts";
import { checkPipelineConfig } from "./config.ts";
import { checkPlayerActions, planPlayerActions } from "./player-actions.ts";
import { runPipeline } from "./run.ts";
import { scratchDir, userConfig } from "./test-fixtures.ts";

// Pause / resume / seek while publishing: the plan is the seed's, the published stream carries no accompaniment
// while paused, and after a seek the player reads from the target (the same samples as a load at the target).

let sim: Simulator;
const tmp = scratchDir("ktv-player-actions-");
beforeAll(async () => {
  sim = await testSimulator();
});
afterAll(async () => {
  await sim.close();
  tmp.remove();
});

const FRAME = 480 * 2;

function readWav(path: string): Int16Array {
  const wav = new WavFileReader(path, 48_000);
  const pcm = new Int16Array(wav.frames * 2);
  // The reader hands out at most its buffer (1 s) per read.
  for (let at = 0; at < wav.frames; ) at += wav.read(pcm.subarray(at * 2), wav.frames - at);
  wav.close();
  return pcm;
}
const frameOf = (pcm: Int16Array, f: number) => pcm.subarray(f * FRAME, (f + 1) * FRAME);
const peak = (a: Int16Array) => a.reduce((m, x) => Math.max(m, Math.abs(x)), 0);

describe("player action plan", () => {
  it("is the seed's: the same seed the same plan; probability 0 never, 1 always", () => {
    const o = { pauseProb: 1, seekProb: 1, pauseMs: 300 };
    const a = planPlayerActions(7, o, 200);
    expect(planPlayerActions(7, o, 200)).toEqual(a);
    expect(a.pause!.atFrame).toBeGreaterThanOrEqual(1);
    expect(a.pause!.atFrame).toBeLessThan(100);
    expect(a.pause!.resumeFrame - a.pause!.atFrame).toBe(30);
    expect(a.seek!.atFrame).toBeGreaterThanOrEqual(100);
    expect(a.seek!.atFrame).toBeLessThan(200);
    expect(a.drop).toBeNull();
    expect(planPlayerActions(7, {}, 200)).toEqual({ pause: null, seek: null, drop: null });
    expect(planPlayerActions(7, o, 3)).toEqual({ pause: null, seek: null, drop: null });
    // A drop comes in the first half, from an eighth on; adding it leaves the pause and the seek as they were.
    const d = planPlayerActions(7, { ...o, dropProb: 1 }, 200);
    expect([d.pause, d.seek]).toEqual([a.pause, a.seek]);
    expect(d.drop!.atFrame).toBeGreaterThanOrEqual(25);
    expect(d.drop!.atFrame).toBeLessThan(100);
    // A probability in between: some seeds pause, some not.
    const pauses = Array.from({ length: 200 }, (_, s) => planPlayerActions(s, { pauseProb: 0.3 }, 100));
    const n = pauses.filter((p) => p.pause !== null).length;
    expect(n).toBeGreaterThan(30);
    expect(n).toBeLessThan(90);
  });

  it("refuses bad options, through the pipeline's config check too", () => {
    expect(checkPlayerActions({ pauseProb: 1.5, seekProb: -1, pauseMs: 15, dropProb: 2 })).toEqual([
      "player.pauseProb: must be a number in 0..1",
      "player.seekProb: must be a number in 0..1",
      "player.dropProb: must be a number in 0..1",
      "player.pauseMs: must be a multiple of 10 in 10..60000",
    ]);
    const errors = checkPipelineConfig(
      userConfig("http://127.0.0.1:1", "u", { player: { pauseProb: 2 }, sceneID: 9 }),
    );
    expect(errors).toEqual(
      expect.arrayContaining([
        "sceneID: must be an integer in 0..4",
        "player.pauseProb: must be a number in 0..1",
      ]),
    );
  });
});

describe("pause / resume / seek in a run (real simulator)", () => {
  it("pauses (silence, nothing from the player), resumes, seeks back and then plays from the target", async () => {
    const player = { pauseProb: 1, seekProb: 1, pauseMs: 300 };
    const seed = 11;
    const seconds = 2;
    const acted = join(tmp.dir, "acted.wav");
    const base = { seed, seconds, voiceVolume: 0, startPositionMs: 6_000, song: { query: "love" } };
    const r = await runPipeline(userConfig(sim.url, "acts", { ...base, outPath: acted, player }));
    expect(r.failure).toBeNull();
    expect(r.player).toMatchObject({ pauses: 1, resumes: 1, seeks: 1, seek_errors: 0 });
    expect(r.player!.paused_frames).toBe(30);
    // What the player showed: the position stood still while paused, and the seek landed on its target.
    expect(r.player!.paused_at_ms).toBeGreaterThan(6_000);
    expect(r.player!.resume_at_ms).toBe(r.player!.paused_at_ms);
    expect(r.player!.seek_landed_ms).toEqual(r.player!.seek_targets_ms);
    const plan = planPlayerActions(seed, player, seconds * 100);
    const pcm = readWav(acted);
    expect(pcm.length).toBe(seconds * 100 * FRAME);
    // Voice off: the mix is the accompaniment alone. Before the pause it sounds, while paused it is silent.
    expect(peak(pcm.subarray(0, plan.pause!.atFrame * FRAME))).toBeGreaterThan(500);
    for (let f = plan.pause!.atFrame + 1; f <= plan.pause!.resumeFrame; f++) {
      expect(peak(frameOf(pcm, f)), `paused frame ${f}`).toBe(0);
    }
    expect(peak(frameOf(pcm, plan.pause!.resumeFrame + 2))).toBeGreaterThan(0);

    // After the seek the player reads from the target: the frames equal a run loaded at the target.
    const target = r.player!.seek_targets_ms[0]!;
    expect(target % 1000).toBe(0);
    expect(target).toBeLessThanOrEqual(6_000 + plan.seek!.atFrame * 10);
    const fresh = join(tmp.dir, "fresh.wav");
    const tail = seconds * 100 - plan.seek!.atFrame - 1;
    const r2 = await runPipeline(
      userConfig(sim.url, "fresh", {
        ...base,
        startPositionMs: target,
        seconds: Math.ceil(tail / 2) / 50,
        song: { songID: r.song!.song_id },
        outPath: fresh,
      }),
    );
    expect(r2.failure).toBeNull();
    const ref = readWav(fresh);
    const after = pcm.subarray((plan.seek!.atFrame + 1) * FRAME);
    expect(peak(after)).toBeGreaterThan(500);
    expect(Buffer.from(after.buffer, after.byteOffset, after.byteLength)).toEqual(
      Buffer.from(ref.buffer, ref.byteOffset, after.byteLength),
    );
  });

  it("a link drop while publishing: the engine reconnects, the run records media-reconnect and goes on", async () => {
    const r = await runPipeline(
      userConfig(sim.url, "drops", {
        seconds: 2,
        player: { dropProb: 1 },
        // Jitter pinned: the first try waits ~59 ms, longer than a 20 ms packet, so some packet always falls
        // in the outage (with full jitter a near-zero wait sometimes reconnected between two packets).
        reconnect: { baseDelayMs: 60, maxDelayMs: 60, random: () => 0.99 },
      }),
    );
    expect(r.failure).toBeNull();
    expect(r.player).toMatchObject({ drops: 1, pauses: 0, seeks: 0 });
    expect(r.publish!.reconnects).toBe(1);
    expect(r.recovery.filter((a) => a.rule === "media-reconnect")).toHaveLength(1);
    // Frames mixed while the link was down were dropped, the rest sent.
    expect(r.publish!.frames_mixed).toBe(200);
    expect(r.publish!.packets_dropped).toBeGreaterThan(0);
  });

  it("without player options nothing is paused or sought, and the result has no player report", async () => {
    const r = await runPipeline(userConfig(sim.url, "plain", { seconds: 0.2 }));
    expect(r.failure).toBeNull();
    expect(r.player).toBeUndefined();
  });
});
