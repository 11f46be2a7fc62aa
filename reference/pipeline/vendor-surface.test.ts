import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Simulator } from "../../simulator/app.ts";
import { DEV_APP } from "../../simulator/options.ts";
import { testSimulator } from "../../test/sim.ts";
import { runPipeline } from "./run.ts";
import { billedTo, userConfig } from "./test-fixtures.ts";

// Every resource type from every vendor that offers it (spec §2), with a scene id and each billing mode, through
// the whole flow against a real simulator: the song plays and the ledger row says what was asked for. And a
// scene the app has not enabled is the vendor's 1017076, reported at the request, nothing billed.

let sim: Simulator;
beforeAll(async () => {
  sim = await testSimulator({ apps: [{ ...DEV_APP, scenes: [0, 2, 4] }] });
});
afterAll(async () => {
  await sim.close();
});

/** Spec §2: songs and accompaniments from 0/1/2/4, long clips from 0/1, short segments from 0/1/2. */
const OFFERS: [vendor: number, type: number][] = [
  [0, 0],
  [0, 1],
  [0, 2],
  [0, 3],
  [1, 0],
  [1, 1],
  [1, 2],
  [1, 3],
  [2, 0],
  [2, 1],
  [2, 3],
  [4, 0],
  [4, 1],
];

describe("the vendor surface through the pipeline", () => {
  it("each type from each vendor that offers it, with scenes and billing modes: plays, and bills what it asked", async () => {
    for (const [i, [vendor, type]] of OFFERS.entries()) {
      const billingMode = i % 4;
      const sceneID = [2, 4][i % 2]!;
      const user = `surface-${vendor}-${type}`;
      const r = await runPipeline(
        userConfig(sim.url, user, {
          song: { query: "a" },
          vendorID: vendor,
          resourceType: type,
          billingMode,
          sceneID,
          ...(billingMode === 3 ? { masterID: "owner" } : {}),
          seconds: 0.1,
        }),
      );
      expect(r.failure, `vendor ${vendor} type ${type}`).toBeNull();
      expect(r.song).toMatchObject({ resource_type: type, via: "request" });
      expect(r.errors, `vendor ${vendor} type ${type}`).toEqual({});
      const rows = await billedTo(sim.url, user);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        vendor_id: vendor,
        resource_type: type,
        billing_mode: billingMode,
        scene_id: sceneID,
        ...(billingMode === 3 ? { master_id: "owner" } : {}),
      });
    }
  }, 60_000);

  it("a scene the app has not enabled: 1017076 at the request, nothing billed", async () => {
    const r = await runPipeline(userConfig(sim.url, "surface-scene3", { sceneID: 3 }));
    expect(r.failure).toMatchObject({ stage: "request", code: 1017076 });
    expect(await billedTo(sim.url, "surface-scene3")).toEqual([]);
  });
});
