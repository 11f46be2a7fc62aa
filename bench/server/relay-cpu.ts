import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { Driver } from "../cases/media-relay.ts";
import type { Started } from "./servers.ts";
import { startTreeRelay } from "./tree-relay.ts";

// CPU of the simulator per relayed frame, at a fixed load, for one or more checkouts side by side (a before/after
// of the relay in one session). Each tree's simulator is its own process with its own load process
// (relay-load.ts of this tree: the protocol is the same); rounds are interleaved tree by tree and the figure is
// the median over rounds of the simulator process's CPU (utime + stime from /proc) during a probe window divided
// by the frames its players received in it. Unlike media-relay-vs-ws this does not look for an edge: the load is
// fixed and below saturation, so what changes is only the CPU each frame costs.
//
//   npx tsx bench/server/relay-cpu.ts --tree /work/main --tree . [--rooms 60] [--seconds 4] [--rounds 5] [--opus] [--bare]
//     [--cpu-prof DIR]   (node's profiler on each simulator, written when it stops)
//     [--pin]            (relays on CPU 0 and loads on CPU 1 with taskset, as the media relay race runs them: then
//                         the p99 lag per round and its median per tree are the race's pass test at this load)
// Linux only (/proc). Load goes to 127.0.0.1 only.

const { values } = parseArgs({
  options: {
    tree: { type: "string", multiple: true },
    rooms: { type: "string", default: "60" },
    seconds: { type: "string", default: "4" },
    rounds: { type: "string", default: "5" },
    opus: { type: "boolean", default: false },
    "cpu-prof": { type: "string" },
    /** Also the bare ws relay (bare-relay.ts of this tree): the floor of a relay with ws and nothing else. */
    bare: { type: "boolean", default: false },
    pin: { type: "boolean", default: false },
  },
});
const trees = values.tree?.length ? [...values.tree] : ["."];
if (values.bare) trees.push("bare");
const rooms = Number(values.rooms);
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
if (process.env.RELAY_LOAD_OPUS === undefined && values.opus) process.env.RELAY_LOAD_OPUS = "1";

const TICK_S = 1 / 100; // USER_HZ on Linux

/** [user, system] CPU seconds of process `pid` so far. */
function cpuSeconds(pid: number): [number, number] {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14 and 15 (utime, stime), counted from 1 with pid and comm before the ")".
  return [Number(f[11]) * TICK_S, Number(f[12]) * TICK_S];
}

interface Probe {
  received: number;
  expected: number;
  p50_us: number;
  p99_us: number | null;
  last_error?: string;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const serverCpus = values.pin ? "0" : undefined;
const loadCpus = values.pin ? "1" : undefined;

const sims: Started[] = [];
const drivers: Driver[] = [];
try {
  for (const tree of trees) {
    // node's profiler in front of the script when asked.
    const prof = values["cpu-prof"] ? ["--cpu-prof", `--cpu-prof-dir=${values["cpu-prof"]}`] : [];
    const sim = await startTreeRelay(tree, { cpus: serverCpus, nodeArgs: prof });
    sims.push(sim);
    const d = Driver.start(tree === "bare" ? "bare" : "sim", sim.url, loadCpus);
    drivers.push(d);
    await d.ask(`connect ${rooms}`);
  }
  const perFrame: number[][] = trees.map(() => []);
  const p99s: number[][] = trees.map(() => []);
  const userPerFrame: number[][] = trees.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (let t = 0; t < trees.length; t++) {
      const pid = sims[t]!.child.pid!;
      // The probe settles 500 ms before its window; CPU is taken over the whole call, frames over the window, so
      // the figure is scaled by the window's share of the sending time.
      const c0 = cpuSeconds(pid);
      const w0 = performance.now();
      const p = await drivers[t]!.ask<Probe>(`probe ${rooms} ${seconds} 500`);
      const wall = (performance.now() - w0) / 1000;
      const c1 = cpuSeconds(pid);
      const user = c1[0] - c0[0];
      const sys = c1[1] - c0[1];
      const cpu = user + sys;
      const sendingS = seconds + 0.5;
      const frames = (p.received / seconds) * sendingS;
      const us = (cpu / frames) * 1e6;
      perFrame[t]!.push(us);
      userPerFrame[t]!.push((user / frames) * 1e6);
      p99s[t]!.push(p.p99_us === null ? Number.POSITIVE_INFINITY : p.p99_us / 1000);
      console.log(
        JSON.stringify({
          round: r,
          tree: trees[t],
          cpu_s: +cpu.toFixed(2),
          wall_s: +wall.toFixed(2),
          relayed: p.received,
          delivered_pct: +((100 * p.received) / Math.max(1, p.expected)).toFixed(2),
          p99_ms: p.p99_us === null ? null : p.p99_us / 1000,
          cpu_us_per_relayed_frame: +us.toFixed(2),
          user_us: +((user / frames) * 1e6).toFixed(2),
          sys_us: +((sys / frames) * 1e6).toFixed(2),
          load: loadavg()[0]!.toFixed(2),
          ...(p.last_error ? { last_error: p.last_error } : {}),
        }),
      );
    }
  }
  for (let t = 0; t < trees.length; t++) {
    const xs = perFrame[t]!;
    console.log(
      `${trees[t]}: median ${median(xs).toFixed(2)} µs CPU per relayed frame, user ${median(userPerFrame[t]!).toFixed(2)} (rounds: ${xs.map((x) => x.toFixed(2)).join(", ")}); p99 lag median ${median(p99s[t]!).toFixed(1)} ms (rounds: ${p99s[t]!.map((x) => x.toFixed(1)).join(", ")})`,
    );
  }
  console.log(
    `load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")}`,
  );
} finally {
  await Promise.all(drivers.map((d) => d.stop()));
  await Promise.all(sims.map((s) => s.stop()));
}
