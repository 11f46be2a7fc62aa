import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { call, session } from "../../test/sim.ts";
import { manualClock } from "../clock.ts";
import { createFaultEngine } from "./engine.ts";
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

// cdn faults seen by a real HTTP client of the real simulator: a stall is a gap in the body, a reset leaves
// exactly N bytes and an error, a cap holds the observed rate, a slow first byte delays the headers, and every
// wait lets go when the fault is removed or the client leaves. Files are normal-quality clips (~0.6 MB).

let rig: FaultRig;
let alice: Record<string, string>;
let bob: Record<string, string>;

beforeAll(async () => {
  rig = await faultRig();
  alice = await session(rig.sim.url, "cdn-alice");
  bob = await session(rig.sim.url, "cdn-bob");
});
afterAll(() => rig.close());
beforeEach(async () => {
  await call(rig.adminUrl, "POST", "/admin/faults/reset");
});

/** A fresh clip resource (mono, so ~640 KB) of the n-th suitable song. */
async function clip(n: number, who = alice) {
  const song = findSong(rig.sim, (f) => f.has_original === 0, n);
  const r = await requestRes(rig.sim, who, song, 2);
  expect(r.code).toBe(0);
  return r;
}

const activeDownloads = async () => (await rig.sim.ctx.metrics.activeDownloads.get()).values[0]?.value;

describe("cdn fault parameters", () => {
  const errorsOf = (fault: object) => {
    const r = checkProfile({ faults: [{ id: "c", kind: "cdn", ...fault }] });
    return r.ok ? [] : r.errors;
  };

  it("needs at least one effect and names wrong fields", () => {
    expect(errorsOf({})).toEqual([
      "faults[0]: a cdn fault needs `first_byte`, `stall`, `reset_after_bytes` or `bandwidth`",
    ]);
    expect(errorsOf({ reset_after_bytes: -1 })).toEqual(["faults[0].reset_after_bytes: must be >= 0"]);
    expect(errorsOf({ bandwidth: { bytes_per_sec: 10 } })).toEqual([
      "faults[0].bandwidth.bytes_per_sec: must be >= 1000",
    ]);
    expect(errorsOf({ bandwidth: { bytes_per_sec: 5000, scope: "room" } })).toEqual([
      'faults[0].bandwidth.scope: must be one of "connection", "global"',
    ]);
    expect(errorsOf({ stall: { after_bytes: 10 } })).toEqual(["faults[0].stall.duration: is required"]);
    expect(errorsOf({ first_byte: { type: "fixed", ms: 5 }, selector: { command: "/search/song" } })).toEqual(
      ["faults[0].selector.command: downloads have no extended command; use route"],
    );
    expect(
      errorsOf({
        first_byte: { type: "uniform", min: 1, max: 5 },
        stall: { after_bytes: 0, duration: { type: "fixed", ms: 1 } },
        reset_after_bytes: 0,
        bandwidth: { bytes_per_sec: 1000, scope: "global" },
      }),
    ).toEqual([]);
  });

  it("hits downloads with the configured probability, the same ones for the same keys", () => {
    const profile = {
      faults: [
        { id: "slow", kind: "cdn", probability: 0.3, first_byte: { type: "uniform", min: 10, max: 20 } },
      ],
    };
    const rec = (i: number) => ({
      resource_id: `r${i}`,
      app_id: 1,
      user_id: `u${i}`,
      vendor_id: 0,
      song_id: "s",
      resource_type: 2,
      room_id: null,
      forced_expired: false,
      via_share: false,
    });
    const run = () => {
      const e = createFaultEngine({ seed: 5, clock: manualClock(), profile });
      return Array.from(
        { length: 2000 },
        (_, i) => e.decideDownload(`k${i}`, "GET /x", rec(i)).firstByteDelayMs,
      );
    };
    const a = run();
    const hit = a.filter((d) => d > 0);
    expect(Math.abs(hit.length - 600)).toBeLessThan(4 * Math.sqrt(2000 * 0.3 * 0.7));
    expect(hit.every((d) => d >= 10 && d <= 20)).toBe(true);
    expect(run()).toEqual(a);
  });
});

