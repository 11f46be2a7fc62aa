// Memory per concurrent protocol VU beyond the process's fixed base (issue 13 item 3: 10,000 VUs per machine
// at <= 100 KB each), for both runners against a simulator in another process (`ktv sim`, sim-process.ts):
//
//   k6      `ktv k6 scenarios/k6/vendor-api.ts --vus N --duration ...` (k6's closed-model shortcut: every VU
//           loops the vendor mix back to back, so every VU holds its module state, its music session, its
//           keep-alive connection and an iteration in flight), run in-process by runK6 in a child.
//   music   `ktv run` with `vu: "music"` (search -> share or requestResource -> download, looped), its VUs on
//           the child's main thread exactly as a worker thread runs them (bench/harness/vu-memory.ts's child).
//
// Each child starts N VUs, waits until they are all under way (k6: every VU created and N iterations done;
// music: every VU active), then takes `samples` samples 1 s apart, each after two forced GCs. The figure is
// the slope between two N (medians of the samples): (rss(N_hi) - rss(N_lo)) / (N_hi - N_lo), so the base
// (Node, the bundle, the metric registry, the song pool) cancels out. Children run one at a time, N by N, tree
// by tree, interleaved when several trees are given (before/after in one session).
//
//   npx tsx bench/harness/footprint.ts --runner k6|music [--vus 500,10000] [--rounds 1] [--samples 3]
//                                      [--warm 60] [--trees .,/path/to/old] [--snapshot dir]
//
// `npm run bench`'s vu-footprint cases (bench/cases/footprint.ts) call measureFootprint below.

import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { basename, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { writeHeapSnapshot } from "node:v8";
import { startSimulatorProcess } from "./sim-process.ts";

export type FootprintRunner = "k6" | "music";

export interface MemSample {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

export interface FootprintChild {
  vus: number;
  ready: boolean;
  readyS: number;
  samples: MemSample[];
  /** Iterations completed by the time of the samples (k6), or errors met (music). */
  iterations: number;
  errors: number;
  load: number[];
  /** The run's generator figures (k6: its summary's `generator`), when the child has them. */
  generator?: unknown;
  /** After the samples (k6 child): resident bytes by kind of mapping (residentBy). */
  resident?: { brkHeap: number; anon: number } | null;
  snapshot: string | null;
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Where the resident bytes are (Linux /proc/self/smaps): the brk heap (glibc malloc's main arena: sockets'
 * native state, read buffers) and anonymous mappings (V8's pages, malloc's mmapped chunks and thread arenas).
 * Null where /proc is not there.
 */
export function residentBy(): { brkHeap: number; anon: number } | null {
  let text: string;
  try {
    text = readFileSync("/proc/self/smaps", "utf8");
  } catch {
    return null;
  }
  let kind: "heap" | "anon" | null = null;
  const out = { brkHeap: 0, anon: 0 };
  for (const line of text.split("\n")) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const path = head[1]!.trim();
      kind = path === "[heap]" ? "heap" : path === "" ? "anon" : null;
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && kind) out[kind === "heap" ? "brkHeap" : "anon"] += Number(rss[1]) * 1024;
  }
  return out;
}

// ---- child: N k6 VUs of vendor-api.ts in this process --------------------------------------------------

async function k6Child(o: {
  vus: number;
  target: string;
  warmS: number;
  samples: number;
  snapshot: string | undefined;
  tag: string;
}): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("run the child with --expose-gc");
  const { runK6 } = await import("../../scenarios/k6-runner/run.ts");
  const here = fileURLToPath(new URL("../..", import.meta.url));
  const stop = new AbortController();
  let instance: { vusInitialized(): number; completed(): number } | null = null;
  let errLines = 0;
  const holdS = o.warmS + o.samples + 30;
  const run = runK6({
    script: join(here, "scenarios/k6/vendor-api.ts"),
    env: { KTV_TARGET: o.target, KTV_PREFIX: `fp${process.pid}` },
    overrides: { vus: o.vus, duration: `${holdS}s` },
    out: { write: () => {} },
    err: {
      write: (t) => {
        if (errLines++ < 5) process.stderr.write(t);
      },
    },
    signal: stop.signal,
    onStart: (i) => {
      instance = i;
    },
  });
  // The warm-up counts from the start of the load, after setup and the init phase (10,000 init contexts).
  let ended = false;
  const end = () => {
    ended = true;
  };
  run.then(end, end);
  while (instance === null && !ended) await sleep(200);
  const t0 = performance.now();
  let steady = 0;
  // Both conditions only ever become true once (VUs are not torn down, iterations only add up): two checks
  // 0.5 s apart are a debounce, not a settling time (1 s apart cost each child a second or two for nothing).
  while (performance.now() - t0 < o.warmS * 1000 && steady < 2) {
    await sleep(500);
    const i = instance as { vusInitialized(): number; completed(): number } | null;
    steady = i && i.vusInitialized() >= o.vus && i.completed() >= o.vus ? steady + 1 : 0;
  }
  const readyS = (performance.now() - t0) / 1000;
  const samples: MemSample[] = [];
  for (let k = 0; k < o.samples; k++) {
    gc();
    gc();
    const m = process.memoryUsage();
    samples.push({
      rss: m.rss,
      heapTotal: m.heapTotal,
      heapUsed: m.heapUsed,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
    });
    await sleep(1000);
  }
  const iterations = (instance as { completed(): number } | null)?.completed() ?? 0;
  const resident = residentBy();
  const snapshot = o.snapshot
    ? writeHeapSnapshot(join(o.snapshot, `${o.tag}-k6-${o.vus}.heapsnapshot`))
    : null;
  stop.abort(new Error("measured"));
  const outcome = await run;
  const result: FootprintChild = {
    vus: o.vus,
    ready: steady >= 2,
    readyS,
    samples,
    iterations,
    errors: errLines,
    load: loadavg(),
    generator: (outcome.summary as { generator?: unknown } | null)?.generator,
    resident,
    snapshot,
  };
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  process.exit(0);
}

