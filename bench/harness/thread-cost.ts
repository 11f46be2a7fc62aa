// A measurement, run by hand: the CPU each thread of `ktv run` spends per unit of work on rooms-250's shape
// (issue 10), so a change to the client's hot paths, the runner or the relay is judged by CPU, not by latency
// on a shared machine. rooms-250 with fewer rooms (--load-scale) and a shorter timeline (--duration: the stages
// scale), embedded simulator, per tree, rounds interleaved, medians printed with the load average.
//
//   node --import tsx bench/harness/thread-cost.ts [--rounds 3] [--scale 0.1,0.3] [--duration 40s]
//        [--scenario rooms-250] TREE[=--workers 1] [TREE...]
//
// A TREE is a checkout with node_modules; what follows `=` is passed to its `ktv run` (e.g. --workers 1).
// With two scales (the default) the figures are marginal: (CPU at the larger - CPU at the smaller) / (work at
// the larger - work at the smaller), so what a run pays once (threads booting, tsx compiling the simulator,
// each song's first rendering, the CDN's first render of a file) cancels and what is left is the cost that
// grows with the VUs. With one scale they are whole-run totals over that run's work.
//
// Per thread: the ktv process's tasks are read from outside (/proc/<pid>/task/<tid>/stat, every 250 ms, the
// last reading before the task ended kept), so a tree without per-thread figures in its summary is measured
// the same way. Node names none of its threads, so the JavaScript threads are told by CPU and start order:
// the main thread is the process id; the next `1 + workers` busiest tasks are the embedded simulator and the
// workers, in that order of task id (the simulator thread starts before the workers); the rest (V8's platform
// threads: concurrent GC and compilation; libuv's pool) are "other". Where the summary has per-thread CPU
// (generator.workers[].cpu_s, generator.simulator_cpu_s) the two are printed side by side as a check.
//
// Units of work from the run's own results: VU-seconds (the timeseries' VUs over each interval), songs started
// (iterations of a song: a login carries several), mixer frames (singers, 10 ms each) and media packets
// received (listeners, 20 ms each).

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";

interface Tree {
  dir: string;
  args: string[];
  label: string;
}

interface Args {
  rounds: number;
  scales: number[];
  duration: string;
  scenario: string;
  trees: Tree[];
}

function parseArgs(argv: string[]): Args {
  const a: Args = { rounds: 3, scales: [0.1, 0.3], duration: "40s", scenario: "rooms-250", trees: [] };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${k} needs a value`);
      return v;
    };
    if (k === "--rounds") a.rounds = Number(next());
    else if (k === "--scale") a.scales = next().split(",").map(Number);
    else if (k === "--duration") a.duration = next();
    else if (k === "--scenario") a.scenario = next();
    else {
      const eq = k.indexOf("=");
      const dir = resolve(eq < 0 ? k : k.slice(0, eq));
      const args =
        eq < 0
          ? []
          : k
              .slice(eq + 1)
              .split(/\s+/)
              .filter(Boolean);
      if (!existsSync(join(dir, "scenarios/cli/ktv.ts")))
        throw new Error(`${dir}: not a ktv-harness checkout`);
      a.trees.push({ dir, args, label: k });
    }
  }
  if (a.trees.length === 0) throw new Error("give at least one tree (a checkout with node_modules)");
  if (a.scales.length < 1 || a.scales.length > 2 || !a.scales.every((v) => v > 0 && v <= 1)) {
    throw new Error("--scale: one or two values in (0, 1], e.g. 0.1,0.3");
  }
  a.scales.sort((x, y) => x - y);
  return a;
}

const TICK_MS = 10;

function readTasks(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${t}/stat`, "latin1");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(Number(t), (Number(f[11]) + Number(f[12])) * TICK_MS);
    } catch {
      // The task ended between the listing and the read.
    }
  }
  return out;
}

interface Result {
  threads: Record<string, number>;
  summaryCpu: Record<string, number | null>;
  vuSeconds: number;
  songs: number;
  iterations: number;
  mixFrames: number;
  packetsReceived: number;
  wallS: number;
  load: number;
}

function workersOf(args: string[]): number {
  const i = args.indexOf("--workers");
  return i >= 0 ? Number(args[i + 1]) : Math.min(availableParallelism(), 2);
}

