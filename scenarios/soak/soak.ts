import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { readResults } from "../../reports/read-results.ts";
import { type Simulator, startSimulator } from "../../simulator/app.ts";
import type { ScenarioDefinition } from "../format.ts";
import { parseDuration } from "../load/duration.ts";
import regression from "../regression.ts";
import { resolveScenario } from "../resolve.ts";
import type { ProgressOut } from "../run/progress.ts";
import { runScenario } from "../run/runner.ts";
import {
  DEFAULT_LIMITS,
  formatSoak,
  type P99Point,
  type SoakReport,
  type SoakSample,
  soakVerdict,
} from "./analyze.ts";

// `npm run soak [-- --duration 30m --interval 10s --out DIR]`: the `regression` scenario's steady arrivals for
// a long time against a simulator started on this thread, sampling every interval the heap after a full GC
// (the simulator and the runner's main thread), the process RSS (every thread, VU workers included) and the
// open fds (/proc/self/fd: simulator sockets, ledger, runner files, workers), then judging slopes, fd growth and
// p99 drift (analyze.ts). Writes soak.json (report + samples) next to the run's results; exits 1 on FAIL.

export interface SoakOptions {
  durationMs: number;
  intervalMs: number;
  out: string;
  err: ProgressOut;
  seed?: number;
  /** The latency trend whose per-interval p99 is compared first third vs last third. */
  p99Metric?: string;
  /** Songs in the simulator's catalog (default: the regression scenario's). */
  catalogSize?: number;
  /** VU worker threads (default: the runner's). */
  workers?: number;
}

export interface SoakOutcome {
  report: SoakReport;
  samples: SoakSample[];
  p99s: P99Point[];
  runExitCode: number;
}

let gcFn: (() => void) | undefined;
function fullGc(): void {
  if (!gcFn) {
    setFlagsFromString("--expose-gc");
    gcFn = runInNewContext("gc") as () => void;
  }
  gcFn();
}

/** Open fds of this process, or null without /proc. */
export function openFds(): number | null {
  try {
    return readdirSync("/proc/self/fd").length;
  } catch {
    return null;
  }
}

/** regression with its steady arrivals stretched to `durationMs`. */
export function soakScenario(durationMs: number): ScenarioDefinition {
  const steady = regression.options.scenarios!.steady!;
  return {
    ...regression,
    name: "soak",
    description: `regression's steady arrivals for ${Math.round(durationMs / 1000)} s (npm run soak)`,
    options: {
      ...regression.options,
      // regression's steady scenario is constant-arrival-rate: its duration is the one to stretch.
      scenarios: { steady: { ...steady, duration: `${Math.round(durationMs / 1000)}s` } as typeof steady },
    },
  };
}

export async function runSoak(o: SoakOptions): Promise<SoakOutcome> {
  const metric = o.p99Metric ?? "pick_to_first_packet_ms";
  mkdirSync(o.out, { recursive: true });
  const fdsBefore = openFds();
  const sim: Simulator = await startSimulator({
    port: 0,
    catalogSize: o.catalogSize ?? regression.ktv?.simulator?.catalogSize ?? 10_000,
    dataDir: ":memory:",
    logLevel: "warn",
  });
  const samples: SoakSample[] = [];
  const t0 = performance.now();
  const sample = () => {
    fullGc();
    const m = process.memoryUsage();
    samples.push({ t_s: (performance.now() - t0) / 1000, heap: m.heapUsed, rss: m.rss, fds: openFds() });
  };
  sample();
  const timer = setInterval(sample, o.intervalMs);
  let runExitCode: number;
  try {
    const outcome = await runScenario({
      scenario: resolveScenario(soakScenario(o.durationMs)),
      target: sim.url,
      out: o.out,
      seed: o.seed ?? 1,
      err: o.err,
      ...(o.workers ? { workers: o.workers } : {}),
    });
    runExitCode = outcome.exitCode;
  } finally {
    clearInterval(timer);
    await sim.close();
  }
  // Sockets the close ended leave the fd table on the next turns of the loop.
  await new Promise((r) => setTimeout(r, 200));
  const fdsAfter = openFds();
  const ts = readResults(o.out).timeseries;
  const p99s: P99Point[] = [];
  for (const p of ts) {
    const q = p.metrics[metric] as { p99?: number; count?: number } | undefined;
    if (q?.p99 !== undefined && (q.count ?? 0) > 0) p99s.push({ t_s: p.elapsed_s, p99: q.p99 });
  }
  const report = soakVerdict(samples, p99s, metric, DEFAULT_LIMITS, { fdsBefore, fdsAfter });
  writeFileSync(join(o.out, "soak.json"), `${JSON.stringify({ report, samples, p99s }, null, 2)}\n`);
  return { report, samples, p99s, runExitCode };
}

function arg(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

function ms(v: string | undefined, fallback: number, what: string): number {
  if (v === undefined) return fallback;
  const d = parseDuration(v);
  if (d instanceof Error) throw new Error(`${what}: ${d.message}`);
  return d;
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes("--help")) {
    process.stdout.write(
      "npm run soak -- [--duration 30m] [--interval 10s] [--out DIR] [--p99-metric pick_to_first_packet_ms]\n",
    );
    return 0;
  }
  const durationMs = ms(arg(argv, "--duration"), 30 * 60_000, "--duration");
  const intervalMs = ms(
    arg(argv, "--interval"),
    Math.max(1000, Math.min(10_000, durationMs / 60)),
    "--interval",
  );
  const out = arg(argv, "--out") ?? join(tmpdir(), `ktv-soak-${Date.now()}`);
  const { report, runExitCode } = await runSoak({
    durationMs,
    intervalMs,
    out,
    err: process.stderr,
    p99Metric: arg(argv, "--p99-metric"),
  });
  process.stdout.write(`${formatSoak(report)}\n  results: ${out} (soak.json; run exit ${runExitCode})\n`);
  return report.pass ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`soak: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(2);
    },
  );
}
