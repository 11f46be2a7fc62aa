// A measurement, run by hand: memory per VU of a `ktv run` worker, beyond its fixed base (issue 10's target:
// <= 300 KB per pipeline VU). One child process per (tree, N) runs N VUs of a rooms-250-shaped scenario (memory
// cache, shared audio, 8 voice profiles, Opus pre-encoded, clips) exactly as a worker thread does (the worker's
// WorkerSchedule, MetricSet, thread ticker drain and route meter, drained every second), but on its main
// thread, so that process.memoryUsage() and a heap snapshot see the VUs' own isolate. The simulator is a separate
// process, started once and shared by every child, so none of its memory is counted.
//
// Each child (after --prewarm P VUs alone for 12 s: a worker that has been running, whose first VUs downloaded
// the songs already) ramps to N in 3 s, waits until every VU is publishing or listening (at most `--warm` seconds),
// then takes `--samples` samples 1 s apart, each after two forced GCs: rss, heapUsed, external, arrayBuffers.
// The slope between the smallest and the largest N (medians of the samples) is the cost per added VU; the
// children are run interleaved (N by N, tree by tree) so a load change on the shared machine hits every case.
// `--trees a,b` runs the same measurement from several checkouts (before/after in one session: copy this file
// into the other tree first).
//
//   npx tsx bench/harness/vu-memory.ts [--vus 100,300,500] [--vu pipeline|music] [--warm 30] [--samples 5]
//                                      [--trees .,/path/to/main] [--rounds 1] [--songs 2] [--type 2] [--prewarm 0]
//                                      [--snapshot dir]
//
// --snapshot dir: each child also writes a heap snapshot (v8.writeHeapSnapshot) after its samples, named
// <tree>-<N>.heapsnapshot; bench/harness/heap-diff.ts compares two of them by constructor.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { writeHeapSnapshot } from "node:v8";
import { startSimulatorProcess } from "./sim-process.ts";

const { values } = parseArgs({
  options: {
    vus: { type: "string", default: "100,300,500" },
    vu: { type: "string", default: "pipeline" },
    warm: { type: "string", default: "30" },
    samples: { type: "string", default: "5" },
    trees: { type: "string", default: "." },
    snapshot: { type: "string" },
    rounds: { type: "string", default: "1" },
    songs: { type: "string", default: "2" },
    type: { type: "string", default: "2" },
    prewarm: { type: "string", default: "0" },
    // Child mode (internal).
    child: { type: "boolean", default: false },
    target: { type: "string" },
    socket: { type: "string" },
    tag: { type: "string", default: "" },
  },
});

/** How long the --prewarm VUs run alone, s. */
const PREWARM_S = 12;

