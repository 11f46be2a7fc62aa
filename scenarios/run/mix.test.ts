import { describe, expect, it } from "vitest";
import type { LedgerRowLine } from "../../reports/format.ts";
import { resolveScenario } from "../resolve.ts";
import { validateScenario } from "../validate.ts";
import vendorMix from "../vendor-mix.ts";
import { mixedBillingCheck, mixedCountOf } from "./billing-check.ts";
import { drawVariant, mixCombos, mixScenes, weighted } from "./mix.ts";

// ktv.mix and ktv.player as data: what validation refuses, what a room draws, and the billing check per mode
// and per vendor. The run itself is in scenarios/vendor-mix.test.ts.

const mixOf = (mix: unknown, extra: Record<string, unknown> = {}) =>
  validateScenario({
    name: "m",
    description: "",
    options: { vus: 1, duration: "1s" },
    ktv: { mix, ...extra },
  });

describe("ktv.mix validation", () => {
  it("accepts the shipped vendor-mix scenario", () => {
    expect(validateScenario(vendorMix)).toEqual([]);
  });

  it("refuses unknown fields and values, bad weights, all-zero weights, and a vendor that offers no mixed type", () => {
    expect(mixOf({ kinds: { "1": 1 } })).toEqual([
      "ktv.mix.kinds: unknown (allowed: types, vendors, scenes, billingModes)",
    ]);
    expect(mixOf({ types: { "4": 1 } })).toEqual(['ktv.mix.types: "4" is not one of 0, 1, 2, 3']);
    expect(mixOf({ vendors: { "3": 1 } })).toEqual(['ktv.mix.vendors: "3" is not one of 0, 1, 2, 4']);
    expect(mixOf({ scenes: { "1": -1, "0": 0 } })).toEqual([
      "ktv.mix.scenes.1: weight must be a number >= 0, got -1",
      "ktv.mix.scenes: needs at least one weight above 0",
    ]);
    expect(mixOf({ billingModes: [1, 2] })).toEqual([
      'ktv.mix.billingModes: must be an object of weights such as {"0": 1}, got [1,2]',
    ]);
    // Vendor 4 offers neither clips nor segments (spec §2).
    expect(mixOf({ types: { "2": 1, "3": 1 }, vendors: { "0": 1, "4": 1 } })).toEqual([
      "ktv.mix: vendor 4 offers none of the resource types 2, 3 (spec §2: clips on vendors 0/1, segments on 0/1/2)",
    ]);
    expect(mixOf({ vendors: { "0": 1, "2": 1 } }, { resource: { quality: 1 } })).toEqual([
      "ktv.mix: a mix of types or vendors requests quality 0 (normal), the one every type and vendor offers",
    ]);
    expect(mixOf({ types: { "1": 1 } }, { vu: "music" })).toEqual([
      'ktv.mix: is for pipeline VUs (ktv.vu is "music")',
    ]);
  });

  it("ktv.player: probabilities in 0..1, pauseMs a multiple of 10, pipeline VUs only", () => {
    const p = (player: unknown, extra: Record<string, unknown> = {}) =>
      validateScenario({
        name: "p",
        description: "",
        options: { vus: 1, duration: "1s" },
        ktv: { player, ...extra },
      });
    expect(p({ pauseProb: 0.5, seekProb: 1, pauseMs: 500 })).toEqual([]);
    expect(p({ pauseProb: 2, pauseMs: 5, jump: 1 })).toEqual([
      "ktv.player.jump: unknown",
      "ktv.player.pauseProb: must be a number in 0..1",
      "ktv.player.pauseMs: must be a multiple of 10 in 10..60000",
    ]);
    expect(p({ seekProb: 1 }, { vu: "conformance" })).toEqual(
      expect.arrayContaining(['ktv.player: is for pipeline VUs (ktv.vu is "conformance")']),
    );
  });
});

