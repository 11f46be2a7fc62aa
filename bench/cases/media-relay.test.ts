import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Simulator } from "../../simulator/app.ts";
import { testSimulator } from "../../test/sim.ts";
import { RoundFailure } from "../runner/case.ts";
import { type Started, startServer } from "../server/servers.ts";
import { Driver, edgeFigure, findEdge, relayStepPasses } from "./media-relay.ts";

// The relay race's load, black-box over real WebSockets: it logs in, publishes and plays on the simulator by
// the documented protocol and by role messages on the bare relay, and every frame sent in the window reaches
// every player of its room on both (a step's figures are counted, not assumed). No speed is asserted here.

let sim: Simulator;
let bare: Started;
beforeAll(async () => {
  sim = await testSimulator();
  bare = await startServer(["bench/server/bare-relay.ts"]);
});
afterAll(async () => {
  await sim?.close();
  await bare?.stop();
});

describe("media relay load", () => {
  for (const kind of ["sim", "bare"] as const) {
    it(`delivers every frame of a step to every player (${kind})`, async () => {
      const d = Driver.start(kind, kind === "sim" ? sim.url : bare.url);
      try {
        expect(await d.ask("connect 2")).toEqual({ connected: 2 });
        // 10 rooms: two batches (8 at a time), every room's publisher and players joined.
        expect(await d.ask("connect 10")).toEqual({ connected: 10 });
        const p = await d.ask<{ expected: number; received: number; offered_fps: number; p99_us: number }>(
          "probe 2 1 200",
        );
        expect(p.offered_fps).toBe(800);
        // 2 rooms x 100 frames/s x 1 s x 4 players, give or take the frames a busy machine sends late.
        expect(p.expected).toBeGreaterThan(100);
        expect(p.received).toBe(p.expected);
        expect(p.p99_us).toBeGreaterThan(0);
        await expect(d.ask("probe 1 1 -5")).rejects.toThrow(/bad probe/);
      } finally {
        await d.stop();
      }
    });
  }

  it("findEdge brackets the edge from a guess above or below it, moves growing, and bisects to ~10%", async () => {
    const edgeAt = (edge: number) => {
      const asked: number[] = [];
      const step = async (rooms: number) => {
        asked.push(rooms);
        return { ok: rooms <= edge, fps: rooms * 400 };
      };
      return { asked, step };
    };
    const up = edgeAt(40);
    expect(await findEdge(up.step, { guess: 8, factor: 2, max: 160 })).toEqual({
      rooms: 40,
      fps: 16_000,
      capped: false,
    });
    // x2, then x4: 8, 16, 64 (fails), then bisection of 16..64.
    expect(up.asked.slice(0, 3)).toEqual([8, 16, 64]);
    // From the last round's edge with a small factor: 39 passes, 49 fails, then bisection (bracket within 10%).
    const near = edgeAt(40);
    const r = await findEdge(near.step, { guess: 39, factor: 1.25, max: 160 });
    expect(r.rooms).toBeGreaterThanOrEqual(36);
    expect(r.rooms).toBeLessThanOrEqual(40);
    expect(near.asked.length).toBeLessThanOrEqual(4);
    // A last edge far below the new one: the moves grow (3, 4, 6, 15, ...) instead of creeping up by one room.
    const far = edgeAt(40);
    await findEdge(far.step, { guess: 3, factor: 1.25, max: 160 });
    expect(far.asked.slice(0, 5)).toEqual([3, 4, 6, 15, 89]);
    expect(far.asked.length).toBeLessThanOrEqual(10);
    // A looser tolerance stops the bisection earlier: [16, 64] within 20% of the passing end.
    const loose = edgeAt(40);
    const l = await findEdge(loose.step, { guess: 16, factor: 2, max: 64, tolerance: 0.2 });
    expect(loose.asked).toEqual([16, 32, 64, 48, 40]);
    expect(l.rooms).toBe(40);
    const down = edgeAt(3);
    expect((await findEdge(down.step, { guess: 8, factor: 2, max: 160 })).rooms).toBe(3);
    expect(down.asked).toEqual([8, 4, 1, 2, 3]);
    const capped = edgeAt(1000);
    expect(await findEdge(capped.step, { guess: 8, factor: 2, max: 64 })).toMatchObject({
      rooms: 64,
      capped: true,
    });
    const none = edgeAt(0);
    expect((await findEdge(none.step, { guess: 8, factor: 2, max: 64 })).rooms).toBe(0);
    expect(none.asked).toEqual([8, 4, 1]);
  });

  it("a round whose every step failed is a RoundFailure naming the steps, not a case error", () => {
    expect(edgeFigure({ rooms: 12, fps: 4800 }, ["16:90%:30.0ms", "12:100%:4.0ms"])).toBe(4800);
    const none = () => edgeFigure({ rooms: 0, fps: 0 }, ["16:80%:40.0ms", "1:100%:25.0ms"]);
    expect(none).toThrow(RoundFailure);
    expect(none).toThrow(/no step met p99 lag < 20 ms with 99% delivered: 16:80%:40.0ms 1:100%:25.0ms/);
  });

  it("a step passes on 99% delivered and p99 lag under 20 ms", () => {
    expect(relayStepPasses({ expected: 1000, received: 990, p99_us: 19_999 })).toBe(true);
    expect(relayStepPasses({ expected: 1000, received: 989, p99_us: 1000 })).toBe(false);
    expect(relayStepPasses({ expected: 1000, received: 1000, p99_us: 20_000 })).toBe(false);
    expect(relayStepPasses({ expected: 1000, received: 1000, p99_us: null })).toBe(false);
    expect(relayStepPasses({ expected: 0, received: 0, p99_us: 1 })).toBe(false);
  });
});
