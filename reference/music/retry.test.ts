import { describe, expect, it } from "vitest";
import { abortableSleep, backoffDelay, parseRetryAfter, retryPolicy } from "./retry.ts";

describe("backoffDelay", () => {
  const p = retryPolicy({ baseDelayMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 5000, random: () => 0.75 });

  it("is full jitter over an exponential ceiling, capped", () => {
    expect([0, 1, 2, 3, 4, 10].map((a) => backoffDelay(a, p))).toEqual([75, 150, 300, 600, 750, 750]);
  });

  it("uses Retry-After when given, and gives up (null) beyond the policy's limit", () => {
    expect(backoffDelay(3, p, 1200)).toBe(1200);
    expect(backoffDelay(0, p, 5001)).toBeNull();
  });

  it("never exceeds the ceiling even for huge attempt numbers", () => {
    const q = retryPolicy({ random: () => 0.9999999, maxDelayMs: 2000 });
    expect(backoffDelay(1e6, q)).toBeLessThan(2000);
  });
});

describe("parseRetryAfter", () => {
  it("reads delay-seconds and HTTP-dates", () => {
    expect(parseRetryAfter("3")).toBe(3000);
    expect(parseRetryAfter(" 0 ")).toBe(0);
    const now = Date.parse("Wed, 21 Oct 2015 07:28:00 GMT");
    expect(parseRetryAfter("Wed, 21 Oct 2015 07:28:05 GMT", now)).toBe(5000);
    expect(parseRetryAfter("Wed, 21 Oct 2015 07:27:00 GMT", now)).toBe(0);
  });

  it("ignores what it cannot read", () => {
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter("soon")).toBeUndefined();
    expect(parseRetryAfter("-1")).toBeUndefined();
  });
});

describe("retryPolicy", () => {
  it("refuses unbounded or nonsensical settings", () => {
    expect(() => retryPolicy({ maxAttempts: 0 })).toThrow(RangeError);
    expect(() => retryPolicy({ maxAttempts: 1000 })).toThrow(RangeError);
    expect(() => retryPolicy({ maxDelayMs: -1 })).toThrow(RangeError);
    expect(() => retryPolicy({ baseDelayMs: Number.NaN })).toThrow(RangeError);
  });
});

describe("abortableSleep", () => {
  it("rejects with the signal's reason as soon as it aborts", async () => {
    const ac = new AbortController();
    const t0 = performance.now();
    const p = abortableSleep(10_000, ac.signal);
    setTimeout(() => ac.abort(new Error("stop")), 10);
    await expect(p).rejects.toThrow("stop");
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});
