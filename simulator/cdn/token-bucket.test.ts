import { describe, expect, it } from "vitest";
import { createTokenBucket, pieceBytes, sleep } from "./token-bucket.ts";

describe("token bucket", () => {
  it("is free when unlimited", () => {
    const b = createTokenBucket(0);
    expect(b.reserve(1e9)).toBe(0);
  });

  it("makes a sender wait size/rate once the burst is spent", () => {
    let t = 0;
    const b = createTokenBucket(10_000, () => t);
    // Burst is 1/20 s = 500 bytes.
    expect(b.reserve(500)).toBe(0);
    expect(b.reserve(1000)).toBeCloseTo(100);
    // Reservations queue: the next 1000 bytes wait behind the first.
    expect(b.reserve(1000)).toBeCloseTo(200);
    t = 200;
    expect(b.reserve(0)).toBeCloseTo(0);
  });

  it("holds a long transfer to the rate", () => {
    let t = 0;
    const b = createTokenBucket(50_000, () => t);
    let sent = 0;
    while (sent < 500_000) {
      t += b.reserve(4096);
      sent += 4096;
    }
    // 500 kB at 50 kB/s: 10 s minus at most the burst.
    expect(t).toBeGreaterThan(9_900);
    expect(t).toBeLessThan(10_300);
  });

  it("sizes pieces to ~1/20 s of the tightest cap", () => {
    expect(pieceBytes(0, 0)).toBe(65536);
    expect(pieceBytes(200_000, 0)).toBe(10_000);
    expect(pieceBytes(200_000, 100_000)).toBe(5_000);
    expect(pieceBytes(1000)).toBe(1024);
  });

  it("sleep is cut short by an abort", async () => {
    const ac = new AbortController();
    const t0 = performance.now();
    const p = sleep(10_000, ac.signal);
    ac.abort(new Error("gone"));
    await expect(p).rejects.toThrow("gone");
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});
