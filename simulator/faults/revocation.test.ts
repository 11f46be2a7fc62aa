import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { call, session } from "../../test/sim.ts";
import type { SongFacts } from "../catalog/types.ts";
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

// revocation faults seen by a real client: revoked songs leave charts and search, requestResource answers
// 1017030 (1017031 for accompaniments of a listen-only song), cached ids read as rightless, downloads are
// refused and cut in flight, and removing the fault brings everything back.

const clock = manualClock();
let rig: FaultRig;
let alice: Record<string, string>;
const HOT = "8888";

beforeAll(async () => {
  rig = await faultRig({ clock });
  alice = await session(rig.sim.url, "rev-alice");
});
afterAll(() => rig.close());
beforeEach(async () => {
  await call(rig.adminUrl, "POST", "/admin/faults/reset");
});

const ext = async (command: string, params: object) => {
  const r = await call(rig.sim.url, "POST", "/v1/music/extended", {
    headers: alice,
    body: { command, params: { vendor_id: 0, ...params } },
  });
  expect(r.body.code, JSON.stringify(r.body)).toBe(0);
  return r.body.data;
};

/** Every song id of a paged list command (bounded walk). */
async function walk(command: string, params: object): Promise<string[]> {
  const ids: string[] = [];
  for (let page = 1; page <= 30; page++) {
    const { songs } = await ext(command, { ...params, page });
    if (songs.length === 0) break;
    ids.push(...songs.map((s: { song_id: string }) => s.song_id));
  }
  return ids;
}
const chart = () => walk("/top/song", { top_id: HOT });
const search = (keyword: string, filter?: number[]) => walk("/search/song", { keyword, filter });
const infos = async (id: string) => (await ext("/song/infos", { songs_id: [id] })).songs[0].copyright;

/** A song on the hot chart that can be requested as any type. */
function charted(skip = 0): SongFacts {
  const onChart = new Set(rig.sim.ctx.catalog.chart(0, HOT));
  return findSong(rig.sim, (f) => onChart.has(f.index), skip);
}

const patch = (id: string, enabled: boolean) =>
  call(rig.adminUrl, "PATCH", `/admin/faults/${id}`, { body: { enabled } });

describe("revocation fault parameters", () => {
  const errorsOf = (fault: object) => {
    const r = checkProfile({ faults: [{ id: "r", kind: "revocation", ...fault }] });
    return r.ok ? [] : r.errors;
  };

  it("needs songs, and refuses per-request knobs", () => {
    expect(errorsOf({})).toEqual([
      "faults[0].selector: a revocation needs selector.song_ids, selector.song_fraction or selector.vendor_id",
    ]);
    expect(
      errorsOf({ selector: { song_fraction: 0.1, route: "/v1/music/resource" }, probability: 0.5, max: 3 }),
    ).toEqual([
      "faults[0].selector.route: a revocation applies to songs for every caller: only song_ids, song_fraction, vendor_id",
      "faults[0].probability: a revocation is not rolled per request: pick songs with selector.song_fraction",
      "faults[0].max: a revocation is a state, not a per-request effect: no count limits",
    ]);
    expect(errorsOf({ selector: { song_fraction: 2 } })).toEqual([
      "faults[0].selector.song_fraction: must be <= 1",
    ]);
    expect(errorsOf({ selector: { vendor_id: 1 }, listen_only: true, from: 10, until: 20 })).toEqual([]);
  });

  it("refuses unknown song ids over HTTP, keeping the old profile", async () => {
    await putFaults(rig, [
      { id: "keep", kind: "revocation", selector: { song_ids: [charted().item.song_id] } },
    ]);
    const r = await call(rig.adminUrl, "PUT", "/admin/faults", {
      body: { faults: [{ id: "bad", kind: "revocation", selector: { song_ids: ["999999999"] } }] },
    });
    expect(r.status).toBe(400);
    expect(r.body.message).toContain('faults[0].selector.song_ids[0]: unknown song id "999999999"');
    expect(rig.engine.getProfile().faults.map((f) => f.id)).toEqual(["keep"]);
  });
});

