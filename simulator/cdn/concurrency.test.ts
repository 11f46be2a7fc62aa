import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, session, testSimulator } from "../../test/sim.ts";
import type { Simulator } from "../app.ts";

// Many concurrent sq downloads must cost memory per connection in kilobytes, not per file in megabytes: the
// body is rendered piece by piece under backpressure, never buffered whole.

const DOWNLOADS = 200;
let sim: Simulator;

beforeAll(async () => {
  sim = await testSimulator({ cdnConnBytesPerSec: 100_000 });
});
afterAll(() => sim.close());

describe("concurrent downloads", () => {
  it(`${DOWNLOADS} slow sq downloads at once hold a bounded amount of memory`, async () => {
    const headers = await session(sim.url, "crowd");
    const ids: { id: string; size: number }[] = [];
    // 20 songs, 10 listeners each: like rooms where members fetch the same song (and share rendered chunks).
    for (let i = 0; ids.length < DOWNLOADS && i < sim.ctx.catalog.size; i++) {
      const f = sim.ctx.catalog.at(i);
      if (f.item.vendor_id !== 0 || f.item.copyright.recording !== 1) continue;
      for (let k = 0; k < DOWNLOADS / 20; k++) {
        const r = await call(sim.url, "POST", "/v1/music/resource", {
          headers,
          body: { song_id: f.item.song_id, resource_type: 0, billing_mode: 0, vendor_id: 0, quality: 2 },
        });
        expect(r.body.code).toBe(0);
        ids.push({ id: r.body.data.resources[0].resource_id, size: r.body.data.resources[0].size });
      }
    }
    expect(ids.length).toBe(DOWNLOADS);
    const totalFileBytes = ids.reduce((s, r) => s + r.size, 0);
    // Whole files would be gigabytes.
    expect(totalFileBytes).toBeGreaterThan(5e9);

    const base = process.memoryUsage();
    const ac = new AbortController();
    const readers = await Promise.all(
      ids.map(async ({ id }) => {
        const res = await fetch(`${sim.url}/v1/music/download/${id}`, { headers, signal: ac.signal });
        expect(res.status).toBe(200);
        const reader = res.body!.getReader();
        const { value } = await reader.read();
        expect(value?.length).toBeGreaterThan(0);
        return reader;
      }),
    );
    const active = (await sim.ctx.metrics.activeDownloads.get()).values[0]?.value;
    expect(active).toBe(DOWNLOADS);
    // Let every connection stream for a while at its cap.
    await new Promise((r) => setTimeout(r, 500));
    const now = process.memoryUsage();
    const grown = now.rss - base.rss;
    // Chunk cache (32 MiB max) + a few pieces per connection + both ends' sockets and streams: a few hundred
    // MB at most in this process (RSS is noisy), against ~8 GB if each connection held its file.
    expect(grown).toBeLessThan(400 * 1024 * 1024);
    ac.abort();
    await Promise.allSettled(readers.map((r) => r.cancel()));
    for (let i = 0; i < 100 && (await sim.ctx.metrics.activeDownloads.get()).values[0]?.value !== 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect((await sim.ctx.metrics.activeDownloads.get()).values[0]?.value).toBe(0);
  });
});
