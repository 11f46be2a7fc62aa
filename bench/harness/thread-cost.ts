// A measurement, run by hand: the CPU each thread of `ktv run` spends per unit of work on rooms-250's shape
// (issue 10), so a change to the client's hot paths, the runner or the relay is judged by CPU, not by latency
// on a shared machine. rooms-250 with fewer rooms (--load-scale) and a shorter timeline (--duration: the stages
// scale), embedded simulator, per tree, rounds interleaved, medians printed with the load average.
//
//   node --import tsx bench/harness/thread-cost.ts [--rounds 3] [--scale 0.15] [--duration 60s]
//        [--steady 0.5] [--scenario rooms-250] TREE[=--workers 1] [TREE...]
//
// A TREE is a checkout with node_modules; what follows `=` is passed to its `ktv run` (e.g. --workers 1), except
// NAME=value words, which are set in its environment (e.g. `.=KTV_MEDIA_WRITES=framed` against `.`: one tree, two
// settings, interleaved).
//
// Per thread: the ktv process's tasks are read from outside (/proc/<pid>/task/<tid>/stat, every 250 ms, with
// the time), so a tree without per-thread figures in its summary is measured the same way. Node names none of
// its threads, so the JavaScript threads are told by CPU and start order: the main thread is the process id;
// the next `1 + workers` busiest tasks are the embedded simulator and the workers, in that order of task id
// (the simulator thread starts before the workers); the rest (V8's platform threads: concurrent GC and
// compilation, tsx's loader threads; libuv's pool) are "other". Where the summary has per-thread CPU
// (generator.workers[].cpu_s, generator.simulator_cpu_s) both are printed as a check.
//
// Two figures per thread (and, for the steady window, its system time and how often the thread was put on a CPU
// from schedstat: a thread woken per packet pays the wake-up in both):
//   steady   CPU over the last `--steady` share of the run's intervals (the ramp, the boot and each song's first
//            rendering left out), per VU-second in that window (the timeseries' VUs over each interval): what
//            grows with the VUs
//   run      the whole process lifetime's CPU per song started: what one song costs, start-up included
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";

interface Tree {
  dir: string;
  args: string[];
  /** NAME=value words among a tree's arguments: set in its `ktv run`'s environment, not passed as arguments. */
  env: Record<string, string>;
  label: string;
}

interface Args {
  rounds: number;
  scale: number;
  steady: number;
  duration: string;
  scenario: string;
  trees: Tree[];
}