interface Sample {
  rss: number;
  /**
   * RSS less the shared audio arena's used bytes: renderings of (song, voice profile) pairs are the fixed base
   * (bounded by the song pool and the profiles), but how many pairs N VUs have met grows with N until all have.
   */
  rssLessArena: number;
  arena: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

interface ChildResult {
  vus: number;
  active: number;
  samples: Sample[];
  load: number[];
  /** Publish frames and received packets in the last second before the snapshot. */
  frames: number;
  heard: number;
  /** Seconds from the start to the samples (the ramp and the wait for every VU to be under way). */
  readyS: number;
  /** Largest rss and external while the VUs started (sampled every 250 ms, no forced GC). */
  peak: { rss: number; external: number };
  /** Whether every VU was under way by then (else the samples include VUs still logging in or downloading). */
  ready: boolean;
  errors: number;
  snapshot: string | null;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

// ---- child: N VUs on this thread ----------------------------------------------------------------------

async function child(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("run the child with --expose-gc");
  const n = Number(values.vus);
  const vu = values.vu as "pipeline" | "music";
  // Imported here: the driver process needs none of it, and each tree's child loads its own tree's code.
  const { defineScenario } = await import("../../scenarios/format.ts");
  const { resolveScenario } = await import("../../scenarios/resolve.ts");
  const { buildSongPool } = await import("../../scenarios/run/song-pool.ts");
  const { WorkerSchedule } = await import("../../scenarios/run/schedule.ts");
  const { unboundedController } = await import("../../scenarios/run/clock.ts");
  const { tickerSink } = await import("../../scenarios/run/ticker-metrics.ts");
  const { MetricSet } = await import("../../scenarios/metrics/set.ts");
  const { VendorRouteMeter } = await import("../../scenarios/metrics/vendor-routes.ts");
  const { VU_KINDS } = await import("../../scenarios/vu/index.ts");
  const { runPipeline } = await import("../../reference/pipeline/run.ts");
  const { threadTicker } = await import("../../reference/mixer/ticker.ts");
  const { observeVendorAttempts } = await import("../../reference/music/transport.ts");
  const { AudioArena, createAudioArena, useProcessAudio } = await import("../../reference/audio/index.ts");
  const { DEV_APP } = await import("../../simulator/options.ts");

  const warmS = Number(values.warm);
  const sampleCount = Number(values.samples);
  // No VU ends its first iteration before the samples are taken (a clip, rooms-250's type 2, is ~40 s: its
  // singer stops at its end; --type 1 has minutes-long songs, heavier downloads): every VU is in the same state
  // (publishing or listening), none between iterations.
  const holdS = 3 + warmS + sampleCount + 60;
  // A worker that has been running: its first VUs have downloaded the songs before the rest start (in a
  // rooms-250 run every iteration after a worker's first few meets songs it holds already).
  const prewarm = Math.min(n, Number(values.prewarm));
  const scenario = resolveScenario(
    defineScenario({
      name: "vu-memory",
      description: "rooms-250's shape at N VUs, held",
      options: {
        scenarios: {
          rooms: {
            executor: "ramping-vus",
            startVUs: 0,
            stages: [
              ...(prewarm > 0
                ? [
                    { duration: "1s", target: prewarm },
                    { duration: `${PREWARM_S}s`, target: prewarm },
                  ]
                : []),
              { duration: "3s", target: n },
              { duration: `${holdS}s`, target: n },
            ],
            gracefulRampDown: "1s",
            gracefulStop: "1s",
          },
        },
      },
      ktv: {
        vu,
        population: { usersPerRoom: 4, singersPerRoom: 1 },
        // A pool small enough that every N plays every song: the renderings (one per song and voice profile,
        // the fixed base) are the same at every N, and the slope is the VUs' own.
        songs: { charts: ["8888", "6666"], zipf: 1, poolSize: Number(values.songs), searchMix: 0.2 },
        shareRatio: 0.8,
        // The music VU has no media and downloads to disk (a memory cache and shared audio are the pipeline's).
        ...(vu === "pipeline"
          ? {
              cache: "memory" as const,
              audio: { shared: true, voiceProfiles: 8 },
              media: { codec: "opus-preencoded" as const },
            }
          : {}),
        resource: { type: Number(values.type), quality: 0 },
        singSeconds: holdS,
      },
    }),
  );
  const target = values.target!;
  const creds = { target, appID: DEV_APP.app_id, appSign: DEV_APP.app_sign, userID: "vu-memory-setup" };
  const pool = await buildSongPool(scenario, creds);
  const arena = createAudioArena();
  useProcessAudio(arena);
  const arenaView = new AudioArena(arena);
  const cacheRoot = mkdtempSync(join(tmpdir(), "ktv-vu-memory-"));
  const metrics = new MetricSet();
  const stop = unboundedController();
  const schedule = new WorkerSchedule(
    {
      index: 0,
      workers: 1,
      scenario,
      target,
      mediaSocket: values.socket ?? null,
      appID: DEV_APP.app_id,
      appSign: DEV_APP.app_sign,
      seed: 1,
      prefix: `m${process.pid}`,
      pool,
      sharedCounters: {},
      audioArena: arena,
      cacheRoot,
      clientModule: null,
    },
    metrics,
    VU_KINDS[vu],
    stop.signal,
    runPipeline,
    { log: (t) => process.stderr.write(`${t}\n`), note: () => {} },
  );
  // What worker.ts does once a second: drain the thread's mixer frames and vendor routes into the metrics,
  // and the metrics into a snapshot (posted to the runner there; dropped here).
  const mixSink = tickerSink(metrics);
  const routes = new VendorRouteMeter();
  observeVendorAttempts(routes.record);
  let errors = 0;
  // The last second's publish frames and received packets: that every singer publishes and every listener hears.
  let frames = 0;
  let heard = 0;
  const flush = setInterval(() => {
    threadTicker().drainTo(mixSink);
    routes.drainTo(metrics);
    const s = metrics.drain();
    frames = s.counters.mix_frames ?? 0;
    const e2e = s.trends.e2e_latency_ms;
    heard = 0;
    for (let i = 1; e2e && i < e2e.length; i += 2) heard += e2e[i]!;
    for (const c of Object.values(s.errorsByCode)) errors += c;
  }, 1000);
  const done = schedule.run(Date.now());
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  // Ready when every VU is active, every singer's device is on the thread's ticker and listeners hear packets,
  // for 3 s in a row, at most `warm` seconds: then no VU is still logging in or downloading. (Not by frame
  // rate: a loaded machine's thread runs fewer frames per second than its devices want, all of them started.)
  const singers = vu === "pipeline" ? Math.ceil(n / 4) : 0;
  const t0 = performance.now();
  let steady = 0;
  // The peak while the VUs start (no forced GC): what `ktv run`'s max RSS sees.
  const peak = { rss: 0, external: 0 };
  const watchPeak = setInterval(() => {
    const m = process.memoryUsage();
    peak.rss = Math.max(peak.rss, m.rss);
    peak.external = Math.max(peak.external, m.external);
  }, 250);
  await sleep(3000 + (prewarm > 0 ? (1 + PREWARM_S) * 1000 : 0));
  while (performance.now() - t0 < (3 + warmS + (prewarm > 0 ? 1 + PREWARM_S : 0)) * 1000 && steady < 3) {
    await sleep(1000);
    const under = schedule.activeVus === n && threadTicker().size >= singers && (singers === 0 || heard > 0);
    steady = under ? steady + 1 : 0;
  }
  clearInterval(watchPeak);
  const readyS = (performance.now() - t0) / 1000;
  const ready = steady >= 3;
  const samples: Sample[] = [];
  for (let i = 0; i < sampleCount; i++) {
    gc();
    gc();
    const m = process.memoryUsage();
    const used = arenaView.usedBytes;
    samples.push({
      rss: m.rss,
      rssLessArena: m.rss - used,
      arena: used,
      heapTotal: m.heapTotal,
      heapUsed: m.heapUsed,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
    });
    await sleep(1000);
  }
  const active = schedule.activeVus;
  let snapshot: string | null = null;
  if (values.snapshot) {
    snapshot = writeHeapSnapshot(join(values.snapshot, `${values.tag}-${n}.heapsnapshot`));
  }
  const out: ChildResult = {
    vus: n,
    active,
    samples,
    load: loadavg(),
    readyS,
    ready,
    peak,
    frames,
    heard,
    errors,
    snapshot,
  };
  process.stdout.write(`RESULT ${JSON.stringify(out)}\n`);
  stop.abort(new Error("measured"));
  clearInterval(flush);
  await Promise.race([done, sleep(5000)]);
  rmSync(cacheRoot, { recursive: true, force: true });
  process.exit(0);
}

// ---- driver: the simulator once, a child per (round, N, tree) -----------------------------------------------

function runChild(
  tree: string,
  n: number,
  sim: { url: string; socket: string | null },
): Promise<ChildResult> {
  const dir = resolve(tree);
  const args = [
    "--expose-gc",
    "--import",
    "tsx",
    join(dir, "bench/harness/vu-memory.ts"),
    "--child",
    "--vus",
    String(n),
    "--vu",
    values.vu!,
    "--warm",
    values.warm!,
    "--samples",
    values.samples!,
    "--songs",
    values.songs!,
    "--type",
    values.type!,
    "--prewarm",
    values.prewarm!,
    "--target",
    sim.url,
    ...(sim.socket ? ["--socket", sim.socket] : []),
    "--tag",
    basename(dir),
    ...(values.snapshot ? ["--snapshot", resolve(values.snapshot)] : []),
  ];
  const proc = spawn(process.execPath, args, { cwd: dir, stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((res, rej) => {
    let result: ChildResult | null = null;
    createInterface({ input: proc.stdout! }).on("line", (l) => {
      if (l.startsWith("RESULT ")) result = JSON.parse(l.slice(7)) as ChildResult;
    });
    proc.once("exit", (code) =>
      result ? res(result) : rej(new Error(`${tree} N=${n}: child exited with ${code} and no result`)),
    );
  });
}

/** The children whose VUs were all under way when sampled; all of them (and a warning) when none was. */
function readyOnly(rs: ChildResult[]): ChildResult[] {
  const ok = rs.filter((r) => r.ready);
  if (ok.length > 0) return ok;
  console.log(
    `warning: N=${rs[0]!.vus}: no child had every VU under way; its figures include VUs still starting`,
  );
  return rs;
}

async function driver(): Promise<void> {
  const ns = values.vus!.split(",").map(Number);
  const trees = values.trees!.split(",");
  const rounds = Number(values.rounds);
  const dir = mkdtempSync(join(tmpdir(), "ktv-vu-memory-sim-"));
  const sim = await startSimulatorProcess({ socket: join(dir, "sim.sock") });
  const results = new Map<string, ChildResult[]>();
  const kb = (b: number) => b / 1024;
  try {
    for (let r = 0; r < rounds; r++) {
      for (const n of ns) {
        for (const tree of trees) {
          const res = await runChild(tree, n, sim);
          const key = `${tree}|${n}`;
          results.set(key, [...(results.get(key) ?? []), res]);
          const m = (f: keyof Sample) => median(res.samples.map((s) => s[f])) / 1048576;
          console.log(
            `${tree} N=${n} (${res.ready ? "ready" : "NOT READY"}, active ${res.active} after ${res.readyS.toFixed(0)} s, frames/s ${res.frames}, packets heard/s ${res.heard}, errors ${res.errors}): rss ${m("rss").toFixed(1)} MB (arena ${m("arena").toFixed(1)}), heapTotal ${m("heapTotal").toFixed(1)} MB, heapUsed ${m("heapUsed").toFixed(1)} MB, external ${m("external").toFixed(1)} MB, arrayBuffers ${m("arrayBuffers").toFixed(1)} MB; while starting: peak rss ${(res.peak.rss / 1048576).toFixed(1)} MB, peak external ${(res.peak.external / 1048576).toFixed(1)} MB; load ${res.load.map((x) => x.toFixed(2)).join(" ")}${res.snapshot ? `; ${res.snapshot}` : ""}`,
          );
        }
      }
    }
  } finally {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const lo = Math.min(...ns);
  const hi = Math.max(...ns);
  console.log(
    `\n${values.vu} VUs, KB per added VU between N=${lo} and N=${hi} (median of ${values.samples} samples after GC, medians over ${rounds} round(s)); load average now ${loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")}`,
  );
  for (const tree of trees) {
    const at = (n: number, f: keyof Sample) =>
      median(readyOnly(results.get(`${tree}|${n}`)!).map((r) => median(r.samples.map((s) => s[f]))));
    const slope = (f: keyof Sample) => kb((at(hi, f) - at(lo, f)) / (hi - lo)).toFixed(0);
    const peakAt = (n: number, f: "rss" | "external") =>
      median(readyOnly(results.get(`${tree}|${n}`)!).map((r) => r.peak[f]));
    const peakSlope = (f: "rss" | "external") => kb((peakAt(hi, f) - peakAt(lo, f)) / (hi - lo)).toFixed(0);
    console.log(
      `${tree}: peak while starting: rss ${peakSlope("rss")} KB/VU, external ${peakSlope("external")}; after GC: rss ${slope("rss")} KB/VU, rss less the audio arena ${slope("rssLessArena")}, heapTotal ${slope("heapTotal")}, heapUsed ${slope("heapUsed")}, external ${slope("external")}, arrayBuffers ${slope("arrayBuffers")}`,
    );
  }
}

if (values.child) await child();
else await driver();
