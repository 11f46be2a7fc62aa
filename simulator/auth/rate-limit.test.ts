import { describe, expect, it } from "vitest";
import { BURST_SECONDS, createRateLimits, createRequestBucket } from "./rate-limit.ts";

describe("createRequestBucket", () => {
  it("starts full with a burst of 2 s worth, then refuses with the wait until the next token", () => {
    const b = createRequestBucket(5, 0);
    expect(b.burst).toBe(5 * BURST_SECONDS);
    for (let i = 0; i < 10; i++) expect(b.take(0)).toBe(0);
    expect(b.take(0)).toBe(200);
    expect(b.take(100)).toBe(100); // half a token refilled, nothing taken by the refusal
    expect(b.take(200)).toBe(0);
    expect(b.take(200)).toBe(200);
  });

  it("holds the long-run rate: over 10 s at 5 rps a greedy client gets 10 + 50 requests", () => {
    const b = createRequestBucket(5, 0);
    let admitted = 0;
    for (let t = 0; t <= 10_000; t += 10) {
      while (b.take(t) === 0) admitted++;
    }
    expect(admitted).toBe(10 + 50);
  });

  it("never stores more than the burst, however long the pause", () => {
    const b = createRequestBucket(2, 0);
    for (let i = 0; i < 4; i++) b.take(0);
    let n = 0;
    while (b.take(3_600_000) === 0) n++;
    expect(n).toBe(4);
  });

  it("a fractional rate still admits one request (burst at least 1) and waits whole ms", () => {
    const b = createRequestBucket(0.25, 0);
    expect(b.burst).toBe(1);
    expect(b.take(0)).toBe(0);
    expect(b.take(0)).toBe(4000);
    expect(b.take(3999)).toBe(1);
    expect(b.take(4000)).toBe(0);
  });

  it("a clock set backwards refills nothing", () => {
    const b = createRequestBucket(1, 10_000);
    b.take(10_000);
    b.take(10_000);
    expect(b.take(5_000)).toBeGreaterThan(0);
    expect(b.take(10_999)).toBeGreaterThan(0);
    expect(b.take(11_000)).toBe(0);
  });
});

describe("createRateLimits", () => {
  it("keeps one bucket per app and none for unlimited apps", () => {
    const l = createRateLimits();
    expect(l.admit(1, 1, 0)).toBe(0);
    expect(l.admit(1, 1, 0)).toBe(0);
    expect(l.admit(1, 1, 0)).toBe(1000);
    expect(l.admit(2, 1, 0)).toBe(0);
    for (const rps of [undefined, 0]) {
      for (let i = 0; i < 1000; i++) expect(l.admit(3, rps, 0)).toBe(0);
    }
  });

  it("starts a fresh bucket when the app's rate changes, and reset() refills all", () => {
    const l = createRateLimits();
    l.admit(1, 1, 0);
    l.admit(1, 1, 0);
    expect(l.admit(1, 1, 0)).toBeGreaterThan(0);
    expect(l.admit(1, 2, 0)).toBe(0);
    for (let i = 0; i < 3; i++) l.admit(1, 2, 0);
    expect(l.admit(1, 2, 0)).toBeGreaterThan(0);
    l.reset();
    expect(l.admit(1, 2, 0)).toBe(0);
  });
});
