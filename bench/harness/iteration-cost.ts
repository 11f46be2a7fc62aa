// A measurement, run by hand: the CPU one pipeline iteration costs the load generator (issue 10: turnovers
// are what saturate rooms-250). An iteration is one turnover plus its song: engine and room login, init,
// search, requestResource or getSharedResource, download, load, playback start/stop, result recording; with
// very short songs (0.5 s) the turnover is nearly all of it.
//
// Marginal cost, so start-up (workers, bundling, the song renderings) cancels: each tree runs `ktv run` on the
// same generated scenario for a short and a long duration against one external simulator (its own process, so
// the target's CPU is measured apart: /proc/<pid>/stat before and after each run), and
//
//   client ms/iteration = (CPU(long) - CPU(short)) / (iterations(long) - iterations(short))
//
// with CPU from getrusage of the finished `ktv run` child (/usr/bin/time: every thread, user + system); and,
// from the long run alone, the steady state (steadyCost below: the run's per-second process CPU over its last
// 60%, per iteration counted there), which leaves start-up out without a second run. Trees
// (e.g. /work/main and a worktree) are interleaved round by round; medians are printed with the load average.
//
//   node --import tsx bench/harness/iteration-cost.ts [--rounds 3] [--vus 20] [--short 8] [--long 20]
//        [--sing 0.5] [--extra '{"songsPerLogin":8}'] TREE [TREE...]
//
// Each TREE is a checkout with node_modules; `--extra` is merged into the scenario's `ktv` block (per tree with
// TREE=JSON, e.g. /work/wt/x='{"songsPerLogin":8}').

import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";

interface Args {
  rounds: number;
  vus: number;
  short: number;
  long: number;
  sing: number;
  extra: Record<string, unknown>;
  trees: { dir: string; extra: Record<string, unknown>; label: string }[];
}