async function runOnce(tree: Tree, a: Args, scale: number): Promise<Result> {
  const out = mkdtempSync(join(tmpdir(), "ktv-thread-cost-"));
  const argv = [
    "--import",
    "tsx",
    "scenarios/cli/ktv.ts",
    "run",
    a.scenario,
    "--load-scale",
    String(scale),
    "--duration",
    a.duration,
    "--no-report",
    "--out",
    join(out, "r"),
    ...tree.args,
  ];
  const t0 = Date.now();
  const child = spawn(process.execPath, argv, { cwd: tree.dir, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const last = new Map<number, number>();
  const poll = setInterval(() => {
    for (const [tid, ms] of readTasks(child.pid!)) last.set(tid, ms);
  }, 250);
  const code = await new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
  clearInterval(poll);
  const wallS = (Date.now() - t0) / 1000;
  // 0: passed, 99: a threshold failed (expected on a loaded machine): both wrote results.
  if (code !== 0 && code !== 99)
    throw new Error(`${tree.label}: ktv run exited ${code}\n${stderr.slice(-2000)}`);
  const pid = child.pid!;
  const workers = workersOf(tree.args);
  const rest = [...last.entries()].filter(([tid]) => tid !== pid).sort((x, y) => y[1] - x[1]);
  const js = rest
    .slice(0, 1 + workers)
    .map(([tid]) => tid)
    .sort((x, y) => x - y);
  const threads: Record<string, number> = { main: (last.get(pid) ?? 0) / 1000 };
  js.forEach((tid, i) => {
    threads[i === 0 ? "simulator" : `worker ${i - 1}`] = last.get(tid)! / 1000;
  });
  threads.other = rest.slice(1 + workers).reduce((s, [, ms]) => s + ms, 0) / 1000;
  threads.total = Object.values(threads).reduce((s, v) => s + v, 0);

  const summary = JSON.parse(readFileSync(join(out, "r/summary.json"), "utf8")) as {
    counters: Record<string, unknown>;
    generator?: { workers: { worker: number; cpu_s?: number | null }[]; simulator_cpu_s?: number | null };
  };
  const summaryCpu: Record<string, number | null> = {
    simulator: summary.generator?.simulator_cpu_s ?? null,
  };
  for (const w of summary.generator?.workers ?? []) summaryCpu[`worker ${w.worker}`] = w.cpu_s ?? null;
  let vuSeconds = 0;
  let prevT: number | null = null;
  const lines = readFileSync(join(out, "r/timeseries.ndjson"), "utf8").split("\n").filter(Boolean);
  for (const line of lines) {
    const p = JSON.parse(line) as { t: number; elapsed_s: number; vus: number };
    const span = prevT === null ? p.elapsed_s : (p.t - prevT) / 1000;
    vuSeconds += p.vus * Math.max(0, span);
    prevT = p.t;
  }
  const c = summary.counters;
  const num = (k: string) => (typeof c[k] === "number" ? (c[k] as number) : 0);
  rmSync(out, { recursive: true, force: true });
  return {
    threads,
    summaryCpu,
    vuSeconds,
    songs: num("songs_started"),
    iterations: num("iterations"),
    mixFrames: num("mix_frames"),
    packetsReceived: num("media_packets_received"),
    wallS,
    load: loadavg()[0]!,
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const f = (v: number, d = 2) => v.toFixed(d);

const args = parseArgs(process.argv.slice(2));
const WORK = ["vuSeconds", "songs", "frames"] as const;
type Work = (typeof WORK)[number];
const workOf = (r: Result, w: Work) =>
  w === "vuSeconds" ? r.vuSeconds : w === "songs" ? r.songs : r.mixFrames + r.packetsReceived;

/** Per thread and unit of work, one round: marginal between the two scales, or the one run's totals. */
function perUnit(rs: Result[], thread: string, w: Work): number {
  const hi = rs[rs.length - 1]!;
  const lo = rs.length > 1 ? rs[0]! : null;
  const cpu = (hi.threads[thread] ?? 0) - (lo?.threads[thread] ?? 0);
  const work = workOf(hi, w) - (lo ? workOf(lo, w) : 0);
  return work > 0 ? (cpu * 1000) / work : Number.NaN;
}

const rounds = new Map<string, Result[][]>(args.trees.map((t) => [t.label, []]));
process.stdout.write(
  `thread-cost: ${args.scenario} --load-scale ${args.scales.join(",")} --duration ${args.duration}, ${args.rounds} round(s), ${availableParallelism()} cores, load ${loadavg()
    .map((v) => v.toFixed(1))
    .join(" ")}\n`,
);
for (let r = 0; r < args.rounds; r++) {
  for (const tree of args.trees) {
    const rs: Result[] = [];
    for (const scale of args.scales) {
      const res = await runOnce(tree, args, scale);
      rs.push(res);
      process.stdout.write(
        `round ${r + 1} ${tree.label} scale ${scale}: ${f(res.vuSeconds, 0)} VU-s, ${res.songs} songs, ${res.mixFrames + res.packetsReceived} frames, load ${f(res.load, 1)}; CPU s ${Object.entries(
          res.threads,
        )
          .map(([k, v]) => `${k} ${f(v, 1)}`)
          .join(", ")}; summary ${Object.entries(res.summaryCpu)
          .map(([k, v]) => `${k} ${v === null ? "-" : f(v, 1)}`)
          .join(", ")}\n`,
      );
    }
    rounds.get(tree.label)!.push(rs);
  }
}

const kind = args.scales.length > 1 ? `marginal between scales ${args.scales.join(" and ")}` : "whole run";
process.stdout.write(
  `\nmedians over rounds, ${kind}: CPU ms per VU-second | ms per song started | µs per mixer frame + packet received\n`,
);
for (const tree of args.trees) {
  const rr = rounds.get(tree.label)!;
  const names = Object.keys(rr[0]![0]!.threads);
  process.stdout.write(
    `${tree.label}  (loads ${rr
      .flat()
      .map((r) => f(r.load, 1))
      .join(" ")})\n`,
  );
  for (const n of names) {
    const m = (w: Work) => median(rr.map((rs) => perUnit(rs, n, w)));
    process.stdout.write(
      `  ${n.padEnd(10)} ${f(m("vuSeconds"), 3).padStart(8)} ms/VU-s ${f(m("songs"), 1).padStart(8)} ms/song ${f(m("frames") * 1000, 1).padStart(8)} µs/frame\n`,
    );
  }
}
