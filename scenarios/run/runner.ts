import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createAudioArena } from "../../reference/audio/shared-arena.ts";
import type { FaultEventLine, LedgerSnapshot, RunSummary } from "../../reports/format.ts";
import { DEV_APP } from "../../simulator/options.ts";
import { MetricSet } from "../metrics/set.ts";
import { planOf, type ResolvedScenario } from "../resolve.ts";
import { type Breach, ThresholdBook } from "../thresholds/evaluate.ts";
import { parseThresholds } from "../thresholds/parser.ts";
import { AdminClient, totalsOf } from "./admin.ts";
import { runBillingCheck } from "./billing-check.ts";
import { epochNow, sleepUntil } from "./clock.ts";
import { startEmbeddedSimulator } from "./embedded-simulator.ts";
import { environment } from "./environment.ts";
import { faultChecks } from "./fault-check.ts";
import { ProcessCpu, recordSample, ThreadSampler, TimerLag } from "./generator.ts";
import { IntervalsWriter } from "./intervals.ts";
import type { WorkerInit } from "./messages.ts";
import { buildMixPools, mixScenes } from "./mix.ts";
import { Progress, type ProgressOut } from "./progress.ts";
import { writeResults } from "./results.ts";
import { describeReason, GeneratorWatch } from "./saturation.ts";
import { timeseriesPoint } from "./series.ts";
import { buildSongPool } from "./song-pool.ts";
import { buildSummary } from "./summary.ts";
import { healthProbe, TargetWatch } from "./target-watch.ts";
import { TimeseriesWriter } from "./timeseries-writer.ts";
import { readVendorCounts, vendorRouteCheck, vendorRouteLines } from "./vendor-routes.ts";
import { bundleWorker } from "./worker-bundle.ts";
import { TSX_ENTRY, WorkerPool } from "./workers.ts";

// `ktv run` as a function: start (or reach) the simulator, set up the song pool and the fault profile, start
// the worker threads at one common t0, flush every interval (time series, thresholds, progress line), stop on
// the plan's end, the time limit, an abortOnFail threshold or the caller's signal (SIGINT/SIGTERM), then
// fetch the ledger and the fault events and write the results directory, complete in every case.
//
// Time is the real clock's, always: each interval ends when it was actually flushed (epochNow()), not at its
// planned boundary, so a main thread that falls behind stretches an interval instead of compressing the run;
// such intervals are counted (generator.late_intervals) and said on stderr. Every thread's health is sampled
// each second (generator.ts) and judged (saturation.ts): a saturated generator is warned about as it happens,
// and summary.json says so and withholds a capacity knee it may have caused.

/** k6's exit codes where they apply: thresholds 99, interrupted from outside 105; 1 when it could not run. */
export const EXIT = { ok: 0, failed: 1, usage: 2, thresholds: 99, interrupted: 105 } as const;

export interface RunOptions {
  scenario: ResolvedScenario;
  /** An external simulator's base URL; without it one is started in a thread of this process. */
  target?: string;
  out: string;
  seed: number;
  /** Worker threads (default: every core, at most one per VU). */
  workers?: number;
  /**
   * Nice value (0..19) the worker threads lower themselves to; default 0 (unchanged). With the simulator
   * embedded the generator's threads then yield the CPU to the target's thread (and the main thread), so the
   * target is not starved by its own load generator; a generator that cannot keep up at the lower priority
   * shows it as saturation (saturation.ts), which is the honest outcome.
   */
  workerNice?: number;
  appID?: number;
  appSign?: string;
  /**
   * The app's 32-char server secret, for scenarios that log in by token04 (`ktv.auth`). Default: the
   * development app's, when the app is the development app.
   */
  tokenSecret?: string;
  /** A module replacing the reference pipeline as the client under test. */
  clientModule?: string | null;
  /** Time series resolution (default 1 s). */
  intervalMs?: number;
  /** Where the progress line and warnings go (stderr). */
  err: ProgressOut;
  /** Aborting it ends the run early and cleanly (SIGINT/SIGTERM); its reason names why. */
  signal?: AbortSignal;
  simLogLevel?: string;
  /**
   * How the worker threads load: "bundle" (default) runs them from one JavaScript bundle built for the run
   * (worker-bundle.ts), falling back to "tsx" (compile TypeScript in each worker) if it cannot be built.
   */
  workerLoader?: "bundle" | "tsx";
  /** Test seam: called on the main thread after each interval's flush (a test blocks the thread there). */
  onInterval?: (seq: number) => void;
}

