import { setImmediate as nextTurn } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, session, testSimulator } from "../../test/sim.ts";
import type { Simulator } from "../app.ts";
import { chunkCacheOf } from "./warm.ts";

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