function parseArgs(argv: string[]): Args {
  const a: Args = { rounds: 3, scale: 0.15, steady: 0.5, duration: "60s", scenario: "rooms-250", trees: [] };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${k} needs a value`);
      return v;
    };
    if (k === "--rounds") a.rounds = Number(next());
    else if (k === "--scale") a.scale = Number(next());
    else if (k === "--steady") a.steady = Number(next());
    else if (k === "--duration") a.duration = next();
    else if (k === "--scenario") a.scenario = next();
    else {
      const eq = k.indexOf("=");
      const dir = resolve(eq < 0 ? k : k.slice(0, eq));
      const words =
        eq < 0
          ? []
          : k
              .slice(eq + 1)
              .split(/\s+/)
              .filter(Boolean);
      const isEnv = (w: string) => /^[A-Z][A-Z0-9_]*=/.test(w);
      const env = Object.fromEntries(
        words.filter(isEnv).map((w) => [w.slice(0, w.indexOf("=")), w.slice(w.indexOf("=") + 1)]),
      );
      if (!existsSync(join(dir, "scenarios/cli/ktv.ts")))
        throw new Error(`${dir}: not a ktv-harness checkout`);
      a.trees.push({ dir, args: words.filter((w) => !isEnv(w)), env, label: k });
    }
  }
  if (a.trees.length === 0) throw new Error("give at least one tree (a checkout with node_modules)");
  if (!(a.scale > 0 && a.scale <= 1)) throw new Error("--scale must be in (0, 1]");
  if (!(a.steady > 0 && a.steady <= 1)) throw new Error("--steady must be in (0, 1]");
  return a;
}

const TICK_MS = 10;

/** One task's counters at a reading: CPU ms (user + system), system ms, and times it was put on a CPU. */
interface TaskSample {
  cpu: number;
  sys: number;
  /** schedstat's run count: each wake-up (and each return after a preemption) is one. */
  runs: number;
}

function readTasks(pid: number): Map<number, TaskSample> {
  const out = new Map<number, TaskSample>();
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
      let runs = 0;
      try {
        runs = Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, "latin1").split(" ")[2]);
      } catch {
        // No schedstat (a kernel without CONFIG_SCHEDSTATS): runs stay 0.
      }
      out.set(Number(t), {
        cpu: (Number(f[11]) + Number(f[12])) * TICK_MS,
        sys: Number(f[12]) * TICK_MS,
        runs,
      });
    } catch {
      // The task ended between the listing and the read.
    }
  }
  return out;
}

interface Result {
  threads: Record<string, number>;
  /** CPU s per thread over the steady window, and the VU-seconds in it. */
  steady: Record<string, number>;
  /** System CPU s per thread over the steady window, and the times each was put on a CPU. */
  steadySys: Record<string, number>;
  steadyRuns: Record<string, number>;
  steadyVuSeconds: number;
  /** Singers' 10 ms mixer frames in the steady window (the ticker's, counted per interval). */
  steadyMixFrames: number;
  failed: number;
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

async function runOnce(tree: Tree, a: Args): Promise<Result> {
  const out = mkdtempSync(join(tmpdir(), "ktv-thread-cost-"));
  const argv = [
    "--import",
    "tsx",
    "scenarios/cli/ktv.ts",
    "run",
    a.scenario,
    "--load-scale",
    String(a.scale),
    "--duration",
    a.duration,
    "--no-report",
    "--out",
    join(out, "r"),
    ...tree.args,
  ];
  const t0 = Date.now();
  const child = spawn(process.execPath, argv, {
    cwd: tree.dir,
    env: { ...process.env, ...tree.env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const last = new Map<number, number>();
  const readings: { t: number; tasks: Map<number, TaskSample> }[] = [];
  const poll = setInterval(() => {
    const tasks = readTasks(child.pid!);
    readings.push({ t: Date.now(), tasks });
    for (const [tid, x] of tasks) last.set(tid, x.cpu);
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
  const names = new Map<number, string>([[pid, "main"]]);
  for (const [i, tid] of js.entries()) names.set(tid, i === 0 ? "simulator" : `worker ${i - 1}`);

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
  const points = lines.map(
    (line) => JSON.parse(line) as { t: number; elapsed_s: number; vus: number; mix_frames: number },
  );
  const spans = points.map((p, i) => {
    const span = prevT === null ? p.elapsed_s : (p.t - prevT) / 1000;
    prevT = p.t;
    vuSeconds += p.vus * Math.max(0, span);
    return { from: p.t - span * 1000, to: p.t, vus: p.vus, frames: p.mix_frames, i };
  });
  // The steady window: the last `steady` share of the intervals while VUs ran (the stop's tail left out).
  const running = spans.filter((x) => x.vus > 0);
  const win = running.slice(Math.floor(running.length * (1 - a.steady)));
  const wFrom = win[0]?.from ?? 0;
  const wTo = win[win.length - 1]?.to ?? 0;
  const steadyVuSeconds = win.reduce((s, x) => s + (x.vus * (x.to - x.from)) / 1000, 0);
  const steadyMixFrames = win.reduce((s, x) => s + x.frames, 0);
  const near = (t: number) =>
    readings.reduce((b, r) => (Math.abs(r.t - t) < Math.abs(b.t - t) ? r : b), readings[0]!);
  const r0 = near(wFrom);
  const r1 = near(wTo);
  const steady: Record<string, number> = { main: 0, simulator: 0, other: 0, total: 0 };
  const steadySys: Record<string, number> = { main: 0, simulator: 0, other: 0, total: 0 };
  const steadyRuns: Record<string, number> = { main: 0, simulator: 0, other: 0, total: 0 };
  for (const [tid, x1] of r1.tasks) {
    const x0 = r0.tasks.get(tid);
    const d = (x1.cpu - (x0?.cpu ?? 0)) / 1000;
    const n = names.get(tid) ?? "other";
    steady[n] = (steady[n] ?? 0) + d;
    steady.total! += d;
    const ds = (x1.sys - (x0?.sys ?? 0)) / 1000;
    steadySys[n] = (steadySys[n] ?? 0) + ds;
    steadySys.total! += ds;
    const dr = x1.runs - (x0?.runs ?? 0);
    steadyRuns[n] = (steadyRuns[n] ?? 0) + dr;
    steadyRuns.total! += dr;
  }
  const c = summary.counters;
  const num = (k: string) => (typeof c[k] === "number" ? (c[k] as number) : 0);
  // Failed iterations are reported with their codes and the run's last words, so a failing setting is
  // diagnosed from this output (the results directory is removed below).
  if (num("failed_iterations") > 0)
    process.stdout.write(
      `${tree.label}: failed iterations by code ${JSON.stringify(c.failed_iterations_by_code ?? {})}, errors by code ${JSON.stringify(c.errors_by_code ?? {})}\n${stderr.slice(-1500)}\n`,
    );
  rmSync(out, { recursive: true, force: true });
  return {
    threads,
    steady,
    steadySys,
    steadyRuns,
    steadyVuSeconds,
    steadyMixFrames,
    failed: num("failed_iterations"),
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
const rounds = new Map<string, Result[]>(args.trees.map((t) => [t.label, []]));
process.stdout.write(
  `thread-cost: ${args.scenario} --load-scale ${args.scale} --duration ${args.duration}, steady = last ${args.steady} of the intervals, ${args.rounds} round(s), ${availableParallelism()} cores, load ${loadavg()
    .map((v) => v.toFixed(1))
    .join(" ")}\n`,
);
const list = (o: Record<string, number | null>) =>
  Object.entries(o)
    .map(([k, v]) => `${k} ${v === null ? "-" : f(v, 1)}`)
    .join(", ");
for (let r = 0; r < args.rounds; r++) {
  for (const tree of args.trees) {
    const res = await runOnce(tree, args);
    rounds.get(tree.label)!.push(res);
    process.stdout.write(
      `round ${r + 1} ${tree.label}: ${f(res.vuSeconds, 0)} VU-s (steady ${f(res.steadyVuSeconds, 0)}, ${res.steadyMixFrames} mixer frames), ${res.songs} songs, ${res.failed} failed, load ${f(res.load, 1)}; CPU s ${list(res.threads)}; steady ${list(res.steady)}; of which system ${list(res.steadySys)}; summary ${list(res.summaryCpu)}\n`,
    );
  }
}

process.stdout.write(
  "\nmedians over rounds: steady CPU ms per VU-second (share of a core per 1,000 VUs = value) | steady CPU µs per singer mixer frame (10 ms; a room's whole work per frame: 1 singer, 3 listeners, the relay) | of which system | times put on a CPU per singer frame (wake-ups and returns from preemption) | whole run CPU ms per song started\n",
);
for (const tree of args.trees) {
  const rr = rounds.get(tree.label)!;
  process.stdout.write(`${tree.label}  (loads ${rr.map((r) => f(r.load, 1)).join(" ")})\n`);
  for (const n of Object.keys(rr[0]!.threads)) {
    const steady = median(rr.map((r) => ((r.steady[n] ?? 0) * 1000) / r.steadyVuSeconds));
    const perFrame = median(rr.map((r) => ((r.steady[n] ?? 0) * 1e6) / Math.max(1, r.steadyMixFrames)));
    const sysFrame = median(rr.map((r) => ((r.steadySys[n] ?? 0) * 1e6) / Math.max(1, r.steadyMixFrames)));
    const runsFrame = median(rr.map((r) => (r.steadyRuns[n] ?? 0) / Math.max(1, r.steadyMixFrames)));
    const perSong = median(rr.map((r) => ((r.threads[n] ?? 0) * 1000) / Math.max(1, r.songs)));
    process.stdout.write(
      `  ${n.padEnd(10)} ${f(steady, 3).padStart(8)} ms/VU-s ${f(perFrame, 1).padStart(8)} µs/frame ${f(sysFrame, 1).padStart(7)} sys ${f(runsFrame, 2).padStart(6)} runs/frame ${f(perSong, 1).padStart(8)} ms/song\n`,
    );
  }
}