export interface RunOutcome {
  exitCode: number;
  dir: string;
  summary: RunSummary;
}

export class RunError extends Error {
  override name = "RunError";
}

const READY_TIMEOUT_MS = 60_000;
const FLUSH_TIMEOUT_MS = 2_000;
/** After the time limit, workers get this long to stop before they are terminated. */
const STOP_GRACE_MS = 10_000;
/** A /healthz probe unanswered this long counts as the target being down (a loaded live one answers in ms). */
const PROBE_TIMEOUT_MS = 3_000;
/** A target down at the end of the run is waited for this long before its ledger is read (or given up on). */
const END_WAIT_MS = 30_000;

/** The secret VUs mint token04 with: the caller's, or the development app's for the development app. */
function tokenSecretFor(o: RunOptions, appID: number): string | undefined {
  return o.tokenSecret ?? (appID === DEV_APP.app_id ? DEV_APP.token_secret : undefined);
}

export async function runScenario(o: RunOptions): Promise<RunOutcome> {
  const s = o.scenario;
  const startedAt = new Date();
  const appID = o.appID ?? DEV_APP.app_id;
  const appSign = o.appSign ?? DEV_APP.app_sign;
  const embedded = o.target === undefined;
  if (s.auth.mode === "token04" && !tokenSecretFor(o, appID)) {
    throw new RunError(
      `scenario ${s.name} logs in with token04: give the server secret of app ${appID} (ktv run --token-secret; RunOptions.tokenSecret)`,
    );
  }
  // The VUs' media over a Unix domain socket (scenario media.transport, default "unix"): see
  // simulator/local-socket.ts for what loopback TCP costs the relay per packet.
  const socketDir =
    embedded && s.media.transport === "unix" && process.platform !== "win32"
      ? mkdtempSync(join(tmpdir(), "ktv-sim-"))
      : null;
  const sim = embedded
    ? await startEmbeddedSimulator({
        // In a thread of its own, so the relay never waits behind this thread's merges.
        onCrash: (why) => o.err.write(`ktv run: ${why}\n`),
        port: 0,
        host: "127.0.0.1",
        socketPath: socketDir ? join(socketDir, "sim.sock") : null,
        seed: o.seed,
        dataDir: ":memory:",
        logLevel: o.simLogLevel ?? "silent",
        catalogSize: s.simulator.catalogSize ?? 10_000,
        // First-use costs (serializer validators, the renderer's JIT) at start-up, not on the first songs' TTFA.
        warmUp: true,
        // ktv.mix scenes must be enabled for the app (else 1017076), as a real app's contract would have them.
        ...(mixScenes(s.mix).length > 0 ? { apps: [{ ...DEV_APP, scenes: [0, ...mixScenes(s.mix)] }] } : {}),
        ...(s.simulator.resourceTtlMs ? { resourceTtlMs: s.simulator.resourceTtlMs } : {}),
        ...(s.simulator.shareTtlMs ? { shareTtlMs: s.simulator.shareTtlMs } : {}),
        ...(s.simulator.cdnGlobalBytesPerSec
          ? { cdnGlobalBytesPerSec: s.simulator.cdnGlobalBytesPerSec }
          : {}),
      }).catch((err: unknown) => {
        if (socketDir) rmSync(socketDir, { recursive: true, force: true });
        throw err;
      })
    : null;
  const target = (o.target ?? sim!.url).replace(/\/+$/, "");
  const cacheRoot = mkdtempSync(join(tmpdir(), "ktv-run-"));
  try {
    const mediaSocket = sim?.socketPath ?? null;
    const targetUtilisation = sim ? () => sim.utilisation() : null;
    const targetCpuMs = sim ? () => sim.cpuMs() : null;
    return await runAgainst(o, {
      target,
      mediaSocket,
      targetUtilisation,
      targetCpuMs,
      embedded,
      appID,
      appSign,
      startedAt,
      cacheRoot,
    });
  } finally {
    await sim?.close().catch(() => {});
    rmSync(cacheRoot, { recursive: true, force: true });
    if (socketDir) rmSync(socketDir, { recursive: true, force: true });
  }
}

