// A measurement, run by hand: what it costs to start the runner's worker threads under tsx (each worker compiles
// the TypeScript it imports, through tsx's loader hooks) and from the run's esbuild bundle (worker-bundle.ts).
// CPU of the whole process (every thread, process.cpuUsage) and wall time from spawning to every worker
// "ready", median of interleaved rounds, with the load average (the machine is shared).
//
//   node --import tsx bench/harness/worker-start-cost.ts [workers=2] [rounds=7]

import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { resolveScenario } from "../../scenarios/resolve.ts";
import type { WorkerInit } from "../../scenarios/run/messages.ts";
import { bundleWorker } from "../../scenarios/run/worker-bundle.ts";
import { TSX_ENTRY, WorkerPool } from "../../scenarios/run/workers.ts";
import smoke from "../../scenarios/smoke.ts";

const workers = Number(process.argv[2] ?? 2);
const rounds = Number(process.argv[3] ?? 7);
const dir = mkdtempSync(join(tmpdir(), "ktv-start-cost-"));

const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function start(entry: URL, bundled: boolean): Promise<{ cpuMs: number; wallMs: number }> {
  const inits: WorkerInit[] = Array.from({ length: workers }, (_, index) => ({
    index,
    workers,
    scenario: resolveScenario(smoke),
    target: "http://127.0.0.1:9",
    mediaSocket: null,
    appID: 1,
    appSign: "0".repeat(64),
    seed: 1,
    prefix: "k1",
    pool: [{ song_id: "s1", song_name: "one" }],
    sharedCounters: {},
    cacheRoot: dir,
    clientModule: null,
    bundled,
  }));
  const c0 = cpu();
  const t0 = performance.now();
  const pool = new WorkerPool(
    inits,
    { log: (t) => /exited/.test(t) || console.error(t), note: () => {} },
    entry,
  );
  if (!(await pool.ready(60_000))) throw new Error("workers did not start");
  const out = { cpuMs: cpu() - c0, wallMs: performance.now() - t0 };
  await pool.terminate();
  return out;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const c = cpu();
const t = performance.now();
const bundle = await bundleWorker(dir);
const bundling = { cpuMs: cpu() - c, wallMs: performance.now() - t };
const r = {
  tsx: [] as { cpuMs: number; wallMs: number }[],
  bundle: [] as { cpuMs: number; wallMs: number }[],
};
for (let i = 0; i < rounds + 1; i++) {
  const a = await start(TSX_ENTRY, false);
  const b = await start(bundle, true);
  if (i === 0) continue; // warm-up (disk cache)
  r.tsx.push(a);
  r.bundle.push(b);
}
rmSync(dir, { recursive: true, force: true });
const f = (xs: { cpuMs: number; wallMs: number }[]) =>
  `CPU ${median(xs.map((x) => x.cpuMs)).toFixed(0)} ms, wall ${median(xs.map((x) => x.wallMs)).toFixed(0)} ms`;
console.log(
  `load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}; ${workers} workers to ready, median of ${rounds} interleaved rounds`,
);
console.log(`tsx loader:  ${f(r.tsx)}`);
console.log(
  `bundle:      ${f(r.bundle)} (+ bundling once per run: CPU ${bundling.cpuMs.toFixed(0)} ms, wall ${bundling.wallMs.toFixed(0)} ms)`,
);
