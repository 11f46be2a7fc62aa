import { describe, expect, it } from "vitest";
import { createChunkCache } from "./chunk-cache.ts";

describe("chunk cache", () => {
  it("evicts the least recently used chunks to stay under its byte budget", () => {
    const c = createChunkCache(300);
    c.set("a", Buffer.alloc(100));
    c.set("b", Buffer.alloc(100));
    c.set("c", Buffer.alloc(100));
    expect(c.get("a")).toBeDefined();
    c.set("d", Buffer.alloc(100));
    expect(c.get("b")).toBeUndefined();
    expect(c.get("a")).toBeDefined();
    expect(c.bytes).toBe(300);
    expect(c.size).toBe(3);
    c.set("huge", Buffer.alloc(301));
    expect(c.get("huge")).toBeUndefined();
    expect(c.hits).toBe(2);
    expect(c.misses).toBe(2);
  });
  it("replacing a key does not double count", () => {
    const c = createChunkCache(1000);
    c.set("a", Buffer.alloc(100));
    c.set("a", Buffer.alloc(200));
    expect(c.bytes).toBe(200);
  });
});
