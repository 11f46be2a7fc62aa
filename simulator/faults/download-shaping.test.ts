import { describe, expect, it } from "vitest";
import { DownloadShaping, holdFor } from "./download-shaping.ts";
import { type DownloadPlan, NO_PLAN } from "./seam.ts";

// The plan a download carries out: where the next event falls, each stall once, the reset point, and the
// release when the fault goes. Waits must not leave timers or listeners behind.

const plan = (
  over: Partial<DownloadPlan>,
  release = new AbortController(),
): [DownloadPlan, AbortController] => [{ ...NO_PLAN, signal: release.signal, ...over }, release];
const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;

describe("DownloadShaping", () => {
  it("limits pieces to the next stall or reset and takes each stall once", () => {
    const [p] = plan({
      stalls: [
        { afterBytes: 100, ms: 5 },
        { afterBytes: 100, ms: 7 },
        { afterBytes: 300, ms: 11 },
      ],
      resetAfterBytes: 250,
    });
    const s = new DownloadShaping(p);
    expect(s.room(0)).toBe(100);
    expect(s.takeStall(0)).toBe(0);
    expect(s.takeStall(100)).toBe(12);
    expect(s.takeStall(100)).toBe(0);
    expect(s.room(100)).toBe(150);
    expect(s.resetDue(249)).toBe(false);
    expect(s.resetDue(250)).toBe(true);
  });

  it("is spent once the fault goes: no stalls, no reset, caps lifted", () => {
    const bucket = { rate: 1000, reserve: () => 5 };
    const [p, release] = plan({
      stalls: [{ afterBytes: 10, ms: 50 }],
      resetAfterBytes: 20,
      buckets: [bucket],
    });
    const s = new DownloadShaping(p);
    expect(s.buckets()).toEqual([bucket]);
    release.abort();
    expect(s.takeStall(10)).toBe(0);
    expect(s.resetDue(30)).toBe(false);
    expect(s.room(0)).toBe(Number.POSITIVE_INFINITY);
    expect(s.buckets()).toEqual([]);
  });
});

describe("holdFor", () => {
  it("waits the time", async () => {
    const t0 = performance.now();
    await holdFor(60, new AbortController().signal, new AbortController().signal);
    expect(performance.now() - t0).toBeGreaterThan(55);
  });

  it("resolves at once when released and rejects when stopped, clearing its timer", async () => {
    const before = timers();
    const release = new AbortController();
    const t0 = performance.now();
    const held = holdFor(60_000, new AbortController().signal, release.signal);
    expect(timers()).toBe(before + 1);
    release.abort();
    await held;
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(timers()).toBe(before);

    const stop = new AbortController();
    const stopped = holdFor(60_000, stop.signal, new AbortController().signal);
    stop.abort(new Error("client gone"));
    await expect(stopped).rejects.toThrow("client gone");
    expect(timers()).toBe(before);
  });

  it("answers at once when a signal already fired", async () => {
    const fired = new AbortController();
    fired.abort(new Error("gone"));
    await expect(holdFor(60_000, fired.signal, new AbortController().signal)).rejects.toThrow("gone");
    await holdFor(60_000, new AbortController().signal, fired.signal);
  });
});
