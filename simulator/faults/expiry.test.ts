import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { call, session } from "../../test/sim.ts";
import { manualClock } from "../clock.ts";
import { checkProfile } from "./profile.ts";
import {
  download,
  eventually,
  type FaultRig,
  faultEvents,
  faultRig,
  findSong,
  putFaults,
  requestRes,
} from "./test-fixtures.ts";

// expiry faults seen by a real client: resources issued meanwhile carry the fault's TTL, resources already
// issued expire when the fault starts, downloads find resources expired with the configured probability, and
// downloads in flight of a force-expired resource are cut. The simulator runs on a clock the test moves.

const clock = manualClock();
let rig: FaultRig;
let alice: Record<string, string>;
const DEFAULT_TTL = 3_600_000;

beforeAll(async () => {
  rig = await faultRig({ clock });
  alice = await session(rig.sim.url, "exp-alice");
});
afterAll(() => rig.close());
beforeEach(async () => {
  await call(rig.adminUrl, "POST", "/admin/faults/reset");
});

const song = (n: number) => findSong(rig.sim, (f) => f.has_original === 0, n);
const head = async (id: string) => {
  const r = await download(rig.sim, id, alice, { method: "HEAD" });
  return r.status;
};
/** The envelope code a GET answers (the body is an envelope when it fails). */
const getCode = async (id: string) => {
  const r = await call(rig.sim.url, "GET", `/v1/music/download/${id}`, {
    headers: { ...alice, range: "bytes=0-9" },
  });
  return [r.status, typeof r.body === "object" ? r.body.code : "audio"];
};
/** Simulator time now, ms after its start (fault windows count from there). */
const elapsed = () => clock.now() - clock.startedAt;

describe("expiry fault parameters", () => {
  const errorsOf = (fault: object) => {
    const r = checkProfile({ faults: [{ id: "x", kind: "expiry", ...fault }] });
    return r.ok ? [] : r.errors;
  };

  it("needs an effect, a sane TTL, and no extended command", () => {
    expect(errorsOf({})).toEqual([
      "faults[0]: an expiry fault needs `ttl_ms`, `expire_existing: true` or `expire_on_use: true`",
    ]);
    expect(errorsOf({ ttl_ms: -5 })).toEqual(["faults[0].ttl_ms: must be >= 0"]);
    expect(errorsOf({ ttl_ms: 1.5 })).toEqual(["faults[0].ttl_ms: must be an integer"]);
    expect(errorsOf({ expire_on_use: "yes" })).toEqual(["faults[0].expire_on_use: must be true or false"]);
    expect(errorsOf({ ttl_ms: 5, selector: { command: "/search/song" } })).toEqual([
      "faults[0].selector.command: resources have no extended command; use route",
    ]);
    expect(errorsOf({ ttl_ms: 0, expire_existing: true, expire_on_use: true, probability: 0.5 })).toEqual([]);
  });
});

