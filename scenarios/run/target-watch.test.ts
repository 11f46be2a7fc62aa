import { describe, expect, it } from "vitest";
import { TargetWatch } from "./target-watch.ts";

// The runner's outage record from a scripted probe (the real one, against a killed `ktv sim`, is in
// target-outage.test.ts).

function scripted(answers: boolean[]) {
  let i = 0;
  return async () => {
    const ok = answers[Math.min(i++, answers.length - 1)];
    if (!ok) throw new Error("fetch failed", { cause: new Error("connect ECONNREFUSED 127.0.0.1:7400") });
  };
}

async function run(w: TargetWatch, ticks: number) {
  for (let s = 1; s <= ticks; s++) {
    w.tick(s * 1000);
    await w.settle(1000);
  }
}

describe("TargetWatch", () => {
  it("keeps each span without answers, with its first error, and warns when it starts and ends", async () => {
    const lines: string[] = [];
    const w = new TargetWatch(scripted([true, false, false, true, true, false, true]), 0, (t) =>
      lines.push(t),
    );
    await run(w, 7);
    const r = w.report();
    expect(r).toEqual({
      probes: 7,
      failed_probes: 3,
      unreachable_s: 3,
      outages: [
        {
          from_s: 2,
          until_s: 4,
          failed_probes: 2,
          error: "fetch failed: connect ECONNREFUSED 127.0.0.1:7400",
        },
        {
          from_s: 6,
          until_s: 7,
          failed_probes: 1,
          error: "fetch failed: connect ECONNREFUSED 127.0.0.1:7400",
        },
      ],
    });
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/stopped answering at 2 s \(fetch failed: connect ECONNREFUSED/);
    expect(lines[1]).toMatch(/answers again at 4 s, after 2 s without an answer \(2 failed probes\)/);
    expect(w.hadOutage).toBe(true);
  });

  it("counts an outage still open at the end to the last probe, and reports no outage when there was none", async () => {
    const down = new TargetWatch(scripted([true, false]), 0, () => {});
    await run(down, 4);
    expect(down.report().outages[0]).toMatchObject({ from_s: 2, until_s: null, failed_probes: 3 });
    expect(down.report().unreachable_s).toBe(2);
    const up = new TargetWatch(scripted([true]), 0, () => {});
    await run(up, 3);
    expect(up.report()).toEqual({ probes: 3, failed_probes: 0, unreachable_s: 0, outages: [] });
    expect(up.hadOutage).toBe(false);
  });

  it("takes a timeout alone for a stalled runner, three in a row for a hung target", async () => {
    const timeout = () =>
      Object.assign(new Error("The operation was aborted due to timeout"), { name: "TimeoutError" });
    const script = [true, "t", true, "t", "t", "t", "t", true] as const;
    let i = 0;
    const lines: string[] = [];
    const w = new TargetWatch(
      async () => {
        const a = script[Math.min(i++, script.length - 1)];
        if (a === "t") throw timeout();
      },
      0,
      (t) => lines.push(t),
    );
    await run(w, script.length);
    expect(w.report().outages).toEqual([
      { from_s: 4, until_s: 8, failed_probes: 4, error: "The operation was aborted due to timeout" },
    ]);
    expect(w.report().failed_probes).toBe(5);
    expect(lines[0]).toMatch(/stopped answering at 4 s/);
  });

  it("waits at the end for a target that comes back, and gives up on one that does not", async () => {
    const back = new TargetWatch(scripted([false, false, false, true]), 0, () => {});
    back.tick(1000);
    expect(await back.waitUntilBack(5_000, 10)).toBe(true);
    expect(back.report().outages[0]?.until_s).not.toBeNull();
    const gone = new TargetWatch(scripted([false]), 0, () => {});
    gone.tick(1000);
    expect(await gone.waitUntilBack(100, 10)).toBe(false);
  });
});
