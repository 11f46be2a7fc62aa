import { createHash } from "node:crypto";
import { setImmediate as nextTurn } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, session, testSimulator } from "../../test/sim.ts";
import type { Simulator } from "../app.ts";
import { chunkCacheOf, WARM_BYTES, WARM_SONGS, warmedAtStart, warmRenderer } from "./warm.ts";

// Issuing a resource renders its file's first chunk into the CDN's cache (after the answer): the download's
// first piece is then a cache hit instead of a song's first composition and rendering.

let sim: Simulator;
let headers: Record<string, string>;

beforeAll(async () => {
  sim = await testSimulator();
  headers = await session(sim.url, "warm");
});
afterAll(() => sim.close());

/** Event-loop turns until `ok()`, at most `max` (the warm-up runs a turn or two after the answer). */
async function turnsUntil(ok: () => boolean, max = 1000): Promise<boolean> {
  for (let i = 0; i < max && !ok(); i++) await nextTurn();
  return ok();
}

describe("CDN warm-up at issue time", () => {
  it("requestResource leaves the file's first chunk in the cache; the download's first piece hits it", async () => {
    const cache = chunkCacheOf(sim.ctx)!;
    expect(cache).toBeDefined();
    let songID = "";
    for (let i = 0; i < sim.ctx.catalog.size && !songID; i++) {
      const f = sim.ctx.catalog.at(i);
      if (
        f.item.vendor_id === 0 &&
        f.has_accompaniment &&
        f.item.has_clip === 1 &&
        !sim.ctx.catalog.isRevoked(f.item.song_id)
      )
        songID = f.item.song_id;
    }
    const before = cache.size;
    const r = await call(sim.url, "POST", "/v1/music/resource", {
      headers,
      body: { song_id: songID, resource_type: 2, billing_mode: 0, vendor_id: 0, quality: 0 },
    });
    expect(r.body.code, JSON.stringify(r.body)).toBe(0);
    expect(await turnsUntil(() => cache.size === before + 1)).toBe(true);
    const hits = cache.hits;
    const res = await fetch(`${sim.url}/v1/music/download/${r.body.data.resources[0].resource_id}`, {
      headers: { ...headers, range: "bytes=0-99" },
    });
    expect(res.status).toBe(206);
    expect((await res.arrayBuffer()).byteLength).toBe(100);
    expect(cache.hits).toBe(hits + 1);
    expect(cache.size).toBe(before + 1);
    // /metrics says the same, at scrape time.
    const text = await (await fetch(`${sim.url}/metrics`)).text();
    const gauge = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1]);
    expect(gauge("ktv_cdn_chunk_cache_hits")).toBe(cache.hits);
    expect(gauge("ktv_cdn_chunk_cache_misses")).toBe(cache.misses);
    expect(gauge("ktv_cdn_chunk_cache_bytes")).toBe(cache.bytes);
    expect(cache.bytes).toBeGreaterThan(0);
  });
});

/** A clip-carrying accompaniment of vendor 0 that is not revoked. */
function clipSong(s: Simulator): string {
  for (let i = 0; i < s.ctx.catalog.size; i++) {
    const f = s.ctx.catalog.at(i);
    if (
      f.item.vendor_id === 0 &&
      f.has_accompaniment &&
      f.item.has_clip === 1 &&
      !s.ctx.catalog.isRevoked(f.item.song_id)
    )
      return f.item.song_id;
  }
  throw new Error("no clip song in the catalog");
}

/** requestResource (type `type`, normal quality) for `songID` on `s` as `user`, then the whole download: its answer and the file's sha256. */
async function requestAndDownload(s: Simulator, user: string, songID: string, type: number) {
  const h = await session(s.url, user);
  const r = await call(s.url, "POST", "/v1/music/resource", {
    headers: h,
    body: { song_id: songID, resource_type: type, billing_mode: 0, vendor_id: 0, quality: 0 },
  });
  expect(r.body.code, JSON.stringify(r.body)).toBe(0);
  const res = await fetch(`${s.url}/v1/music/download/${r.body.data.resources[0].resource_id}`, {
    headers: h,
  });
  expect(res.status).toBe(200);
  const bytes = Buffer.from(await res.arrayBuffer());
  return {
    answer: r.body,
    etag: res.headers.get("etag"),
    sha: createHash("sha256").update(bytes).digest("hex"),
  };
}

describe("warm-up at start (SimOptions.warmUp)", () => {
  it("renders every tier, single and dual track, of the first songs and keeps none of it", () => {
    const before = chunkCacheOf(sim.ctx)!.size;
    expect(warmRenderer(sim.ctx.catalog)).toBe(WARM_SONGS * 3 * 2 * WARM_BYTES);
    // Thrown away: the CDN's cache (what downloads are served from) did not change.
    expect(chunkCacheOf(sim.ctx)!.size).toBe(before);
  });

  it("serves the same answers and the same bytes as a simulator without it, and starts with an empty cache", async () => {
    const warm = await testSimulator({ warmUp: true });
    try {
      // It ran before the server listened; the simulator without it did not.
      expect(warmedAtStart(warm.ctx)).toBe(WARM_SONGS * 3 * 2 * WARM_BYTES);
      expect(warmedAtStart(sim.ctx)).toBe(0);
      const cache = chunkCacheOf(warm.ctx)!;
      expect(cache.size).toBe(0);
      expect(cache.misses + cache.hits).toBe(0);
      const songID = clipSong(warm);
      expect(clipSong(sim)).toBe(songID);
      // A clip, and the whole accompaniment.
      for (const type of [2, 1]) {
        const a = await requestAndDownload(warm, `warm${type}`, songID, type);
        const b = await requestAndDownload(sim, `cold${type}`, songID, type);
        expect(a.sha).toBe(b.sha);
        expect(a.etag).toBe(b.etag);
        // The envelopes differ only in the per-simulator ids and tokens (request, resource, share token).
        const shape = (x: typeof a.answer) =>
          JSON.stringify(x, (k, v) =>
            ["request_id", "resource_id", "share_token", "krc_token"].includes(k) ? "-" : v,
          );
        expect(shape(a.answer)).toBe(shape(b.answer));
      }
      // An error envelope (nothing shared in this room yet): the same but for its request id.
      const h = await session(warm.url, "warm-err");
      const body = { song_id: songID, resource_type: 2, vendor_id: 0, room_id: "nobody-here" };
      const e1 = await call(warm.url, "POST", "/v1/music/shared-resource", { headers: h, body });
      const e2 = await call(sim.url, "POST", "/v1/music/shared-resource", {
        headers: await session(sim.url, "cold-err"),
        body,
      });
      expect(e1.status).toBe(e2.status);
      expect({ ...e1.body, request_id: "-" }).toEqual({ ...e2.body, request_id: "-" });
      expect(e1.body.code).not.toBe(0);
    } finally {
      await warm.close();
    }
  });
});
