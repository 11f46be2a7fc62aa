import { describe, expect, it } from "vitest";
import { type CallFrame, type CpuProfile, codeOwner, frameKey, summarize } from "./cpuprofile.ts";

// A hand-made profile whose answer is known: (root) -> main -> walk -> walk (recursion) and main -> hot,
// plus (idle) and (garbage collector) leaves. Times come from timeDeltas, which differ per sample on purpose.

const ROOT = "/repo";
const fn = (functionName: string, url = "", lineNumber = 0): CallFrame => ({ functionName, url, lineNumber });

const profile: CpuProfile = {
  startTime: 0,
  endTime: 100,
  nodes: [
    { id: 1, callFrame: fn("(root)"), children: [2, 6, 7] },
    { id: 2, callFrame: fn("main", "file:///repo/scenarios/run/runner.ts", 9), children: [3, 5] },
    { id: 3, callFrame: fn("walk", "file:///repo/simulator/media/hub.ts", 41), children: [4] },
    { id: 4, callFrame: fn("walk", "file:///repo/simulator/media/hub.ts", 41) },
    { id: 5, callFrame: fn("hot", "file:///repo/node_modules/ws/lib/sender.js", 0) },
    { id: 6, callFrame: fn("(idle)") },
    { id: 7, callFrame: fn("(garbage collector)") },
  ],
  // walk(deep) 10 us, walk(shallow) 20, hot 30, idle 1000, gc 40.
  samples: [4, 3, 5, 6, 7],
  timeDeltas: [10_000, 20_000, 30_000, 1_000_000, 40_000],
};

describe("cpuprofile summary", () => {
  const s = summarize(profile, { file: "x.cpuprofile", root: ROOT, top: 10 });
  const self = Object.fromEntries(s.self.map((f) => [f.key, f.ms]));
  const incl = Object.fromEntries(s.inclusive.map((f) => [f.key, f.ms]));

  it("charges each sample's time delta to its leaf, idle kept out of busy time", () => {
    expect(s.wallMs).toBe(1100);
    expect(s.busyMs).toBe(100);
    expect(self).toEqual({
      "walk simulator/media/hub.ts:42": 30,
      "hot node_modules/ws/lib/sender.js:1": 30,
      "(garbage collector)": 40,
    });
    expect(s.self[0]).toMatchObject({ key: "(garbage collector)", share: 0.4 });
  });

  it("counts a recursive function once per sample in inclusive time", () => {
    expect(incl["walk simulator/media/hub.ts:42"]).toBe(30);
    expect(incl["main scenarios/run/runner.ts:10"]).toBe(60);
    expect(incl["(root)"]).toBeUndefined();
  });

  it("names the thread after the code with the most self time, and keeps tables to top n", () => {
    expect(s.role).toBe("simulator");
    const top1 = summarize(profile, { file: "x", root: ROOT, top: 1 });
    expect(top1.self).toHaveLength(1);
    expect(top1.inclusive).toHaveLength(1);
  });

  it("names code inside and outside the project", () => {
    expect(codeOwner("file:///repo/reference/mixer/kernel.ts", ROOT)).toBe("reference");
    expect(codeOwner("file:///repo/node_modules/@faker-js/faker/dist/x.js", ROOT)).toBe(
      "node_modules/@faker-js/faker",
    );
    expect(codeOwner("file:///tmp/ktv-run-1/ktv-worker.mjs", ROOT)).toBe("ktv-worker.mjs");
    expect(codeOwner("node:internal/timers", ROOT)).toBeNull();
    expect(frameKey(fn(""), ROOT)).toBe("(anonymous)");
  });
});