describe("expiry faults over real HTTP", () => {
  it("gives resources issued while active the fault's TTL, only where the selector matches", async () => {
    await putFaults(rig, [{ id: "short", kind: "expiry", ttl_ms: 5_000, selector: { resource_type: 1 } }]);
    const acc = await requestRes(rig.sim, alice, song(0), 1);
    const orig = await requestRes(rig.sim, alice, song(0), 0);
    expect([acc.code, acc.ttl]).toEqual([0, 5_000]);
    expect([orig.code, orig.ttl]).toEqual([0, DEFAULT_TTL]);
    expect(await head(acc.id)).toBe(200);
    clock.advance(5_000);
    expect(await getCode(acc.id)).toEqual([410, 1017019]);
    expect(await head(orig.id)).toBe(200);
    // Removing the fault does not give the resource back its time; new ones get the default again.
    await call(rig.adminUrl, "POST", "/admin/faults/reset");
    expect(await getCode(acc.id)).toEqual([410, 1017019]);
    expect((await requestRes(rig.sim, alice, song(0), 1)).ttl).toBe(DEFAULT_TTL);
  });

  it("records each TTL override under the issuing request's key", async () => {
    await putFaults(rig, [{ id: "ttl", kind: "expiry", ttl_ms: 60_000 }]);
    await requestRes(rig.sim, alice, song(1), 0);
    const evs = await faultEvents(rig);
    expect(evs).toHaveLength(1);
    expect(evs[0]).toMatchObject({
      fault_id: "ttl",
      kind: "expiry",
      route: "POST /v1/music/resource",
      effect: { ttl_ms: 60_000 },
    });
    expect(evs[0]!.request_key).toMatch(/^1000000001\|exp-alice\|POST \/v1\/music\/resource#\d+$/);
  });

  it("expires matching resources already issued when applied, not later ones nor other types", async () => {
    const clipA = await requestRes(rig.sim, alice, song(2), 2);
    const clipB = await requestRes(rig.sim, alice, song(3), 2);
    const orig = await requestRes(rig.sim, alice, song(2), 0);
    await putFaults(rig, [
      { id: "storm", kind: "expiry", expire_existing: true, selector: { resource_type: 2 } },
    ]);
    expect(await getCode(clipA.id)).toEqual([410, 1017019]);
    expect(await getCode(clipB.id)).toEqual([410, 1017019]);
    expect(await head(orig.id)).toBe(200);
    const later = await requestRes(rig.sim, alice, song(2), 2);
    expect(await head(later.id)).toBe(200);
    const evs = (await faultEvents(rig)).filter((e) => e.fault_id === "storm");
    expect(evs.map((e) => [e.route, e.effect])).toEqual(
      Array(evs.length).fill(["activation", { expired: true }]),
    );
    const songA = song(2).item.song_id;
    expect(evs.map((e) => e.request_key)).toContain(`resource:1000000001|exp-alice|0|${songA}|2`);
    // Expired for good: removing the fault does not bring them back.
    await call(rig.adminUrl, "POST", "/admin/faults/reset");
    expect(await getCode(clipA.id)).toEqual([410, 1017019]);
  });

  it("expires existing resources when its window opens", async () => {
    const r = await requestRes(rig.sim, alice, song(4), 2);
    await putFaults(rig, [{ id: "later", kind: "expiry", expire_existing: true, from: elapsed() + 10_000 }]);
    expect(await head(r.id)).toBe(200);
    clock.advance(10_000);
    expect(await getCode(r.id)).toEqual([410, 1017019]);
  });

  it("expires resources on use with the configured probability; they stay expired", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) ids.push((await requestRes(rig.sim, alice, song(5 + (i % 5)), 0)).id);
    const clipRes = await requestRes(rig.sim, alice, song(5), 2);
    await putFaults(rig, [
      { id: "use", kind: "expiry", expire_on_use: true, probability: 0.3, selector: { resource_type: 0 } },
    ]);
    const first = await Promise.all(ids.map(head));
    const expired = ids.filter((_, i) => first[i] === 410);
    expect(first.every((s) => s === 200 || s === 410)).toBe(true);
    expect(Math.abs(expired.length - 60)).toBeLessThan(4 * Math.sqrt(200 * 0.3 * 0.7));
    expect(await head(clipRes.id)).toBe(200);
    const evs = await faultEvents(rig);
    expect(evs).toHaveLength(expired.length);
    expect(new Set(evs.map((e) => JSON.stringify([e.route, e.effect])))).toEqual(
      new Set([
        JSON.stringify([
          "HEAD /v1/music/download/:resource_id",
          { expired: true, code: 1017019, http_status: 410 },
        ]),
      ]),
    );
    await call(rig.adminUrl, "POST", "/admin/faults/reset");
    expect(await Promise.all(expired.map(head))).toEqual(expired.map(() => 410));
  });

  it("cuts a download in flight when its resource is force-expired", async () => {
    const r = await requestRes(rig.sim, alice, song(10), 2);
    await putFaults(rig, [{ id: "trickle", kind: "cdn", bandwidth: { bytes_per_sec: 50_000 } }]);
    let applied = false;
    const got = await download(rig.sim, r.id, alice, {
      onChunk: async (total) => {
        if (total >= 10_000 && !applied) {
          applied = true;
          await putFaults(rig, [
            { id: "trickle", kind: "cdn", bandwidth: { bytes_per_sec: 50_000 } },
            { id: "now", kind: "expiry", expire_existing: true },
          ]);
        }
      },
    });
    expect(got.status).toBe(200);
    expect(got.error).toBeDefined();
    expect(got.bytes).toBeLessThan(r.size);
    expect(got.chunks.at(-1)!.ms).toBeLessThan(3000);
    expect(
      await eventually(async () =>
        (await faultEvents(rig)).some((e) => e.fault_id === "now" && e.effect.cut),
      ),
    ).toBe(true);
    const cut = (await faultEvents(rig)).find((e) => e.effect.cut)!;
    expect(cut).toMatchObject({ kind: "expiry", effect: { cut: true, code: 1017019 } });
    expect(cut.request_key).toMatch(/\|GET \/v1\/music\/download\/:resource_id#\d+$/);
  });
});
