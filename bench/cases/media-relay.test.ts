import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Simulator } from "../../simulator/app.ts";
import { testSimulator } from "../../test/sim.ts";
import { type Started, startServer } from "../server/servers.ts";
import { Driver, relayStepPasses } from "./media-relay.ts";

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
        const p = await d.ask<{ expected: number; received: number; offered_fps: number; p99_us: number }>(
          "probe 2 1",
        );
        expect(p.offered_fps).toBe(800);
        // 2 rooms x 100 frames/s x 1 s x 4 players, give or take the frames a busy machine sends late.
        expect(p.expected).toBeGreaterThan(100);
        expect(p.received).toBe(p.expected);
        expect(p.p99_us).toBeGreaterThan(0);
      } finally {
        await d.stop();
      }
    });
  }

  it("a step passes on 99% delivered and p99 lag under 20 ms", () => {
    expect(relayStepPasses({ expected: 1000, received: 990, p99_us: 19_999 })).toBe(true);
    expect(relayStepPasses({ expected: 1000, received: 989, p99_us: 1000 })).toBe(false);
    expect(relayStepPasses({ expected: 1000, received: 1000, p99_us: 20_000 })).toBe(false);
    expect(relayStepPasses({ expected: 1000, received: 1000, p99_us: null })).toBe(false);
    expect(relayStepPasses({ expected: 0, received: 0, p99_us: 1 })).toBe(false);
  });
});
