import { describe, expect, it } from "vitest";
import { ContentPool } from "../audio/content-pool.ts";
import { type CacheKey, MemoryCache, type PartialResource } from "./cache.ts";

// The memory download cache with a content pool: a download of bytes the worker already holds makes no copy of
// its own (each write is compared with the pool's contents of the announced size), and whatever the writes,
// what it commits is exactly what was written: a difference anywhere, a gap, a restart from byte 0.

const key = (songID: string): CacheKey => ({ vendorID: 0, songID, resourceType: 2, quality: 0 });

function song(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 17 + (i >> 7)) & 0xff;
  return b;
}

/** Writes `bytes` in pieces of `piece` bytes, in order. */
async function writeAll(part: PartialResource, bytes: Uint8Array, piece = 4096): Promise<void> {
  for (let at = 0; at < bytes.length; at += piece) await part.write(bytes.slice(at, at + piece), at);
}

const ownBytes = (p: PartialResource) => (p as unknown as { ownBytes: number }).ownBytes;

async function download(cache: MemoryCache, id: string, bytes: Uint8Array, announce = bytes.length) {
  const part = await cache.begin(key(id), announce);
  await writeAll(part, bytes);
  const held = ownBytes(part);
  await cache.commit(key(id), part, { etag: '"e"', size: await part.finish() });
  return { held, bytes: cache.locate(key(id))!.bytes };
}

describe("MemoryCache with a content pool", () => {
  it("the second VU's download of the same bytes holds no copy of its own, and ends with the pool's", async () => {
    const pool = new ContentPool();
    const a = song(100_000, 1);
    const first = await download(new MemoryCache(pool), "s", a.slice());
    expect(first.held).toBe(a.length);
    const caches = [new MemoryCache(pool), new MemoryCache(pool), new MemoryCache(pool)];
    for (const c of caches) {
      const again = await download(c, "s", a.slice());
      expect(again.held).toBe(0);
      expect(again.bytes).toBe(first.bytes);
    }
    expect(pool.stats).toEqual({ contents: 1, bytes: a.length });
  });

  it("a difference anywhere (first byte, middle, last byte) gives its own bytes, exactly those written", async () => {
    const pool = new ContentPool();
    const a = song(50_000, 2);
    await download(new MemoryCache(pool), "s", a.slice());
    for (const at of [0, 4095, 4096, 25_000, a.length - 1]) {
      const b = a.slice();
      b[at] = b[at]! ^ 0x5a;
      const got = await download(new MemoryCache(pool), `s${at}`, b);
      expect(got.held).toBeGreaterThan(0);
      expect(Buffer.from(got.bytes).equals(Buffer.from(b))).toBe(true);
    }
    // Each different file is its own content; the original is still the same bytes.
    expect(pool.stats.contents).toBe(6);
  });

  it("of two held contents of one size, it follows whichever keeps matching", async () => {
    const pool = new ContentPool();
    const a = song(30_000, 3);
    const b = a.slice();
    b.fill(7, 20_000);
    await download(new MemoryCache(pool), "a", a.slice());
    await download(new MemoryCache(pool), "b", b.slice());
    const again = await download(new MemoryCache(pool), "b2", b.slice());
    expect(again.held).toBe(0);
    expect(Buffer.from(again.bytes).equals(Buffer.from(b))).toBe(true);
  });

  it("a gap, a shorter file, an unannounced size and a restart from byte 0 all keep the bytes written", async () => {
    const pool = new ContentPool();
    const a = song(40_000, 4);
    await download(new MemoryCache(pool), "a", a.slice());

    // A write past what was written (a gap) stops the matching: the gap reads as zeros, as before.
    const c1 = new MemoryCache(pool);
    const gap = await c1.begin(key("gap"), a.length);
    await gap.write(a.slice(0, 1000), 0);
    expect(ownBytes(gap)).toBe(0);
    await gap.write(a.slice(2000, 3000), 2000);
    expect(ownBytes(gap)).toBeGreaterThan(0);
    await c1.commit(key("gap"), gap, { etag: '"e"', size: await gap.finish() });
    const want = new Uint8Array(3000);
    want.set(a.subarray(0, 1000), 0);
    want.set(a.subarray(2000, 3000), 2000);
    expect(Buffer.from(c1.locate(key("gap"))!.bytes).equals(Buffer.from(want))).toBe(true);

    // Fewer bytes than announced: the prefix, not the whole candidate.
    const short = await download(new MemoryCache(pool), "short", a.slice(0, 12_345), a.length);
    expect(Buffer.from(short.bytes).equals(Buffer.from(a.subarray(0, 12_345)))).toBe(true);

    // No size announced: nothing to compare with, its own bytes as before.
    const unannounced = new MemoryCache(pool);
    const u = await unannounced.begin(key("u"));
    await writeAll(u, a.slice());
    expect(ownBytes(u)).toBeGreaterThan(0);

    // Diverged, then restarted from byte 0 with the right bytes: matching again, no copy.
    const c2 = new MemoryCache(pool);
    const r = await c2.begin(key("r"), a.length);
    const wrong = a.slice(0, 5000);
    wrong[10] = wrong[10]! ^ 1;
    await r.write(wrong, 0);
    expect(ownBytes(r)).toBeGreaterThan(0);
    await r.truncate();
    await writeAll(r, a.slice());
    expect(ownBytes(r)).toBe(0);
    await c2.commit(key("r"), r, { etag: '"e"', size: await r.finish() });
    expect(Buffer.from(c2.locate(key("r"))!.bytes).equals(Buffer.from(a))).toBe(true);
  });

  it("rewriting bytes already written (a resume from a durable offset) keeps matching", async () => {
    const pool = new ContentPool();
    const a = song(20_000, 5);
    await download(new MemoryCache(pool), "a", a.slice());
    const c = new MemoryCache(pool);
    const p = await c.begin(key("x"), a.length);
    await p.write(a.slice(0, 8000), 0);
    await p.write(a.slice(6000, 20_000), 6000);
    expect(ownBytes(p)).toBe(0);
    await c.commit(key("x"), p, { etag: '"e"', size: await p.finish() });
    expect(Buffer.from(c.locate(key("x"))!.bytes).equals(Buffer.from(a))).toBe(true);
  });
});
