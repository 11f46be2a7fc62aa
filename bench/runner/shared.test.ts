import { afterEach, describe, expect, it } from "vitest";
import { closeShared, shared } from "./shared.ts";

// Servers shared across cases: started once on first use, stopped once when the run ends, a failed start not
// kept (the next case tries again), a failed stop reported without keeping the others running.

afterEach(() => closeShared());

describe("shared servers", () => {
  it("starts a server once for every case that asks, and stops it once at the end of the run", async () => {
    let starts = 0;
    const stopped: number[] = [];
    const start = async () => ++starts;
    const a = await shared("sim", start, (v) => {
      stopped.push(v);
    });
    const b = await shared("sim", start, (v) => {
      stopped.push(v);
    });
    expect([a, b, starts]).toEqual([1, 1, 1]);
    await closeShared();
    expect(stopped).toEqual([1]);
    // A new run starts it again.
    expect(await shared("sim", start, () => {})).toBe(2);
  });

  it("does not keep a start that failed: the next case to ask starts it again", async () => {
    let n = 0;
    const start = async () => {
      if (++n === 1) throw new Error("port in use");
      return n;
    };
    await expect(shared("x", start, () => {})).rejects.toThrow("port in use");
    expect(await shared("x", start, () => {})).toBe(2);
  });

  it("stops the others when one fails to stop, and says which", async () => {
    const lines: string[] = [];
    let stoppedB = false;
    await shared(
      "a",
      async () => 1,
      () => {
        throw new Error("stuck");
      },
    );
    await shared(
      "b",
      async () => 2,
      () => {
        stoppedB = true;
      },
    );
    await closeShared((l) => lines.push(l));
    expect(stoppedB).toBe(true);
    expect(lines).toEqual(["  (shared a: clean-up failed: stuck)"]);
  });
});