function parseArgs(argv: string[]): Args {
  const a: Args = { rounds: 3, vus: 20, short: 8, long: 20, sing: 0.5, extra: {}, trees: [] };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${k} needs a value`);
      return v;
    };
    if (k === "--rounds") a.rounds = Number(next());
    else if (k === "--vus") a.vus = Number(next());
    else if (k === "--short") a.short = Number(next());
    else if (k === "--long") a.long = Number(next());
    else if (k === "--sing") a.sing = Number(next());
    else if (k === "--extra") a.extra = JSON.parse(next());
    else {
      const eq = k.indexOf("=");
      const dir = resolve(eq < 0 ? k : k.slice(0, eq));
      const extra = eq < 0 ? {} : (JSON.parse(k.slice(eq + 1)) as Record<string, unknown>);
      a.trees.push({ dir, extra, label: k });
    }
  }
  if (a.trees.length === 0) throw new Error("give at least one tree (a checkout with node_modules)");
  if (!(a.vus % 4 === 0 && a.vus > 0)) throw new Error("--vus must be a positive multiple of 4 (rooms of 4)");
  if (!(a.long > a.short)) throw new Error("--long must exceed --short");
  return a;
}

const args = parseArgs(process.argv.slice(2));
const work = mkdtempSync(join(tmpdir(), "ktv-iteration-cost-"));

/** rooms-250's configuration, scaled down: what a load run's pipeline VU does, with very short songs. */
function scenarioFile(durationS: number, extra: Record<string, unknown>): string {
  const file = join(work, `s-${durationS}-${Object.keys(extra).length ? "x" : "base"}-${Math.random()}.json`);
  const scenario = {
    name: "iteration-cost",
    description: "pipeline VUs with very short songs: the turnover's CPU (bench/harness/iteration-cost.ts)",
    options: {
      scenarios: {
        rooms: { executor: "constant-vus", vus: args.vus, duration: `${durationS}s`, gracefulStop: "5s" },
      },
    },
    ktv: {
      vu: "pipeline",
      population: { usersPerRoom: 4, singersPerRoom: 1 },
      songs: { charts: ["8888", "6666"], zipf: 1, poolSize: 20, searchMix: 0.2 },
      shareRatio: 0.8,
      cache: "memory",
      audio: { shared: true, voiceProfiles: 8 },
      media: { codec: "opus-preencoded" },
      resource: { type: 2, quality: 0 },
      singSeconds: args.sing,
      ...args.extra,
      ...extra,
    },
  };
  writeFileSync(file, JSON.stringify(scenario));
  return file;
}

/** User + system CPU ms of a process so far, every thread (/proc/<pid>/stat utime + stime, clock ticks). */
function procCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(f[11]) + Number(f[12]);
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

async function startSimulator(): Promise<{ url: string; pid: number; stop(): void }> {
  const port = 7600 + Math.floor(Math.random() * 300);
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "scenarios/cli/ktv.ts",
      "sim",
      "--port",
      String(port),
      "--data-dir",
      ":memory:",
      "--catalog-size",
      "2000",
      "--log-level",
      "warn",
    ],
    { cwd: args.trees[0]!.dir, stdio: ["ignore", "inherit", "inherit"] },
  );
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) return { url, pid: child.pid!, stop: () => child.kill("SIGTERM") };
    } catch {}
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill("SIGTERM");
  throw new Error("the simulator did not start");
}

interface RunCost {
  cpuMs: number;
  simCpuMs: number;
  iterations: number;
  failed: number;
  /** Steady state: process CPU ms per iteration over the run's last 60% (timeseries.ndjson), or null. */
  steadyMs: number | null;
}

/**
 * CPU per iteration in steady state, from the run's own per-second points: each point's process CPU share
 * (generator_cpu, all threads) times the cores and the point's span, over the iterations the points counted.
 * The first 40% of the points (start-up, the first renderings, the ramp to a steady turnover) are left out.
 */
function steadyCost(out: string, cores: number): number | null {
  let lines: string[];
  try {
    lines = readFileSync(join(out, "timeseries.ndjson"), "utf8").trim().split("\n");
  } catch {
    return null;
  }
  const points = lines.map(
    (l) =>
      JSON.parse(l) as {
        elapsed_s: number;
        iterations: number;
        metrics: { generator_cpu?: { p50: number; count: number } };
      },
  );
  let cpuMs = 0;
  let iterations = 0;
  for (let i = Math.ceil(points.length * 0.4); i < points.length; i++) {
    const p = points[i]!;
    const span = p.elapsed_s - points[i - 1]!.elapsed_s;
    const cpu = p.metrics.generator_cpu;
    if (!cpu || span <= 0) continue;
    cpuMs += cpu.p50 * cores * span * 1000;
    iterations += p.iterations;
  }
  return iterations > 0 ? cpuMs / iterations : null;
}

function runOnce(tree: Args["trees"][number], durationS: number, sim: { url: string; pid: number }): RunCost {
  const out = join(work, `out-${Math.random()}`);
  const file = scenarioFile(durationS, tree.extra);
  const sim0 = procCpuMs(sim.pid);
  const r = spawnSync(
    "/usr/bin/time",
    [
      "-f",
      "CPU %U %S",
      process.execPath,
      "--import",
      "tsx",
      "scenarios/cli/ktv.ts",
      "run",
      file,
      "--target",
      sim.url,
      "--no-report",
      "--out",
      out,
    ],
    { cwd: tree.dir, encoding: "utf8", maxBuffer: 64 << 20 },
  );
  const simCpuMs = procCpuMs(sim.pid) - sim0;
  const m = /CPU ([\d.]+) ([\d.]+)/.exec(r.stderr);
  if (!m) throw new Error(`no CPU figure from the run:\n${r.stderr.slice(-2000)}`);
  let summary: {
    counters: { iterations: number; failed_iterations: number };
    generator?: { cores: number };
  };
  try {
    summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
  } catch {
    throw new Error(`run wrote no summary (exit ${r.status}):\n${r.stderr.slice(-2000)}`);
  }
  const steadyMs = steadyCost(out, summary.generator?.cores ?? availableParallelism());
  rmSync(out, { recursive: true, force: true });
  return {
    steadyMs,
    cpuMs: (Number(m[1]) + Number(m[2])) * 1000,
    simCpuMs,
    iterations: summary.counters.iterations,
    failed: summary.counters.failed_iterations,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const la = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(" ");

const sim = await startSimulator();
const results = new Map<
  string,
  { client: number[]; steady: number[]; sim: number[]; iters: number[]; failed: number }
>();
try {
  console.log(
    `load average at start ${la()}; ${args.vus} VUs, ${args.sing} s songs, ${args.short}/${args.long} s runs`,
  );
  for (let round = 0; round < args.rounds; round++) {
    for (const tree of args.trees) {
      const a = runOnce(tree, args.short, sim);
      const b = runOnce(tree, args.long, sim);
      const di = b.iterations - a.iterations;
      const client = (b.cpuMs - a.cpuMs) / di;
      const simMs = (b.simCpuMs - a.simCpuMs) / di;
      const r = results.get(tree.label) ?? { client: [], steady: [], sim: [], iters: [], failed: 0 };
      r.client.push(client);
      if (b.steadyMs !== null) r.steady.push(b.steadyMs);
      r.sim.push(simMs);
      r.iters.push(b.iterations / args.long);
      r.failed += a.failed + b.failed;
      results.set(tree.label, r);
      console.log(
        `round ${round + 1} ${tree.label}: client ${client.toFixed(1)} ms/iteration (steady ${b.steadyMs?.toFixed(1) ?? "-"}), simulator ${simMs.toFixed(1)} ms/iteration ` +
          `(iterations ${a.iterations} -> ${b.iterations}, CPU ${(a.cpuMs / 1000).toFixed(1)} -> ${(b.cpuMs / 1000).toFixed(1)} s; load ${la()})`,
      );
    }
  }
} finally {
  sim.stop();
  rmSync(work, { recursive: true, force: true });
}
console.log(`\nload average at end ${la()}; medians of ${args.rounds} interleaved rounds`);
for (const [label, r] of results) {
  console.log(
    `${label}: client ${median(r.client).toFixed(1)} ms CPU/iteration (steady-state ${r.steady.length ? median(r.steady).toFixed(1) : "-"}), simulator ${median(r.sim).toFixed(1)} ms/iteration, ` +
      `${median(r.iters).toFixed(1)} iterations/s, ${r.failed} failed iterations`,
  );
}
