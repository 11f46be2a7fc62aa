import { writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { parseDuration } from "../load/duration.ts";
import type { ExecutorPlan } from "../load/executors/types.ts";
import { LoadError, type LoadPlan, planLoad } from "../load/plan.ts";
import { deadlineController, epochNow, sleepUntil, unboundedController } from "../run/clock.ts";
import { nextActive, nextInactive } from "../run/schedule.ts";
import { segmentNotice } from "../segments/plan.ts";
import { SegmentError } from "../segments/segment.ts";
import { ExecutionTuple, executionTuple } from "../segments/tuple.ts";
import { bundleScript, compileScript } from "./bundle.ts";
import { EXIT, K6ConfigError, ScriptAbortedError, UnsupportedApiError } from "./errors.ts";
import { K6GeneratorWatch } from "./generator.ts";
import { Registry, type Tags } from "./metrics.ts";
import { DEFAULT_TREND_STATS, type SummaryData, summaryData, textSummary } from "./summary.ts";
import {
  evaluateK6,
  type K6Threshold,
  observeK6,
  parseK6Thresholds,
  type ThresholdOutcome,
} from "./thresholds.ts";
import { createVu, type Vu, type VuShared } from "./vu.ts";
import { ChecksBook, type ScenarioInfo, type TestControl } from "./vu-state.ts";

// `ktv k6 <script>` as a function: bundle the script once, evaluate it once for its options (VU 0's init
// context), plan the load with the executors `ktv run` uses (load/plan.ts, k6's shortcuts and scenarios), run
// setup, initialise the VUs the scenarios start with, run every scenario's VUs and arrivals on this thread
// (each VU its own evaluation of the script), then
// teardown, the thresholds and the summary (handleSummary when the script has one). Exit codes as k6's.
//
// The closed-model loop (ramping steps, ramp-down grace, shared and per-VU iteration counts) follows
// run/schedule.ts's WorkerSchedule, over k6 VUs instead of ktv's; the open model drops an arrival that finds
// no free VU at once (k6's rule; `ktv run` may wait maxStartDelay).

export interface K6RunOptions {
  script: string;
  env: Record<string, string>;
  /** CLI shortcuts: as in k6, any of them replaces the script's scenarios/stages. */
  overrides?: { vus?: number; duration?: string; iterations?: number };
  /**
   * `--execution-segment` / `--execution-segment-sequence` (or k6's K6_EXECUTION_SEGMENT[_SEQUENCE]); each
   * given one wins over the script's options.executionSegment / executionSegmentSequence, as in k6.
   */
  segment?: { segment?: string; sequence?: string };
  jsonOut?: string;
  out: { write(text: string): void; isTTY?: boolean };
  err: { write(text: string): void; isTTY?: boolean };
  signal?: AbortSignal;
  /** Called once the VUs start, with the live counters exec.instance reads (the footprint harness polls them). */
  onStart?(instance: TestControl["instance"]): void;
}

export interface K6RunOutcome {
  exitCode: number;
  summary: SummaryData | null;
  thresholds: ThresholdOutcome[];
}

/** Options this runner honours; anything else in `options` is refused by name. */
const HONOURED_OPTIONS = new Set([
  "vus",
  "duration",
  "iterations",
  "stages",
  "scenarios",
  "thresholds",
  "summaryTrendStats",
  "tags",
  "setupTimeout",
  "teardownTimeout",
  "executionSegment",
  "executionSegmentSequence",
]);
const SCENARIO_K6_ONLY = ["exec", "env", "tags"] as const;
const MAX_LOGGED_ERRORS = 20;

export async function runK6(o: K6RunOptions): Promise<K6RunOutcome> {
  const none = (exitCode: number): K6RunOutcome => ({ exitCode, summary: null, thresholds: [] });
  const say = (t: string) => o.err.write(`ktv k6: ${t}\n`);
  const scriptPath = resolve(o.script);
  const registry = new Registry();
  const book = new ChecksBook();
  const stop = unboundedController();
  const onOuterAbort = () => stop.abort(new Error("interrupted"));
  o.signal?.addEventListener("abort", onOuterAbort, { once: true });
  // Set from callbacks (iterations, the sampler): a cast keeps TypeScript from narrowing it to null here.
  let fatal = null as Error | null;
  const vus: Vu[] = [];
  let generator: K6GeneratorWatch | null = null;
  let active = 0;
  let completed = 0;
  let interrupted = 0;
  let loggedErrors = 0;
  let startTime = Date.now();
  let resolvedOptions: Record<string, unknown> = {};
  const test: TestControl = {
    abort(reason: string): never {
      throw new ScriptAbortedError(reason);
    },
    callbackError(e: unknown, where = "a callback") {
      if (e instanceof UnsupportedApiError || e instanceof ScriptAbortedError) stopWith(e);
      else if (loggedErrors++ < MAX_LOGGED_ERRORS)
        say(`${where}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    },
    get options() {
      return resolvedOptions;
    },
    get startTime() {
      return startTime;
    },
    instance: {
      vusActive: () => active,
      vusInitialized: () => vus.length,
      completed: () => completed,
      interrupted: () => interrupted,
    },
  };

  const stopWith = (e: Error) => {
    fatal ??= e;
    stop.abort(e);
  };

  try {
    let shared: VuShared;
    let plan: LoadPlan;
    let tuple = ExecutionTuple.FULL;
    let thresholds: K6Threshold[];
    let scenarioCfg: Record<string, Record<string, unknown>>;
    let trendStats = DEFAULT_TREND_STATS;
    let testTags: Tags = {};
    let first: Vu;
    try {
      const bundled = await bundleScript(scriptPath);
      shared = {
        factory: compileScript(bundled, scriptPath),
        env: o.env,
        registry,
        checks: book,
        test,
        scriptDir: dirname(scriptPath),
      };
      first = createVu(0, shared);
      const options = (first.exports.options ?? {}) as Record<string, unknown>;
      for (const k of Object.keys(options))
        if (!HONOURED_OPTIONS.has(k)) throw new UnsupportedApiError(`options.${k}`);
      const load = withOverrides(options, o.overrides ?? {});
      scenarioCfg = {};
      const forPlan: Record<string, Record<string, unknown>> = {};
      const expanded = load.scenarios as Record<string, Record<string, unknown>> | undefined;
      if (expanded && typeof expanded === "object") {
        for (const [name, c] of Object.entries(expanded)) {
          scenarioCfg[name] = c;
          const rest = { ...c };
          for (const k of SCENARIO_K6_ONLY) delete rest[k];
          forPlan[name] = rest;
        }
      }
      tuple = tupleOf(o.segment ?? {}, options);
      plan = planLoad({ ...load, ...(expanded ? { scenarios: forPlan as never } : {}) }, tuple);
      const segmented = segmentNotice(plan);
      if (segmented) say(segmented);
      for (const p of plan.scenarios) {
        const exec = (scenarioCfg[p.name]?.exec as string | undefined) ?? "default";
        if (typeof first.exports[exec] !== "function")
          throw new K6ConfigError(
            exec === "default"
              ? "the script has no default function (export default async function () {...})"
              : `options.scenarios.${p.name}.exec: the script exports no function "${exec}"`,
          );
      }
      thresholds = parseK6Thresholds(options.thresholds, registry);
      if (Array.isArray(options.summaryTrendStats)) trendStats = options.summaryTrendStats as string[];
      if (options.tags && typeof options.tags === "object") testTags = options.tags as Tags;
      resolvedOptions = { ...options, ...load };
      timeoutOf(options.setupTimeout);
      timeoutOf(options.teardownTimeout);
    } catch (e) {
      if (e instanceof LoadError || e instanceof K6ConfigError || e instanceof SegmentError) {
        say(e.message);
        return none(EXIT.invalidConfig);
      }
      if (e instanceof UnsupportedApiError) {
        say(e.message);
        return none(EXIT.scriptException);
      }
      say(`the script's init context failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      return none(EXIT.scriptException);
    }
    if (o.jsonOut) registry.openJsonOutput(o.jsonOut);

    // setup() runs in VU 0 (the one whose init gave the options); its result goes to every iteration as a copy.
    const setupFn = first.exports.setup;
    const teardownFn = first.exports.teardown;
    startTime = Date.now();
    const t0 = performance.now();
    let data: unknown;
    if (typeof setupFn === "function") {
      try {
        first.state.signal = stop.signal;
        const raw = await withTimeout(
          (setupFn as () => unknown)(),
          timeoutOf(resolvedOptions.setupTimeout),
          "setup() timed out (options.setupTimeout)",
        );
        data = raw === undefined ? undefined : JSON.parse(JSON.stringify(raw));
      } catch (e) {
        return finishEarly(e, "setup()");
      }
    }

    const vuBase = shared;
    let nextId = 1;
    const newVu = (tags: Tags): Vu => {
      const id = nextId++;
      const vu = createVu(id, vuBase, tuple.globalIndex(id - 1) + 1);
      vu.state.tags = { ...testTags, ...tags };
      vus.push(vu);
      registry.add("vus_max", vus.length, {});
      return vu;
    };

    const iterate = async (
      vu: Vu,
      sc: ScenarioInfo,
      p: ExecutorPlan,
      fnName: string,
      signal: AbortSignal,
    ): Promise<void> => {
      const s = vu.state;
      s.scenario = sc;
      s.signal = signal;
      s.group = "";
      s.iterationInInstance = sc.iterations++;
      s.iterationInTest = p.globalIteration
        ? p.globalIteration(s.iterationInInstance)
        : s.iterationInInstance;
      active++;
      const started = performance.now();
      let wasInterrupted = false;
      try {
        const fn = vu.exports[fnName] as (d: unknown) => unknown;
        const result = fn(data);
        if (result instanceof Promise) {
          await new Promise<void>((res, rej) => {
            const onStop = () => {
              wasInterrupted = true;
              res();
            };
            if (signal.aborted) return onStop();
            signal.addEventListener("abort", onStop, { once: true });
            result.then(
              () => {
                signal.removeEventListener("abort", onStop);
                res();
              },
              (e: unknown) => {
                signal.removeEventListener("abort", onStop);
                rej(e);
              },
            );
          });
        }
      } catch (e) {
        if (signal.aborted) wasInterrupted = true;
        else if (e instanceof UnsupportedApiError || e instanceof ScriptAbortedError) stopWith(e);
        else if (loggedErrors++ < MAX_LOGGED_ERRORS)
          say(`VU ${s.id} iteration ${s.iter}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      } finally {
        active--;
      }
      s.iter++;
      s.iterationInScenario++;
      if (wasInterrupted) {
        interrupted++;
        return;
      }
      completed++;
      const tags = { ...s.tags, scenario: sc.name };
      registry.add("iterations", 1, tags);
      registry.add("iteration_duration", performance.now() - started, tags);
    };

    // k6 initialises the VUs a scenario starts with before the test runs (its "init" phase: preAllocatedVUs of
    // an arrival-rate scenario, maxVUs of the others): 10,000 init contexts are not the first seconds' load,
    // which the self-watch below judges. The loop yields now and then so a signal still gets through.
    const ready = new Map<string, Vu[]>();
    for (const p of plan.scenarios) {
      const tags = (scenarioCfg[p.name]?.tags as Tags | undefined) ?? {};
      const list: Vu[] = [];
      const n = p.model === "open" ? p.preAllocatedVUs : p.maxVUs;
      for (let k = 0; k < n && !stop.signal.aborted; k++) {
        list.push(newVu(tags));
        if (k % 500 === 499) await new Promise((r) => setImmediate(r));
      }
      ready.set(p.name, list.reverse());
    }

    const runEpoch = epochNow();
    o.onStart?.(test.instance);
    generator = new K6GeneratorWatch(registry, say, runEpoch);
    const sampler = setInterval(() => {
      registry.add("vus", active, {});
      generator?.sample();
      for (const t of thresholds) {
        if (!t.abortOnFail || performance.now() - t0 < t.delayAbortEvalMs) continue;
        const observed = observeK6(t, registry, (performance.now() - t0) / 1000);
        if (observed !== null && !evaluateK6([t], registry, (performance.now() - t0) / 1000)[0]!.ok) {
          say(`threshold ${t.key} ${t.source} failed during the run (abortOnFail): stopping`);
          stopWith(new ThresholdAbort());
        }
      }
    }, 1000);
    try {
      await Promise.all(
        plan.scenarios.map((p) => {
          const cfg = scenarioCfg[p.name] ?? {};
          const sc: ScenarioInfo = {
            name: p.name,
            executor: p.executor,
            startTime: 0,
            iterations: 0,
            tags: (cfg.tags as Tags | undefined) ?? {},
          };
          const fnName = (cfg.exec as string | undefined) ?? "default";
          const initialised = ready.get(p.name) ?? [];
          const make = () => initialised.pop() ?? newVu(sc.tags);
          return p.model === "open"
            ? runOpen(
                p,
                sc,
                runEpoch,
                stop.signal,
                make,
                (vu, sig) => iterate(vu, sc, p, fnName, sig),
                registry,
              )
            : runClosed(p, sc, runEpoch, stop.signal, make, (vu, sig) => iterate(vu, sc, p, fnName, sig));
        }),
      );
    } finally {
      clearInterval(sampler);
      generator?.close();
      registry.add("vus", active, {});
    }
    // Sockets a script closed at its iteration's end are still in their close handshake.
    await Promise.all(vus.map((v) => v.settle(1000)));

    if (typeof teardownFn === "function" && !(fatal instanceof UnsupportedApiError)) {
      try {
        first.state.signal = unboundedController().signal;
        await withTimeout(
          (teardownFn as (d: unknown) => unknown)(data),
          timeoutOf(resolvedOptions.teardownTimeout),
          "teardown() timed out (options.teardownTimeout)",
        );
      } catch (e) {
        if (e instanceof UnsupportedApiError || e instanceof ScriptAbortedError || e instanceof PhaseTimeout)
          fatal ??= e;
        else say(`teardown(): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      }
    }
    const durationMs = performance.now() - t0;
    if (fatal instanceof UnsupportedApiError) {
      say(fatal.message);
      return none(EXIT.scriptException);
    }
    if (fatal instanceof PhaseTimeout) {
      say(fatal.message);
      return none(EXIT.teardownTimeout);
    }
    const verdicts = evaluateK6(thresholds, registry, durationMs / 1000);
    const summary = summaryData(registry, book, verdicts, {
      durationMs,
      segment: plan.segment,
      trendStats,
      stdoutTTY: o.out.isTTY === true,
      stderrTTY: o.err.isTTY === true,
      ...(generator ? { generator: generator.report() } : {}),
    });
    if (generator?.saturated)
      say(
        `the load generator was saturated from ${summary.generator!.saturated_from_s} s on (summary generator.reasons): latencies past that point may be the runner's, not the target's`,
      );
    await writeSummary(first, summary, verdicts);
    for (const t of verdicts)
      if (!t.ok) say(`threshold FAILED: ${t.key} ${t.source} (observed ${t.observed ?? "nothing"})`);
    let exitCode: number = EXIT.ok;
    if (verdicts.some((t) => !t.ok) || fatal instanceof ThresholdAbort) exitCode = EXIT.thresholds;
    if (fatal instanceof ScriptAbortedError) {
      say(`the script aborted the test: ${fatal.message}`);
      exitCode = EXIT.scriptAborted;
    } else if (!fatal && o.signal?.aborted) exitCode = EXIT.externalAbort;
    return { exitCode, summary, thresholds: verdicts };
  } finally {
    o.signal?.removeEventListener("abort", onOuterAbort);
    for (const v of vus) v.close();
    await registry.closeJsonOutput();
  }

  function finishEarly(e: unknown, where: string): K6RunOutcome {
    if (e instanceof PhaseTimeout) {
      say(e.message);
      return none(EXIT.setupTimeout);
    }
    if (e instanceof ScriptAbortedError) {
      say(`the script aborted the test in ${where}: ${e.message}`);
      return none(EXIT.scriptAborted);
    }
    say(`${where} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return none(EXIT.scriptException);
  }

  async function writeSummary(vu: Vu, summary: SummaryData, verdicts: ThresholdOutcome[]): Promise<void> {
    const handle = vu.exports.handleSummary;
    if (typeof handle !== "function") {
      o.out.write(textSummary(summary, verdicts));
      return;
    }
    let result: unknown;
    try {
      result = await (handle as (d: SummaryData) => unknown)(summary);
    } catch (e) {
      if (e instanceof UnsupportedApiError) throw e;
      say(
        `handleSummary() failed, printing the default summary: ${e instanceof Error ? e.message : String(e)}`,
      );
      o.out.write(textSummary(summary, verdicts));
      return;
    }
    if (result === null || typeof result !== "object") return;
    for (const [where, content] of Object.entries(result as Record<string, unknown>)) {
      const text =
        typeof content === "string"
          ? content
          : content instanceof ArrayBuffer
            ? Buffer.from(content)
            : JSON.stringify(content);
      if (where === "stdout") o.out.write(String(text));
      else if (where === "stderr") o.err.write(String(text));
      else writeFileSync(resolve(where), text);
    }
  }
}

class PhaseTimeout extends Error {
  override name = "PhaseTimeout";
}

/** k6's setupTimeout / teardownTimeout: 60 s unless the options say otherwise. */
function timeoutOf(v: unknown): number {
  const ms = v === undefined ? 60_000 : parseDuration(v);
  if (ms instanceof Error) throw new K6ConfigError(`options.setupTimeout/teardownTimeout: ${ms.message}`);
  return ms;
}

async function withTimeout<T>(p: T | Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      Promise.resolve(p),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new PhaseTimeout(message)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

class ThresholdAbort extends Error {
  override name = "ThresholdAbort";
}

/**
 * k6's rule for CLI shortcuts: --vus, --duration, --iterations replace the script's scenarios (and stages),
 * merged with the script's own shortcuts.
 */
export function withOverrides(
  options: Record<string, unknown>,
  cli: { vus?: number; duration?: string; iterations?: number },
): Record<string, unknown> {
  const load: Record<string, unknown> = {};
  for (const k of ["vus", "duration", "iterations", "stages", "scenarios"])
    if (options[k] !== undefined) load[k] = options[k];
  if (cli.vus === undefined && cli.duration === undefined && cli.iterations === undefined) return load;
  delete load.scenarios;
  delete load.stages;
  if (cli.vus !== undefined) load.vus = cli.vus;
  if (cli.duration !== undefined) load.duration = cli.duration;
  if (cli.iterations !== undefined) load.iterations = cli.iterations;
  // `--vus 2` alone on a script with `duration` keeps it; with none of them: one iteration per VU.
  return load;
}

/** The segment flags (or K6_ env) first, then the script's own options, as k6 orders them. */
function tupleOf(cli: { segment?: string; sequence?: string }, options: Record<string, unknown>) {
  const pick = (flag: string | undefined, option: string): string | undefined => {
    if (flag !== undefined) return flag;
    const v = options[option];
    if (v === undefined) return undefined;
    if (typeof v !== "string") throw new K6ConfigError(`options.${option}: must be a string such as "0:1/2"`);
    return v;
  };
  return executionTuple(
    pick(cli.segment, "executionSegment"),
    pick(cli.sequence, "executionSegmentSequence"),
  );
}

type RunIteration = (vu: Vu, signal: AbortSignal) => Promise<void>;

/**
 * Why a finished iteration's own signal is aborted (its deadline timer and parent listener go): one shared
 * reason, not a DOMException per iteration, which the VU would hold as its signal's reason until its next one.
 */
const ITERATION_OVER = new Error("the iteration is over");

async function runClosed(
  p: ExecutorPlan,
  sc: ScenarioInfo,
  runEpoch: number,
  stop: AbortSignal,
  make: () => Vu,
  iterate: RunIteration,
): Promise<void> {
  const start = runEpoch + p.startMs;
  const end = start + p.durationMs;
  const hard = deadlineController(end + p.gracefulStopMs, stop, "graceful stop is over");
  await sleepUntil(start, stop);
  sc.startTime = Date.now();
  let claimed = 0;
  const total = p.iterations && "total" in p.iterations ? p.iterations.total : null;
  const perVu = p.iterations && "perVu" in p.iterations ? p.iterations.perVu : null;
  const loop = async (j: number) => {
    const vu = make();
    vu.state.iterationInScenario = 0;
    for (let n = 0; ; n++) {
      if (hard.signal.aborted || epochNow() >= end) break;
      if (p.executor === "ramping-vus") {
        const at = nextActive(p, j, epochNow() - start);
        if (at === null) break;
        if (at > epochNow() - start) {
          await sleepUntil(start + at, hard.signal);
          if (hard.signal.aborted || epochNow() >= end) break;
        }
      }
      if (perVu !== null && n >= perVu) break;
      if (total !== null && claimed++ >= total) break;
      let iterationStop: AbortController;
      if (p.executor === "ramping-vus") {
        const off = nextInactive(p, j, epochNow() - start);
        iterationStop = deadlineController(
          off === null ? Number.POSITIVE_INFINITY : start + off + p.gracefulRampDownMs,
          hard.signal,
          "ramped down",
        );
      } else iterationStop = deadlineController(Number.POSITIVE_INFINITY, hard.signal, "");
      await iterate(vu, iterationStop.signal);
      iterationStop.abort(ITERATION_OVER);
    }
  };
  const loops: Promise<void>[] = [];
  for (let j = 0; j < p.maxVUs; j++) loops.push(loop(j));
  await Promise.all(loops);
  hard.abort();
}

async function runOpen(
  p: ExecutorPlan,
  sc: ScenarioInfo,
  runEpoch: number,
  stop: AbortSignal,
  make: () => Vu,
  iterate: RunIteration,
  registry: Registry,
): Promise<void> {
  const arrivals = p.arrivals!;
  const start = runEpoch + p.startMs;
  const end = start + p.durationMs;
  const hard = deadlineController(end + p.gracefulStopMs, stop, "graceful stop is over");
  const idle: Vu[] = [];
  for (let k = 0; k < p.preAllocatedVUs; k++) idle.push(make());
  let allocated = p.preAllocatedVUs;
  const running = new Set<Promise<void>>();
  await sleepUntil(start, stop);
  sc.startTime = Date.now();
  for (let i = 0; i < arrivals.count; i++) {
    const intended = start + arrivals.at(i);
    // Due exactly at the end still starts (k6's ramping-arrival-rate emits it: executors/ramping-arrival-rate.ts).
    if (intended > end) break;
    await sleepUntil(intended, hard.signal);
    if (hard.signal.aborted) break;
    let vu = idle.pop();
    if (!vu && allocated < p.maxVUs) {
      vu = make();
      allocated++;
    }
    if (!vu) {
      registry.add("dropped_iterations", 1, { scenario: sc.name });
      continue;
    }
    const v = vu;
    const done: Promise<void> = iterate(v, hard.signal).finally(() => {
      running.delete(done);
      idle.push(v);
    });
    running.add(done);
  }
  await Promise.all(running);
  hard.abort();
}
