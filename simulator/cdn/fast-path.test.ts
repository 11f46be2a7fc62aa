import { connect } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { call, session, testSimulator } from "../../test/sim.ts";
import type { Simulator } from "../app.ts";
import type { SongFacts } from "../catalog/types.ts";
import { download, findSong } from "../faults/test-fixtures.ts";
import { chunkCacheOf } from "./warm.ts";
import { WHOLE_FILE_MAX_BYTES } from "./whole-files.ts";

// The CDN's fast path: a rendered file with no cap and no fault plan goes in one write of a view into the whole
// file. Its answers (status, headers, bytes) and its metrics are the piece stream's; caps and fault plans still
// take the piece stream; and a download the socket has not fully taken is still cut by a revocation.

let sim: Simulator;
let alice: Record<string, string>;

beforeAll(async () => {
  sim = await testSimulator();
  alice = await session(sim.url, "fast-alice");
});
afterAll(() => sim.close());
beforeEach(() => {
  sim.ctx.options.cdnConnBytesPerSec = 0;
  sim.ctx.options.cdnGlobalBytesPerSec = 0;
});

async function issue(song: SongFacts, resource_type: number, quality = 0) {
  const r = await call(sim.url, "POST", "/v1/music/resource", {
    headers: alice,
    body: { song_id: song.item.song_id, resource_type, billing_mode: 0, vendor_id: 0, quality },
  });
  expect(r.body.code, JSON.stringify(r.body)).toBe(0);
  return {
    id: r.body.data.resources[0].resource_id as string,
    size: r.body.data.resources[0].size as number,
  };
}

const HEADERS = ["content-type", "content-length", "content-range", "etag", "accept-ranges", "cache-control"];