interface Ctx {
  target: string;
  mediaSocket: string | null;
  /** The embedded simulator thread's ELU since the last call, or null (external target). */
  targetUtilisation: (() => number) | null;
  /** The embedded simulator thread's CPU so far, ms, or null (external target, no /proc). */
  targetCpuMs: (() => number | null) | null;
  embedded: boolean;
  appID: number;
  appSign: string;
  startedAt: Date;
  cacheRoot: string;
}

async function runAgainst(o: RunOptions, c: Ctx): Promise<RunOutcome> {
  const s = o.scenario;
  const intervalMs = o.intervalMs ?? 1000;
  const warn = (text: string) => o.err.write(`${o.err.isTTY ? "\r\x1b[2K" : ""}ktv run: ${text}\n`);
  const admin = new AdminClient(c.target);
  const plan = planOf(s);
  await admin.health().catch((err: unknown) => {
    throw new RunError(
      `cannot reach the simulator at ${c.target}: ${err instanceof Error ? err.message : err}`,
    );
  });
  const ledgerHead = c.embedded ? 0 : await admin.ledgerHead(c.appID);
  const faultSince = c.embedded ? 0 : Math.floor(Date.now());
  const prefix = c.embedded ? `k${o.seed}` : `k${o.seed}-${randomBytes(3).toString("hex")}`;
  const creds = { target: c.target, appID: c.appID, appSign: c.appSign, userID: `${prefix}-setup` };
  const songPool = await buildSongPool(s, creds);
  const mixPools = s.mix ? await buildMixPools(s, creds) : undefined;
  // After the song pools' set-up calls (made here, not counted by any client): the vendor's per-route baseline.
  const routesBefore = await readVendorCounts(c.target);
  const { thresholds } = parseThresholds(s.options.thresholds);
  let faultsTouched = false;
  const applyFaults = async (profile: unknown | null) => {
    faultsTouched = true;
    // Windows (from/until) count from when the profile is applied, i.e. from the run's timeline.
    const doc = profile === null ? null : { time_base: "profile", ...(profile as object) };
    await admin.setFaults(doc);
  };

  const workers = Math.max(1, Math.min(o.workers ?? availableParallelism(), plan.maxVUs));
  const sharedCounters: Record<string, SharedArrayBuffer> = {};
  for (const p of plan.scenarios)
    if (p.iterations && "total" in p.iterations) sharedCounters[p.name] = new SharedArrayBuffer(4);
  let entry = TSX_ENTRY;
  if ((o.workerLoader ?? "bundle") === "bundle") {
    try {
      entry = await bundleWorker(c.cacheRoot);
    } catch (err) {
      warn(
        `could not bundle the worker threads, they load through tsx: ${err instanceof Error ? err.message : err}`,
      );
    }
  }
  // One arena for the whole process: every worker's shared audio renders each song and voice once, into it.
  const audioArena = s.audio.shared ? createAudioArena() : null;
  const inits: WorkerInit[] = Array.from({ length: workers }, (_, index) => ({
    index,
    workers,
    ...(o.workerNice ? { nice: o.workerNice } : {}),
    scenario: s,
    target: c.target,
    mediaSocket: c.mediaSocket,
    appID: c.appID,
    appSign: c.appSign,
    ...(tokenSecretFor(o, c.appID) ? { tokenSecret: tokenSecretFor(o, c.appID) } : {}),
    seed: o.seed,
    prefix,
    pool: songPool,
    ...(mixPools ? { pools: mixPools } : {}),
    sharedCounters,
    ...(audioArena ? { audioArena } : {}),
    cacheRoot: c.cacheRoot,
    clientModule: o.clientModule ? resolve(o.clientModule) : null,
    bundled: entry !== TSX_ENTRY,
  }));
  const notes: { kind: string; data: unknown }[] = [];
  // Made at t0; samples from before it (none: workers sample from "start" on) would be dropped.
  let watch: GeneratorWatch | null = null;
  const saturationWarnings = (reasons: ReturnType<GeneratorWatch["addThread"]>) => {
    for (const r of reasons) {
      warn(
        `the load generator is saturated: ${describeReason(r)}; figures from then on may be the harness's`,
      );
    }
  };
  const pool = new WorkerPool(
    inits,
    {
      log: warn,
      note: (kind, data) => notes.push({ kind, data }),
      generator: (worker, samples) => {
        for (const sample of samples)
          if (watch) saturationWarnings(watch.addThread(`worker ${worker}`, sample));
      },
    },
    entry,
  );
  const timers: NodeJS.Timeout[] = [];
  let stopReason: string | null = null;
  let stoppedAt = Number.POSITIVE_INFINITY;
  let bySignal = false;
  const abortBreaches: Breach[] = [];
  const stopRun = (reason: string) => {
    if (stopReason !== null) return;
    stopReason = reason;
    stoppedAt = epochNow();
    pool.stop(reason);
  };
  let intervalsOut: IntervalsWriter | null = null;
  let timeseriesOut: TimeseriesWriter | null = null;
  const onSignal = () => {
    bySignal = true;
    stopRun(
      String(
        o.signal?.reason instanceof Error ? o.signal.reason.message : (o.signal?.reason ?? "interrupted"),
      ),
    );
  };

  try {
    if (!(await pool.ready(READY_TIMEOUT_MS)))
      throw new RunError("the worker threads did not start within 60 s");
    // Applied once the workers are ready, not before they start (seconds on a loaded machine): its windows
    // count from here, so they must line up with t0 or a short fault window passes before any user exists.
    if (s.faults.profile !== null) await applyFaults(s.faults.profile);
    const t0 = epochNow() + 100;
    intervalsOut = new IntervalsWriter(o.out, t0, intervalMs);
    timeseriesOut = new TimeseriesWriter(o.out);
    const cpu = new ProcessCpu();
    watch = new GeneratorWatch(t0, cpu.cores);
    const mainSampler = new ThreadSampler(new TimerLag());
    const targetWatch = new TargetWatch(healthProbe(c.target, PROBE_TIMEOUT_MS), t0, warn);
    const targetCpuAtStart = c.targetCpuMs?.() ?? null;
    let targetCpuLast = { t: epochNow(), ms: targetCpuAtStart };
    pool.start(t0);
    if (o.signal?.aborted) onSignal();
    else o.signal?.addEventListener("abort", onSignal, { once: true });
    for (const step of s.faults.timeline) {
      timers.push(
        setTimeout(
          () => {
            applyFaults(step.profile).catch((err: unknown) =>
              warn(`fault timeline at ${step.atMs} ms: ${String(err)}`),
            );
          },
          t0 + step.atMs - epochNow(),
        ),
      );
    }
    timers.push(setTimeout(() => stopRun("time limit reached"), t0 + s.durationMs - epochNow()));

    const book = new ThresholdBook(thresholds, intervalMs);
    const total = new MetricSet();
    // Each point goes to timeseries.ndjson as its interval closes; the writer keeps only time and VUs of it.
    const points = timeseriesOut;
    const progress = new Progress(o.err);
    const label = s.name;
    let lastVus = 0;
    let endT = t0;
    let boundary = t0 + intervalMs;
    const hardEnd = t0 + s.durationMs + STOP_GRACE_MS;
    for (let seq = 0; ; seq++) {
      const wake = new AbortController();
      void pool.whenDone(Math.max(0, boundary - epochNow())).then((done) => done && wake.abort());
      await sleepUntil(boundary, wake.signal);
      wake.abort();
      // Stopped VUs get STOP_GRACE_MS to wind down; a worker that does not is terminated with its samples.
      const over = pool.finished || epochNow() >= Math.min(hardEnd, stoppedAt + STOP_GRACE_MS);
      const { snapshots, vus } = await pool.flush(seq, FLUSH_TIMEOUT_MS);
      const interval = new MetricSet();
      for (const snap of snapshots) interval.merge(snap);
      // The interval ends now, whenever its planned boundary was.
      const startT = endT;
      endT = epochNow();
      targetWatch.tick(endT);
      // One timer turn first: a stall that just ended (e.g. while every worker finished, so the flush awaited
      // nothing) is measured only once the lag probe's overdue timer has fired.
      await new Promise((r) => setTimeout(r, 0));
      sampleMain(interval, watch, mainSampler, cpu, saturationWarnings);
      if (c.targetUtilisation) interval.record("target_elu", c.targetUtilisation());
      if (c.targetCpuMs) {
        const now = { t: epochNow(), ms: c.targetCpuMs() };
        if (now.ms !== null && targetCpuLast.ms !== null && now.t > targetCpuLast.t) {
          interval.record("target_cpu", (now.ms - targetCpuLast.ms) / (now.t - targetCpuLast.t));
        }
        targetCpuLast = now;
      }
      total.mergeSet(interval);
      intervalsOut.add(startT, endT, vus, interval);
      if (endT - startT >= 2 * intervalMs) {
        watch.lateIntervals++;
        if (watch.lateIntervals === 1) {
          warn(
            `the runner fell behind: interval ${seq + 1} covered ${((endT - startT) / 1000).toFixed(1)} s instead of ${intervalMs / 1000} s (its main thread was blocked); intervals carry the real time, summary.generator.late_intervals counts them`,
          );
        }
      }
      // The next boundary on the grid that is still ahead: after a stall the run catches up in one interval.
      boundary = t0 + (Math.floor((epochNow() - t0) / intervalMs) + 1) * intervalMs;
      if (!over || !interval.empty || points.length === 0) {
        points.add(timeseriesPoint(interval, { t: endT, elapsedS: (endT - t0) / 1000, vus }));
      }
      lastVus = vus;
      const breaches = book.onInterval(interval, total, endT - t0);
      if (breaches.length > 0 && stopReason === null) {
        abortBreaches.push(...breaches);
        const b = breaches[0]!;
        stopRun(`threshold ${b.threshold.metric.key}: ${b.threshold.source} failed (abortOnFail)`);
      }
      progress.update({ elapsedS: (endT - t0) / 1000, vus, total, label });
      o.onInterval?.(seq);
      if (over) break;
    }
    mainSampler.close();
    await targetWatch.settle(PROBE_TIMEOUT_MS);
    if (!pool.finished) warn("some workers did not stop in time: their last samples are lost");
    const late = pool.takeStash();
    if (late.length > 0) {
      // Samples that came after the last flush: one more point, so the series still adds up to the totals.
      const interval = new MetricSet();
      for (const snap of late) interval.merge(snap);
      total.mergeSet(interval);
      intervalsOut.add(endT, endT, 0, interval);
      points.add(timeseriesPoint(interval, { t: endT, elapsedS: (endT - t0) / 1000, vus: 0 }));
    }
    const targetCpuAtEnd = c.targetCpuMs?.() ?? null;
    const generator = {
      ...watch.report(),
      ...(o.workerNice ? { worker_nice: o.workerNice } : {}),
      simulator_cpu_s:
        targetCpuAtStart === null || targetCpuAtEnd === null
          ? null
          : Math.round(targetCpuAtEnd - targetCpuAtStart) / 1000,
      worker_loader: entry === TSX_ENTRY ? "tsx" : "bundle",
    } as const;
    if (watch.saturated) {
      warn(
        `the load generator was saturated from ${generator.saturated_from_s} s on (${generator.reasons.length} reason(s) in summary.json generator.reasons): latencies and any capacity knee past that point may be the harness's, not the target's`,
      );
    }
    if (watch.lateIntervals > 1) warn(`${watch.lateIntervals} intervals were flushed late (real time kept)`);
    const durationS = Math.max(0, (endT - t0) / 1000);
    progress.finish({ elapsedS: durationS, vus: lastVus, total, label });

    // The vendor's side of the story, once it answers again if it was down (a restart in progress).
    await targetWatch.waitUntilBack(END_WAIT_MS);
    let ledger: LedgerSnapshot = { rows: [], totals: totalsOf([]), next_since_id: null };
    let faultEvents: FaultEventLine[] = [];
    let faultEventsError: Error | null = null;
    let ledgerError: Error | null = null;
    try {
      ledger = await admin.ledgerSince(ledgerHead, c.appID);
    } catch (err) {
      ledgerError = err instanceof Error ? err : new Error(String(err));
      warn(`could not read the ledger: ${String(err)}`);
    }
    try {
      faultEvents = await admin.faultEvents(faultSince);
    } catch (err) {
      faultEventsError = err instanceof Error ? err : new Error(String(err));
      warn(`could not read the fault events: ${String(err)}`);
    }
    if (faultsTouched && !c.embedded) await admin.setFaults(null).catch(() => {});

    const checks = [
      runBillingCheck(total, s.resource, ledgerError ?? ledger, prefix, { mixed: s.mix !== null }),
    ];
    const vendorRoutes = vendorRouteLines(total, durationS);
    checks.push(
      vendorRouteCheck(vendorRoutes, routesBefore, await readVendorCounts(c.target), {
        exclusive: c.embedded && pool.finished,
        ownClient: Boolean(o.clientModule),
        targetOutage: targetWatch.hadOutage,
      }),
    );
    // Did the faults fire and the recovery rules run (fault-check.ts)?
    checks.push(...faultChecks(s.expect, faultEventsError ?? { events: faultEvents }, total));
    const env = environment({
      seed: o.seed,
      startedAt: c.startedAt,
      target: c.target,
      mediaSocket: c.mediaSocket,
      workers,
      embedded: c.embedded,
    });
    const summary = buildSummary({
      scenario: s,
      total,
      points: points.load,
      thresholds: book.final(total, durationS),
      aborts: abortBreaches,
      ledger,
      t0,
      endT,
      stopReason,
      environment: env,
      notes,
      generator,
      checks,
    });
    summary.vendor_routes = vendorRoutes;
    summary.target = targetWatch.report();
    intervalsOut.close();
    intervalsOut = null;
    points.close();
    writeResults(o.out, { summary, timeseries: null, ledger, faultEvents, environment: env });
    const exitCode = bySignal
      ? EXIT.interrupted
      : summary.thresholds.some((t) => !t.ok) || checks.some((ch) => !ch.ok)
        ? EXIT.thresholds
        : EXIT.ok;
    return { exitCode, dir: resolve(o.out), summary };
  } finally {
    intervalsOut?.close();
    timeseriesOut?.close();
    for (const t of timers) clearTimeout(t);
    o.signal?.removeEventListener("abort", onSignal);
    await pool.terminate();
  }
}

/** The main thread's own health and the process's CPU over the interval just ended, into its metrics. */
function sampleMain(
  interval: MetricSet,
  watch: GeneratorWatch,
  sampler: ThreadSampler,
  cpu: ProcessCpu,
  warn: (reasons: ReturnType<GeneratorWatch["addThread"]>) => void,
): void {
  const s = sampler.sample();
  recordSample(interval, s, true);
  warn(watch.addThread("main", s));
  const c = cpu.sample();
  interval.record("generator_cpu", c.share);
  warn(watch.addProcess(c.t, c.spanMs, c.share));
}
