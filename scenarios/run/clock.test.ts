import { afterEach, describe, expect, it, vi } from "vitest";
import { deadlineController, epochNow, onAbort, sleepUntil, unboundedController } from "./clock.ts";

// The runner's waits: they end at their time or on abort, whichever is first, and a watcher that stopped
// watching is never called (one shared listener per signal serves thousands of VUs).

afterEach(() => {
  vi.useRealTimers();
});

describe("onAbort", () => {
  it("calls every watcher once on abort, never one that stopped watching, and at once when already aborted", () => {
    const c = unboundedController();
    const calls: number[] = [];
    const stops = Array.from({ length: 1000 }, (_, i) => onAbort(c.signal, () => calls.push(i)));
    for (let i = 0; i < 1000; i += 2) stops[i]!();
    // The same function twice: two watchers, removable one at a time.
    const twice = vi.fn();
    const stopA = onAbort(c.signal, twice);
    onAbort(c.signal, twice);
    stopA();
    c.abort();
    c.abort();
    expect(calls).toEqual(Array.from({ length: 500 }, (_, k) => 2 * k + 1));
    expect(twice).toHaveBeenCalledTimes(1);
    const late = vi.fn();
    onAbort(c.signal, late);
    expect(late).toHaveBeenCalledTimes(1);
  });
});

describe("sleepUntil and deadlineController", () => {
  it("a sleep ends at its time, or at the abort when that comes first", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    const c = unboundedController();
    let early = false;
    let onTime = false;
    void sleepUntil(epochNow() + 10_000, c.signal).then(() => {
      early = true;
    });
    const other = unboundedController();
    void sleepUntil(epochNow() + 500, other.signal).then(() => {
      onTime = true;
    });
    await vi.advanceTimersByTimeAsync(499);
    expect(onTime).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(onTime).toBe(true);
    expect(early).toBe(false);
    c.abort();
    await vi.advanceTimersByTimeAsync(0);
    expect(early).toBe(true);
  });

  it("a deadline aborts with its reason at its time or with its parent, and lets go of the parent after", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    const parent = unboundedController();
    const timed = deadlineController(epochNow() + 1_000, parent.signal, "iteration time limit");
    const never = deadlineController(Number.POSITIVE_INFINITY, parent.signal, "never");
    await vi.advanceTimersByTimeAsync(1_000);
    expect(timed.signal.aborted).toBe(true);
    expect((timed.signal.reason as Error).message).toBe("iteration time limit");
    expect(never.signal.aborted).toBe(false);
    parent.abort();
    expect(never.signal.aborted).toBe(true);
    const afterParent = deadlineController(epochNow() + 5, parent.signal, "x");
    expect(afterParent.signal.aborted).toBe(true);
  });
});
