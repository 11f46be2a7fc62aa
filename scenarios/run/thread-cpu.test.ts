import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import {
  currentTid,
  niceThisThread,
  parseStatCpuMs,
  ThreadCpu,
  threadCpuMs,
  threadNice,
} from "./thread-cpu.ts";

// Per-thread CPU from /proc: parsing, and that it is the calling thread's, not the process's. CPU, not wall
// time: the busy loops run until the process has spent a given CPU time, whatever the machine's load.

const linux = process.platform === "linux";

function spinCpuMs(ms: number): void {
  const start = process.cpuUsage();
  for (;;) {
    const d = process.cpuUsage(start);
    if ((d.user + d.system) / 1000 >= ms) return;
  }
}

describe("thread CPU", () => {
  it("reads utime + stime from a stat line whose command holds spaces and parentheses", () => {
    const line = "4242 (node (x) y) R 1 4242 4242 0 -1 4194560 100 0 0 0 37 5 0 0 20 0 12 0 123 456 789";
    expect(parseStatCpuMs(line)).toBe(420);
    expect(parseStatCpuMs("garbage")).toBeNull();
    expect(parseStatCpuMs("1 (x) R 1 2")).toBeNull();
  });

  it.runIf(linux)("counts this thread's CPU", () => {
    const tid = currentTid();
    expect(tid).toBeGreaterThan(0);
    const cpu = new ThreadCpu(tid);
    spinCpuMs(150);
    // 10 ms ticks; GC helper threads may take a little of the process's CPU.
    expect(cpu.take()!).toBeGreaterThanOrEqual(100);
    expect(threadCpuMs(999_999_999)).toBeNull();
  });

  it.runIf(linux)("tells a busy worker thread's CPU from the idle main thread's", async () => {
    const main = new ThreadCpu();
    const w = new Worker(
      `const { parentPort } = require("node:worker_threads");
       const fs = require("node:fs");
       const link = fs.readlinkSync("/proc/thread-self");
       const start = process.cpuUsage();
       for (;;) { const d = process.cpuUsage(start); if ((d.user + d.system) / 1000 >= 200) break; }
       parentPort.postMessage(Number(link.slice(link.lastIndexOf("/") + 1)));
       setTimeout(() => {}, 5000);`,
      { eval: true },
    );
    const tid = await new Promise<number>((resolve, reject) => {
      w.once("message", resolve);
      w.once("error", reject);
    });
    // Read from this thread while the worker is still alive (it waits: a finished thread's task is gone).
    const workerMs = threadCpuMs(tid);
    await w.terminate();
    expect(tid).not.toBe(currentTid());
    expect(workerMs!).toBeGreaterThanOrEqual(100);
    expect(main.take()!).toBeLessThan(workerMs!);
  });

  it.runIf(linux)("a worker thread lowers its own priority, and only its own", async () => {
    const w = new Worker(
      `const { parentPort } = require("node:worker_threads");
       const fs = require("node:fs");
       const os = require("node:os");
       const link = fs.readlinkSync("/proc/thread-self");
       const tid = Number(link.slice(link.lastIndexOf("/") + 1));
       os.setPriority(tid, 7);
       parentPort.postMessage(tid);
       setTimeout(() => {}, 2000);`,
      { eval: true },
    );
    const tid = await new Promise<number>((resolve, reject) => {
      w.once("message", resolve);
      w.once("error", reject);
    });
    expect(threadNice(tid)).toBe(7);
    expect(threadNice(currentTid())).toBe(0);
    await w.terminate();
  });

  it("refuses a nice value outside 0..19 with a reason", () => {
    expect(niceThisThread(25)).toMatch(/0\.\.19/);
    expect(niceThisThread(-1)).toMatch(/0\.\.19/);
    expect(niceThisThread(1.5)).toMatch(/0\.\.19/);
  });
});