// ---- driver ---------------------------------------------------------------------------------------------

interface ChildOptions {
  warmS: number;
  samples: number;
  snapshot?: string;
}

/** One child of `tree` (a checkout holding this harness) at N VUs against `target`, its result once it has exited. */
export async function runFootprintChild(
  tree: string,
  runner: FootprintRunner,
  n: number,
  target: string,
  o: ChildOptions,
): Promise<FootprintChild> {
  const c = spawnFootprintChild(tree, runner, n, target, o);
  await c.exited;
  return c.result;
}

/**
 * One child, its result as soon as it prints it and its exit apart: the music child waits up to 5 s for its
 * aborted VUs to wind down after printing (measured: RESULT at 11.9 s, exit at 17.2 s for 1,000 VUs), time
 * the next child can spend starting (its samples come >= 9 s after its start: boot, 3 s ramp, 3 s steady).
 */
export function spawnFootprintChild(
  tree: string,
  runner: FootprintRunner,
  n: number,
  target: string,
  o: ChildOptions,
): { result: Promise<FootprintChild>; exited: Promise<void> } {
  const dir = resolve(tree);
  const common = ["--warm", String(o.warmS), "--samples", String(o.samples), "--target", target];
  const snap = o.snapshot ? ["--snapshot", resolve(o.snapshot)] : [];
  const args =
    runner === "k6"
      ? [
          join(dir, "bench/harness/footprint.ts"),
          "--child",
          "--vus",
          String(n),
          "--tag",
          basename(dir),
          ...common,
          ...snap,
        ]
      : // The music VU: vu-memory.ts's child (a worker's schedule on the main thread), its RESULT line adapted.
        [
          join(dir, "bench/harness/vu-memory.ts"),
          "--child",
          "--vu",
          "music",
          "--vus",
          String(n),
          "--tag",
          basename(dir),
          "--songs",
          "2",
          "--type",
          "2",
          "--prewarm",
          "0",
          ...common,
          ...snap,
        ];
  // 10,000 VUs hold 10,000 sockets: the soft descriptor limit is raised to the hard one (ulimit -n) first.
  const proc = spawn(
    "sh",
    [
      "-c",
      'ulimit -n "$(ulimit -Hn)"; exec "$@"',
      "sh",
      process.execPath,
      "--expose-gc",
      "--import",
      "tsx",
      ...args,
    ],
    { cwd: dir, stdio: ["ignore", "pipe", "inherit"] },
  );
  const exited = new Promise<number | null>((res) => proc.once("exit", (code) => res(code)));
  const result = new Promise<FootprintChild>((res, rej) => {
    createInterface({ input: proc.stdout! }).on("line", (l) => {
      if (!l.startsWith("RESULT ")) return;
      const r = JSON.parse(l.slice(7)) as FootprintChild & { active?: number };
      res(runner === "k6" ? r : { ...r, iterations: r.active ?? 0, generator: undefined });
    });
    exited.then((code) =>
      rej(new Error(`${tree} ${runner} N=${n}: child exited with ${code} and no result`)),
    );
  });
  // Settled either way before anyone awaits it: a child that exits without a result must not be unhandled.
  result.catch(() => {});
  return { result, exited: exited.then(() => {}) };
}

export interface Footprint {
  /** Bytes per added VU after GC, between the two N: rss, heapUsed, external. */
  rssPerVu: number;
  heapTotalPerVu: number;
  heapPerVu: number;
  externalPerVu: number;
  lo: FootprintChild;
  hi: FootprintChild;
}

const at = (c: FootprintChild, f: keyof MemSample) => median(c.samples.map((s) => s[f]));