async function answer(id: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${sim.url}/v1/music/download/${id}`, { headers: { ...alice, ...headers } });
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: HEADERS.map((h) => [h, res.headers.get(h)]), body };
}

const chunkHits = () => chunkCacheOf(sim.ctx)!.hits;
const served = async () =>
  (await sim.ctx.metrics.bytesServed.get()).values.find((v) => v.labels.quality === "normal")?.value ?? 0;

/** The piece stream: a per-connection cap high enough not to slow the test takes it. */
async function viaPieces<T>(f: () => Promise<T>): Promise<T> {
  sim.ctx.options.cdnConnBytesPerSec = 1_000_000_000;
  try {
    return await f();
  } finally {
    sim.ctx.options.cdnConnBytesPerSec = 0;
  }
}

describe("the CDN's fast path", () => {
  it("answers Range, If-Range and whole-file requests as the piece stream does, bytes and metrics", async () => {
    const song = findSong(sim, (f) => f.has_original === 1, 2);
    const r = await issue(song, 2);
    const cold = await answer(r.id); // renders through the piece stream, filling the chunk cache
    const etag = cold.headers.find(([h]) => h === "etag")![1]!;
    const cases: Record<string, string>[] = [
      {},
      { range: "bytes=0-0" },
      { range: "bytes=44-65579" },
      { range: `bytes=70001-${70_000 + 150_000}` },
      { range: "bytes=100000-" },
      { range: `bytes=-${r.size - 3}` },
      { range: `bytes=${r.size - 1}-${r.size + 100}` },
      { range: "bytes=5-9", "if-range": etag },
      { range: "bytes=5-9", "if-range": '"not-it"' },
      { range: "bytes=0-1,5-6" },
    ];
    for (const h of cases) {
      const hits0 = chunkHits();
      const bytes0 = await served();
      const fast = await answer(r.id, h);
      const fastBytes = (await served()) - bytes0;
      // No chunk was read: the whole file answered, not the piece stream.
      expect(chunkHits(), JSON.stringify(h)).toBe(hits0);
      const bytes1 = await served();
      const slow = await viaPieces(() => answer(r.id, h));
      const slowBytes = (await served()) - bytes1;
      expect(chunkHits(), JSON.stringify(h)).toBeGreaterThan(hits0);
      expect(fast.status, JSON.stringify(h)).toBe(slow.status);
      expect(fast.headers, JSON.stringify(h)).toEqual(slow.headers);
      expect(fast.body.equals(slow.body), JSON.stringify(h)).toBe(true);
      expect(fastBytes, JSON.stringify(h)).toBe(slowBytes);
      expect(fastBytes).toBe(fast.body.length);
    }
    expect(cold.body.length).toBe(r.size);
    // A range past the end is refused the same way on both paths.
    const past = await answer(r.id, { range: `bytes=${r.size}-` });
    expect(past.status).toBe(416);
    expect((await sim.ctx.metrics.activeDownloads.get()).values[0]?.value).toBe(0);
  });

  it("leaves capped downloads to the piece stream (global cap too)", async () => {
    const song = findSong(sim, () => true, 3);
    const r = await issue(song, 2);
    await answer(r.id);
    sim.ctx.options.cdnGlobalBytesPerSec = 1_000_000_000;
    const hits0 = chunkHits();
    const capped = await answer(r.id);
    expect(capped.body.length).toBe(r.size);
    expect(chunkHits()).toBeGreaterThan(hits0);
  });

  it("leaves downloads with a fault plan to the piece stream: a reset fault still cuts at its byte", async () => {
    const song = findSong(sim, () => true, 4);
    const r = await issue(song, 2);
    const whole = await answer(r.id);
    const put = (faults: unknown[]) => call(sim.url, "PUT", "/admin/faults", { body: { faults } });
    expect((await put([{ id: "rst", kind: "cdn", reset_after_bytes: 70_001 }])).status).toBe(200);
    try {
      const got = await download(sim, r.id, alice);
      expect(got.bytes).toBe(70_001);
      expect(got.error).toBeDefined();
      expect(got.body.equals(whole.body.subarray(0, 70_001))).toBe(true);
    } finally {
      await put([]);
    }
    const hits0 = chunkHits();
    expect((await answer(r.id)).body.equals(whole.body)).toBe(true);
    expect(chunkHits()).toBe(hits0);
  });

  it("still cuts a download sent in one write when the song is revoked before the socket took it all", async () => {
    // A whole song at quality 1 (10 kHz stereo, 40 kB/s): 8-16 MB, more than the kernel buffers a paused
    // reader on loopback, and no more than the fast path keeps whole.
    const song = findSong(sim, (f) => f.item.duration > 210_000 && f.item.duration < 380_000, 0);
    const r = await issue(song, 0, 1);
    expect(r.size).toBeGreaterThan(8_000_000);
    expect(r.size).toBeLessThan(WHOLE_FILE_MAX_BYTES);
    expect((await download(sim, r.id, alice)).bytes).toBe(r.size); // rendered; the next one is fast
    const port = Number(new URL(sim.url).port);
    const sock = connect(port, "127.0.0.1");
    const head = [`GET /v1/music/download/${r.id} HTTP/1.1`, "host: 127.0.0.1", "connection: close"];
    for (const [k, v] of Object.entries(alice)) head.push(`${k}: ${v}`);
    sock.write(`${head.join("\r\n")}\r\n\r\n`);
    let got = 0;
    let status = "";
    await new Promise<void>((resolve) => {
      sock.once("data", (c: Buffer) => {
        status = c.toString("latin1", 0, 12);
        got += c.length;
        sock.pause(); // a reader that stops: the rest waits in the kernel and in the simulator
        resolve();
      });
    });
    expect(status).toBe("HTTP/1.1 200");
    const hits0 = chunkHits();
    sim.ctx.catalog.revoke(song.item.song_id);
    try {
      await new Promise((res) => setTimeout(res, 300));
      const closed = new Promise<void>((resolve) => sock.once("close", () => resolve()));
      sock.on("error", () => {});
      sock.on("data", (c: Buffer) => {
        got += c.length;
      });
      sock.resume();
      await closed;
    } finally {
      sim.ctx.catalog.restore(song.item.song_id);
    }
    expect(chunkHits()).toBe(hits0); // it was the fast path
    // Cut: the client got the start of the file and then a closed connection, not the whole file.
    expect(got).toBeLessThan(r.size);
  });
});