describe("revocation faults over real HTTP", () => {
  it("hides listed songs everywhere, refuses them, and restores them when the fault goes", async () => {
    const song = charted(0);
    const id = song.item.song_id;
    const before = { chart: await chart(), search: await search(song.item.song_name) };
    expect(before.chart).toContain(id);
    expect(before.search).toContain(id);
    const held = await requestRes(rig.sim, alice, song, 2);
    expect(held.code).toBe(0);

    await putFaults(rig, [{ id: "gone", kind: "revocation", selector: { song_ids: [id] } }]);
    // Lists page past it: the same list without that one song.
    expect(await chart()).toEqual(before.chart.filter((x) => x !== id));
    expect(await search(song.item.song_name)).toEqual(before.search.filter((x) => x !== id));
    for (const type of [0, 1, 2]) expect((await requestRes(rig.sim, alice, song, type)).code).toBe(1017030);
    expect(await infos(id)).toMatchObject({ song_lyric: 0, recording: 0 });
    expect((await ext("/song/copyright", { songs_id: [id] })).copyright[0].right).toBe(0);
    const dl = await call(rig.sim.url, "GET", `/v1/music/download/${held.id}`, { headers: alice });
    expect([dl.status, dl.body.code]).toEqual([403, 1017030]);
    const [ev] = await faultEvents(rig);
    expect(ev).toMatchObject({
      fault_id: "gone",
      kind: "revocation",
      route: "activation",
      effect: { revoked: "all" },
    });

    // PATCH disable restores, enable revokes again; reset restores.
    expect((await patch("gone", false)).status).toBe(200);
    expect(await chart()).toEqual(before.chart);
    expect((await requestRes(rig.sim, alice, song, 0)).code).toBe(0);
    await patch("gone", true);
    expect(await chart()).not.toContain(id);
    await call(rig.adminUrl, "POST", "/admin/faults/reset");
    expect(await chart()).toEqual(before.chart);
    expect(await search(song.item.song_name)).toEqual(before.search);
    expect(await infos(id)).toEqual(song.item.copyright);
    expect((await download(rig.sim, held.id, alice, { method: "HEAD" })).status).toBe(200);
  });

  it("listen_only: the original stays, accompaniments answer 1017031, lyric rights read 0", async () => {
    const song = charted(1);
    const id = song.item.song_id;
    const held = await requestRes(rig.sim, alice, song, 1);
    await putFaults(rig, [{ id: "lo", kind: "revocation", listen_only: true, selector: { song_ids: [id] } }]);
    expect(await chart()).toContain(id);
    expect(await search(song.item.song_name)).toContain(id);
    // Filter 1 asks for accompaniment rights: the song no longer has them.
    expect(await search(song.item.song_name, [1])).not.toContain(id);
    expect((await requestRes(rig.sim, alice, song, 0)).code).toBe(0);
    for (const type of [1, 2, 3]) expect((await requestRes(rig.sim, alice, song, type)).code).toBe(1017031);
    expect(await infos(id)).toMatchObject({ song_lyric: 0, recording: 1 });
    const dl = await call(rig.sim.url, "GET", `/v1/music/download/${held.id}`, { headers: alice });
    expect([dl.status, dl.body.code]).toEqual([403, 1017031]);
    const [ev] = await faultEvents(rig);
    expect(ev!.effect).toEqual({ revoked: "listen_only" });
  });

  it("refuses shared resources of revoked and listen-only songs in a room", async () => {
    const bob = await session(rig.sim.url, "rev-bob");
    for (const who of [alice, bob]) {
      const r = await call(rig.sim.url, "POST", "/v1/room/login", {
        headers: who,
        body: { room_id: "rev-room" },
      });
      expect(r.body.code).toBe(0);
    }
    const song = charted(4);
    const id = song.item.song_id;
    const shared = (type: number) =>
      call(rig.sim.url, "POST", "/v1/music/shared-resource", {
        headers: bob,
        body: { song_id: id, vendor_id: 0, resource_type: type, room_id: "rev-room" },
      });
    for (const type of [0, 1]) {
      const r = await call(rig.sim.url, "POST", "/v1/music/resource", {
        headers: alice,
        body: { song_id: id, vendor_id: 0, resource_type: type, billing_mode: 0, room_id: "rev-room" },
      });
      expect(r.body.code).toBe(0);
    }
    await putFaults(rig, [{ id: "lo", kind: "revocation", listen_only: true, selector: { song_ids: [id] } }]);
    expect((await shared(1)).body.code).toBe(1017031);
    await putFaults(rig, [{ id: "all", kind: "revocation", selector: { song_ids: [id] } }]);
    expect((await shared(0)).body.code).toBe(1017030);
    await call(rig.adminUrl, "POST", "/admin/faults/reset");
    expect((await shared(0)).body.code).toBe(0);
    expect((await shared(1)).body.code).toBe(0);
  });

  it("song_fraction: revokes a stable share of the catalog, and lists page past the holes", async () => {
    const full = await chart();
    await putFaults(rig, [{ id: "wave", kind: "revocation", selector: { song_fraction: 0.3 } }]);
    const live = await chart();
    const gone = full.filter((x) => !live.includes(x));
    // Same order, only holes.
    expect(live).toEqual(full.filter((x) => !gone.includes(x)));
    expect(Math.abs(gone.length - 0.3 * full.length)).toBeLessThan(4 * Math.sqrt(full.length * 0.3 * 0.7));
    for (const x of gone) expect(rig.sim.ctx.catalog.isRevoked(x)).toBe(true);
    for (const x of live) expect(rig.sim.ctx.catalog.isRevoked(x)).toBe(false);
    // Stable: the same songs on every read, and on a second application of the same profile.
    expect(await chart()).toEqual(live);
    await putFaults(rig, [{ id: "wave", kind: "revocation", selector: { song_fraction: 0.3 } }]);
    expect(await chart()).toEqual(live);
    // The fault's id seeds the choice: another id picks other songs.
    await putFaults(rig, [{ id: "wave2", kind: "revocation", selector: { song_fraction: 0.3 } }]);
    expect(await chart()).not.toEqual(live);
  });

  it("asks about each song at most once per change, not per request (no catalog-wide pass)", async () => {
    const overlay = rig.engine.revocations;
    const original = overlay.level;
    let asked = 0;
    overlay.level = (id, vendor) => {
      asked++;
      return original(id, vendor);
    };
    const chartLength = rig.sim.ctx.catalog.chart(0, HOT)!.length;
    try {
      await putFaults(rig, [{ id: "wave", kind: "revocation", selector: { song_fraction: 0.5 } }]);
      await chart();
      const first = asked;
      expect(first).toBeGreaterThan(0);
      // The chart is filtered once (one question per song on it), plus a few single-song checks.
      expect(first).toBeLessThanOrEqual(chartLength + 10);
      await chart();
      await chart();
      expect(asked).toBe(first);
    } finally {
      overlay.level = original;
    }
  });

  it("takes effect when its window opens and ends with it", async () => {
    const song = charted(2);
    const id = song.item.song_id;
    const t = clock.now() - clock.startedAt;
    await putFaults(rig, [
      { id: "later", kind: "revocation", selector: { song_ids: [id] }, from: t + 60_000, until: t + 120_000 },
    ]);
    expect((await requestRes(rig.sim, alice, song, 0)).code).toBe(0);
    expect(await chart()).toContain(id);
    clock.advance(60_000);
    expect(await chart()).not.toContain(id);
    expect((await requestRes(rig.sim, alice, song, 0)).code).toBe(1017030);
    clock.advance(60_000);
    expect(await chart()).toContain(id);
    expect((await requestRes(rig.sim, alice, song, 0)).code).toBe(0);
  });

  it("cuts a download in flight of a song it revokes, and blames the fault", async () => {
    const song = charted(3);
    const r = await requestRes(rig.sim, alice, song, 2);
    await putFaults(rig, [{ id: "trickle", kind: "cdn", bandwidth: { bytes_per_sec: 50_000 } }]);
    let applied = false;
    const got = await download(rig.sim, r.id, alice, {
      onChunk: async (total) => {
        if (total >= 10_000 && !applied) {
          applied = true;
          await putFaults(rig, [
            { id: "trickle", kind: "cdn", bandwidth: { bytes_per_sec: 50_000 } },
            { id: "pulled", kind: "revocation", selector: { song_ids: [song.item.song_id] } },
          ]);
        }
      },
    });
    expect(got.error).toBeDefined();
    expect(got.bytes).toBeLessThan(r.size);
    expect(got.chunks.at(-1)!.ms).toBeLessThan(3000);
    expect(
      await eventually(async () =>
        (await faultEvents(rig)).some(
          (e) => e.fault_id === "pulled" && e.effect.cut && e.effect.code === 1017030,
        ),
      ),
    ).toBe(true);
  });
});