export function slope(lo: FootprintChild, hi: FootprintChild): Footprint {
  const d = (f: keyof MemSample) => (at(hi, f) - at(lo, f)) / (hi.vus - lo.vus);
  return {
    rssPerVu: d("rss"),
    heapTotalPerVu: d("heapTotal"),
    heapPerVu: d("heapUsed"),
    externalPerVu: d("external"),
    lo,
    hi,
  };
}

/** One measurement: a child at `lo` VUs, then one at `hi`, against `target`; the slope between them. Both children have exited when it settles. */
export async function measureFootprint(
  runner: FootprintRunner,
  lo: number,
  hi: number,
  target: string,
  o: ChildOptions & { tree?: string },
): Promise<Footprint> {
  const tree = o.tree ?? fileURLToPath(new URL("../..", import.meta.url));
  const a = spawnFootprintChild(tree, runner, lo, target, o);
  const ra = await a.result;
  // The low child may still be winding down (not measuring) while the high one boots.
  const b = spawnFootprintChild(tree, runner, hi, target, o);
  try {
    return slope(ra, await b.result);
  } finally {
    await Promise.all([a.exited, b.exited]);
  }
}

async function driver(v: Record<string, string | boolean | undefined>): Promise<void> {
  const runner = v.runner as FootprintRunner;
  if (runner !== "k6" && runner !== "music") throw new Error("--runner k6|music");
  const ns = String(v.vus).split(",").map(Number);
  const trees = String(v.trees).split(",");
  const rounds = Number(v.rounds);
  const o: ChildOptions = {
    warmS: Number(v.warm),
    samples: Number(v.samples),
    ...(v.snapshot ? { snapshot: String(v.snapshot) } : {}),
  };
  const sim = await startSimulatorProcess();
  const results = new Map<string, FootprintChild[]>();
  const mb = (b: number) => (b / 1048576).toFixed(1);
  try {
    for (let r = 0; r < rounds; r++)
      for (const n of ns)
        for (const tree of trees) {
          const c = await runFootprintChild(tree, runner, n, sim.url, o);
          results.set(`${tree}|${n}`, [...(results.get(`${tree}|${n}`) ?? []), c]);
          console.log(
            `${tree} ${runner} N=${n} (${c.ready ? "ready" : "NOT READY"} after ${c.readyS.toFixed(0)} s, ${runner === "k6" ? "iterations" : "active"} ${c.iterations}, error lines ${c.errors}): rss ${mb(at(c, "rss"))} MB, heapTotal ${mb(at(c, "heapTotal"))} MB, heapUsed ${mb(at(c, "heapUsed"))} MB, external ${mb(at(c, "external"))} MB, arrayBuffers ${mb(at(c, "arrayBuffers"))} MB; load ${c.load.map((x) => x.toFixed(2)).join(" ")}${c.snapshot ? `; ${c.snapshot}` : ""}`,
          );
          if (c.generator) console.log(`  generator: ${JSON.stringify(c.generator)}`);
          if (c.resident)
            console.log(
              `  resident: malloc brk heap ${mb(c.resident.brkHeap)} MB, anonymous ${mb(c.resident.anon)} MB`,
            );
        }
  } finally {
    await sim.close();
  }
  const lo = Math.min(...ns);
  const hi = Math.max(...ns);
  console.log(
    `\n${runner} VUs, KB per added VU between N=${lo} and N=${hi} (median of ${o.samples} samples after GC, median child over ${rounds} round(s)); load average now ${loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")}`,
  );
  for (const tree of trees) {
    const pick = (n: number) => {
      const cs = results.get(`${tree}|${n}`)!;
      const rss = median(cs.map((c) => at(c, "rss")));
      return cs.find((c) => at(c, "rss") === rss) ?? cs[0]!;
    };
    const f = slope(pick(lo), pick(hi));
    console.log(
      `${tree}: rss ${(f.rssPerVu / 1024).toFixed(1)} KB/VU, heapTotal ${(f.heapTotalPerVu / 1024).toFixed(1)}, heapUsed ${(f.heapPerVu / 1024).toFixed(1)}, external ${(f.externalPerVu / 1024).toFixed(1)}`,
    );
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const { values } = parseArgs({
    options: {
      runner: { type: "string", default: "k6" },
      vus: { type: "string", default: "500,10000" },
      rounds: { type: "string", default: "1" },
      samples: { type: "string", default: "3" },
      warm: { type: "string", default: "60" },
      trees: { type: "string", default: "." },
      snapshot: { type: "string" },
      child: { type: "boolean", default: false },
      target: { type: "string" },
      tag: { type: "string", default: "" },
    },
  });
  if (values.child)
    await k6Child({
      vus: Number(values.vus),
      target: values.target!,
      warmS: Number(values.warm),
      samples: Number(values.samples),
      snapshot: values.snapshot,
      tag: values.tag!,
    });
  else await driver(values);
}