describe("cdn faults over real HTTP", () => {
  it("stalls the body once after exactly after_bytes, for the configured time", async () => {
    const r = await clip(0);
    await putFaults(rig, [
      {
        id: "stall",
        kind: "cdn",
        stall: { after_bytes: 50_000, duration: { type: "fixed", ms: 600 } },
        selector: { resource_type: 2 },
      },
    ]);
    const got = await download(rig.sim, r.id, alice);
    expect(got.status).toBe(200);
    expect(got.error).toBeUndefined();
    expect(got.bytes).toBe(r.size);
    const i = got.chunks.findIndex((c) => c.total > 50_000);
    expect(got.chunks[i - 1]!.total).toBe(50_000);
    const gap = got.chunks[i]!.ms - got.chunks[i - 1]!.ms;
    expect(gap).toBeGreaterThan(560);
    expect(gap).toBeLessThan(1500);
    // One stall only: the rest of the body flows.
    expect(got.chunks.at(-1)!.ms - got.chunks[i]!.ms).toBeLessThan(400);
    const [e] = await faultEvents(rig);
    expect(e).toMatchObject({
      fault_id: "stall",
      kind: "cdn",
      route: "GET /v1/music/download/:resource_id",
      request_key: "1000000001|cdn-alice|GET /v1/music/download/:resource_id#1",
      effect: { stall_ms: 600, stall_after_bytes: 50_000 },
    });
  });

  it("resets the connection after exactly reset_after_bytes: those bytes, then an error", async () => {
    const r = await clip(1);
    const whole = await download(rig.sim, r.id, alice);
    await putFaults(rig, [{ id: "rst", kind: "cdn", reset_after_bytes: 70_001 }]);
    const got = await download(rig.sim, r.id, alice);
    expect(got.status).toBe(200);
    expect(got.bytes).toBe(70_001);
    expect(got.error).toBeDefined();
    expect(got.body.equals(whole.body.subarray(0, 70_001))).toBe(true);
    // A Range answer counts its own bytes.
    const part = await download(rig.sim, r.id, { ...alice, range: "bytes=100000-" });
    expect(part.status).toBe(206);
    expect(part.bytes).toBe(70_001);
    expect(part.body.equals(whole.body.subarray(100_000, 170_001))).toBe(true);
    // The simulator is fine and serves whole files again once the fault is gone.
    await call(rig.adminUrl, "POST", "/admin/faults/reset");
    expect((await download(rig.sim, r.id, alice)).bytes).toBe(r.size);
  });

  it("caps one connection's bandwidth", async () => {
    const r = await clip(2);
    await putFaults(rig, [{ id: "cap", kind: "cdn", bandwidth: { bytes_per_sec: 200_000 } }]);
    const got = await download(rig.sim, r.id, { ...alice, range: "bytes=0-199999" });
    expect(got.bytes).toBe(200_000);
    const s = got.chunks.at(-1)!.ms / 1000;
    // 200 kB at 200 kB/s: 1 s, less one 50 ms burst; generous above for a loaded machine.
    expect(s).toBeGreaterThan(0.9);
    expect(s).toBeLessThan(1.8);
  });

  it("shares a global cap between the downloads it hits", async () => {
    const a = await clip(3, alice);
    const b = await clip(3, bob);
    await putFaults(rig, [
      { id: "pipe", kind: "cdn", bandwidth: { bytes_per_sec: 200_000, scope: "global" } },
    ]);
    const t0 = performance.now();
    const [ra, rb] = await Promise.all([
      download(rig.sim, a.id, { ...alice, range: "bytes=0-99999" }),
      download(rig.sim, b.id, { ...bob, range: "bytes=0-99999" }),
    ]);
    const s = (performance.now() - t0) / 1000;
    expect(ra.bytes + rb.bytes).toBe(200_000);
    // Shared: 200 kB through one 200 kB/s pipe takes ~1 s (each alone would take 0.5 s).
    expect(s).toBeGreaterThan(0.85);
    expect(s).toBeLessThan(1.8);
    const evs = await faultEvents(rig);
    expect(evs.map((e) => e.effect)).toEqual([
      { bytes_per_sec: 200_000, cap_scope: "global" },
      { bytes_per_sec: 200_000, cap_scope: "global" },
    ]);
  });

  it("delays the response headers by first_byte (GET and HEAD)", async () => {
    const r = await clip(4);
    const quick = await download(rig.sim, r.id, alice, { method: "HEAD" });
    expect(quick.headersMs).toBeLessThan(300);
    await putFaults(rig, [{ id: "ttfb", kind: "cdn", first_byte: { type: "fixed", ms: 400 } }]);
    const head = await download(rig.sim, r.id, alice, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headersMs).toBeGreaterThan(390);
    const get = await download(rig.sim, r.id, { ...alice, range: "bytes=0-999" });
    expect(get.status).toBe(206);
    expect(get.headersMs).toBeGreaterThan(390);
    expect(get.bytes).toBe(1000);
  });

  it("releases a long stall when the fault is removed: the download completes", async () => {
    const r = await clip(5);
    await putFaults(rig, [
      { id: "hang", kind: "cdn", stall: { after_bytes: 10_000, duration: { type: "fixed", ms: 30_000 } } },
    ]);
    let removed = false;
    const got = await download(rig.sim, r.id, alice, {
      onChunk: async (total) => {
        if (total >= 10_000 && !removed) {
          removed = true;
          // Give the stall time to start, then remove the fault.
          await new Promise((res) => setTimeout(res, 150));
          await call(rig.adminUrl, "POST", "/admin/faults/reset");
        }
      },
    });
    expect(got.error).toBeUndefined();
    expect(got.bytes).toBe(r.size);
    expect(got.chunks.at(-1)!.ms).toBeLessThan(3000);
  });

  it("lifts a cap when the fault is disabled mid-download", async () => {
    const r = await clip(6);
    await putFaults(rig, [{ id: "trickle", kind: "cdn", bandwidth: { bytes_per_sec: 40_000 } }]);
    let patched = false;
    const got = await download(rig.sim, r.id, alice, {
      onChunk: async (total) => {
        if (total >= 20_000 && !patched) {
          patched = true;
          await call(rig.adminUrl, "PATCH", "/admin/faults/trickle", { body: { enabled: false } });
        }
      },
    });
    // 640 kB at 40 kB/s would take 16 s.
    expect(got.bytes).toBe(r.size);
    expect(got.chunks.at(-1)!.ms).toBeLessThan(3000);
  });

  it("lets go of a stalled download when the client leaves", async () => {
    const r = await clip(7);
    await putFaults(rig, [
      { id: "hang", kind: "cdn", stall: { after_bytes: 5_000, duration: { type: "fixed", ms: 60_000 } } },
    ]);
    const stop = new AbortController();
    const got = await download(rig.sim, r.id, alice, {
      signal: stop.signal,
      onChunk: (total) => {
        if (total >= 5_000) setTimeout(() => stop.abort(), 100);
      },
    });
    expect(got.bytes).toBe(5_000);
    expect(got.error).toBeDefined();
    expect(await eventually(async () => (await activeDownloads()) === 0)).toBe(true);
  });

  it("counts every planned effect in faults_injected_total and leaves unselected downloads alone", async () => {
    const song = findSong(rig.sim, (f) => f.has_original === 0, 8);
    const original = await requestRes(rig.sim, alice, song, 0);
    const r = await clip(8);
    await putFaults(rig, [
      { id: "ttfb-clips", kind: "cdn", first_byte: { type: "fixed", ms: 1 }, selector: { resource_type: 2 } },
    ]);
    await download(rig.sim, r.id, alice, { method: "HEAD" });
    await download(rig.sim, r.id, alice, { method: "HEAD" });
    await download(rig.sim, original.id, alice, { method: "HEAD" });
    const metrics = await (await fetch(`${rig.sim.url}/metrics`)).text();
    expect(metrics).toMatch(/faults_injected_total\{fault_id="ttfb-clips",kind="cdn"\} 2\n/);
    expect((await faultEvents(rig)).map((e) => e.request_key)).toEqual([
      "1000000001|cdn-alice|HEAD /v1/music/download/:resource_id#1",
      "1000000001|cdn-alice|HEAD /v1/music/download/:resource_id#2",
    ]);
  });
});