describe("drawVariant", () => {
  const mix = resolveScenario(vendorMix).mix!;

  it("is the (seed, room, round)'s: every roommate draws the same, and vendors only get types they offer", () => {
    const seen = new Map<string, number>();
    for (let room = 0; room < 100; room++) {
      for (let round = 0; round < 20; round++) {
        const v = drawVariant(mix, 5, room, round);
        expect(drawVariant(mix, 5, room, round)).toEqual(v);
        if (v.type === 2) expect([0, 1]).toContain(v.vendorId);
        if (v.type === 3) expect([0, 1, 2]).toContain(v.vendorId);
        for (const k of [`t${v.type}`, `v${v.vendorId}`, `s${v.sceneId}`, `m${v.billingMode}`]) {
          seen.set(k, (seen.get(k) ?? 0) + 1);
        }
      }
    }
    // Every value with a weight is drawn; scenes 1 and 3 (weight absent) never.
    for (const k of [
      "t0",
      "t1",
      "t2",
      "t3",
      "v0",
      "v1",
      "v2",
      "v4",
      "s0",
      "s2",
      "s4",
      "m0",
      "m1",
      "m2",
      "m3",
    ]) {
      expect(seen.get(k), k).toBeGreaterThan(50);
    }
    expect(seen.has("s1") || seen.has("s3")).toBe(false);
    // Weights hold: vendor 0 weighs 2 of 5 (400 of 2000 draws per weight unit, give or take).
    expect(seen.get("v0")!).toBeGreaterThan(700);
    expect(seen.get("v0")!).toBeLessThan(900);
  });

  it("weighted() never draws a zero weight; the pools cover every (vendor, type) drawn; scenes to enable", () => {
    for (let i = 0; i < 1000; i++)
      expect(
        weighted(
          [
            [1, 0],
            [2, 3],
            [3, 0],
          ],
          i / 1000,
        ),
      ).toBe(2);
    const combos = mixCombos(mix).map((c) => `${c.vendorId}:${c.type}`);
    expect(combos.sort()).toEqual(
      ["0:0", "0:1", "0:2", "0:3", "1:0", "1:1", "1:2", "1:3", "2:0", "2:1", "2:3", "4:0", "4:1"].sort(),
    );
    expect(mixScenes(mix)).toEqual([2, 4]);
    expect(mixScenes(null)).toEqual([]);
  });
});

describe("mixedBillingCheck", () => {
  const row = (id: number, mode: number, vendor: number): LedgerRowLine => ({
    id,
    time: 1_700_000_000_000 + id,
    billing_mode: mode,
    vendor_id: vendor,
    user_id: `k1-v${id}`,
    room_id: "k1-room0",
    master_id: mode === 3 ? "k1-v0" : null,
  });
  const counters = (c: Record<string, number>) => ({ counter: (k: string) => c[k] ?? 0 });
  const clients = counters({
    "billable_by_mode{billing_mode:0}": 2,
    "billable_by_mode{billing_mode:3}": 1,
    "billable_by_vendor{vendor_id:0}": 1,
    "billable_by_vendor{vendor_id:4}": 2,
  });
  const ledger = [row(1, 0, 0), row(2, 0, 4), row(3, 3, 4)];

  it("passes when every mode and every vendor agrees", () => {
    const c = mixedBillingCheck(mixedCountOf(clients), ledger, { userPrefix: "k1" });
    expect(c.ok).toBe(true);
    expect(c.detail).toContain("0 (Count): 2, 3 (Master): 1");
  });

  it("one row more in one mode fails, naming the mode and the vendor", () => {
    const c = mixedBillingCheck(mixedCountOf(clients), [...ledger, row(4, 1, 4)], { userPrefix: "k1" });
    expect(c.ok).toBe(false);
    expect(c.detail).toContain("billing mode 1 (User): the clients counted 0 billable requests");
    expect(c.detail).toContain(
      "vendor 4: the clients counted 2 billable requests, so the ledger should have 2 rows; it has 3",
    );
  });

  it("unconfirmed requests widen only their own mode's range; a master row without master_id fails", () => {
    const withUnconfirmed = counters({
      "billable_by_mode{billing_mode:0}": 1,
      "unconfirmed_by_mode{billing_mode:0}": 1,
      "billable_by_vendor{vendor_id:0}": 1,
      "unconfirmed_by_vendor{vendor_id:0}": 1,
    });
    expect(mixedBillingCheck(mixedCountOf(withUnconfirmed), [row(1, 0, 0), row(2, 0, 0)]).ok).toBe(true);
    expect(mixedBillingCheck(mixedCountOf(withUnconfirmed), [row(1, 0, 0), row(2, 1, 0)]).ok).toBe(false);
    const noMaster = { ...row(3, 3, 4), master_id: null };
    const c = mixedBillingCheck(mixedCountOf(clients), [row(1, 0, 0), row(2, 0, 4), noMaster]);
    expect(c.detail).toBe("1 ledger rows in mode 3 (Master) have no master_id");
  });
});
