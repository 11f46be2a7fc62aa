import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DownloadCache, FREE_SPACE_FRESH_MS, openCacheIndexes } from "./cache.ts";
import { tempDir } from "./test-fixtures.ts";

let t: ReturnType<typeof tempDir>;
afterEach(() => t.remove());

const KEY = { vendorID: 0, songID: "10601723", resourceType: 1, quality: 2 };

describe("DownloadCache", () => {
  it("commits atomically and looks files up by (vendor, song, type, quality)", async () => {
    t = tempDir();
    const c = new DownloadCache(t.dir);
    expect(await c.lookup(KEY)).toBeNull();
    const part = await c.tempPath(KEY);
    writeFileSync(part, "x".repeat(100));
    const meta = await c.commit(KEY, part, { etag: '"e"', size: 100 });
    expect(meta).toMatchObject({ ...KEY, etag: '"e"', size: 100 });
    expect(await c.lookup(KEY)).toMatchObject({ etag: '"e"', size: 100 });
    expect(await c.lookup({ ...KEY, quality: 1 })).toBeNull();
    expect(t.files()).toEqual(["0_1_2_10601723.json", "0_1_2_10601723.wav"]);
  });

  it("a file whose size no longer matches its metadata is not a cache hit", async () => {
    t = tempDir();
    const c = new DownloadCache(t.dir);
    const part = await c.tempPath(KEY);
    writeFileSync(part, "x".repeat(100));
    await c.commit(KEY, part, { etag: '"e"', size: 100 });
    writeFileSync(c.filePath(KEY), "short");
    expect(await c.lookup(KEY)).toBeNull();
  });

  it("odd song ids are hashed into a safe file name", () => {
    t = tempDir();
    const c = new DownloadCache(t.dir);
    const path = c.filePath({ ...KEY, songID: "../../etc/passwd" });
    expect(path.startsWith(t.dir)).toBe(true);
    expect(path).toMatch(/0_1_2_h[0-9a-f]{32}\.wav$/);
  });

  it("size and clear touch only this cache's files, and spare the running downloads' part files", async () => {
    t = tempDir();
    const c = new DownloadCache(t.dir);
    writeFileSync(join(t.dir, "notes.txt"), "someone else's file");
    const done = await c.tempPath(KEY);
    writeFileSync(done, "x".repeat(100));
    await c.commit(KEY, done, { etag: '"e"', size: 100 });
    const running = await c.tempPath({ ...KEY, songID: "2" });
    writeFileSync(running, "y".repeat(10));
    const size = await c.size();
    expect(size).toBeGreaterThan(110);
    expect(size).toBeLessThan(110 + 300); // + the metadata, not notes.txt
    await c.clear(new Set([running]));
    expect(t.files()).toEqual([running.slice(t.dir.length + 1), "notes.txt"].sort());
    expect(await c.size()).toBe(10);
  });
});

describe("DownloadCache's directory index", () => {
  /** A finished file as another process would leave it: the WAV and its metadata sidecar. */
  function writeBehindItsBack(c: DownloadCache, size = 100): void {
    writeFileSync(c.filePath(KEY), "x".repeat(size));
    writeFileSync(c.filePath(KEY).replace(/\.wav$/, ".json"), JSON.stringify({ ...KEY, etag: '"e"', size }));
  }

  it("answers a miss from the directory's listing, read when the cache was made, not from the disk", async () => {
    t = tempDir();
    const c = new DownloadCache(t.dir);
    expect(await c.lookup(KEY)).toBeNull();
    // A file that appeared after the listing was read: this cache does not look at the disk for it...
    writeBehindItsBack(c);
    expect(await c.lookup(KEY)).toBeNull();
    // ...a cache made now reads the directory again and finds it (and, listed, it is read and checked on disk).
    const again = new DownloadCache(t.dir);
    expect(await again.lookup(KEY)).toMatchObject({ etag: '"e"', size: 100 });
    c.close();
    again.close();
  });

  it("a listed file is still checked on disk: removed or changed behind its back, it is a miss", async () => {
    t = tempDir();
    const c = new DownloadCache(t.dir);
    const part = await c.tempPath(KEY);
    writeFileSync(part, "x".repeat(100));
    await c.commit(KEY, part, { etag: '"e"', size: 100 });
    writeFileSync(c.filePath(KEY), "short");
    expect(await c.lookup(KEY)).toBeNull();
    c.close();
  });

  it("a commit by one cache is a hit for another open on the same directory", async () => {
    t = tempDir();
    const a = new DownloadCache(t.dir);
    const b = new DownloadCache(t.dir);
    expect(await b.lookup(KEY)).toBeNull();
    const part = await a.tempPath(KEY);
    writeFileSync(part, "x".repeat(100));
    await a.commit(KEY, part, { etag: '"e"', size: 100 });
    expect(await b.lookup(KEY)).toMatchObject({ etag: '"e"', size: 100 });
    await b.clear();
    expect(await a.lookup(KEY)).toBeNull();
    a.close();
    b.close();
  });

  it("closing the last cache of a directory lets its index go", () => {
    t = tempDir();
    const before = openCacheIndexes();
    const a = new DownloadCache(t.dir);
    const b = new DownloadCache(join(t.dir, "."));
    expect(openCacheIndexes()).toBe(before + 1);
    a.close();
    a.close();
    expect(openCacheIndexes()).toBe(before + 1);
    b.close();
    expect(openCacheIndexes()).toBe(before);
  });

  it("measures free space at most once per freshness window, and again after a commit", async () => {
    t = tempDir();
    let now = 0;
    const c = new DownloadCache(t.dir, () => now);
    const first = c.freeBytes();
    expect(c.freeBytes()).toBe(first);
    expect(await first).toBeGreaterThan(0);
    now += FREE_SPACE_FRESH_MS + 1;
    const later = c.freeBytes();
    expect(later).not.toBe(first);
    const part = await c.tempPath(KEY);
    writeFileSync(part, "x".repeat(100));
    await c.commit(KEY, part, { etag: '"e"', size: 100 });
    expect(c.freeBytes()).not.toBe(later);
    c.close();
  });

  it("a download begins even when its directory was removed after the cache made it", async () => {
    t = tempDir();
    const c = new DownloadCache(join(t.dir, "sub"));
    await (await c.begin(KEY)).discard();
    rmSync(join(t.dir, "sub"), { recursive: true });
    const part = await c.begin(KEY);
    await part.write(new Uint8Array([1, 2, 3]), 0);
    expect(await part.finish()).toBe(3);
    c.close();
  });
});
