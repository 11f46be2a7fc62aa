import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DownloadCache } from "./cache.ts";
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
