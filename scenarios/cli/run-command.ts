import { join } from "node:path";
import { type Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { writeReport } from "../../reports/report/write.ts";
import { BUILT_IN, loadScenario, ScenarioLoadError } from "../library.ts";
import { parseDuration } from "../load/duration.ts";
import { writeRunK6Json } from "../merge/k6-points.ts";
import { planOf, resolveScenario, ScenarioError } from "../resolve.ts";
import { readIntervals } from "../run/intervals.ts";
import { EXIT, RunError, runScenario } from "../run/runner.ts";
import { SetupError } from "../run/song-pool.ts";
import { scaleScenario } from "../scale.ts";
import { addSegmentFlags, type SegmentFlags, tupleOfFlags } from "../segments/flags.ts";
import { segmentNotice } from "../segments/plan.ts";
import { SegmentError } from "../segments/segment.ts";

// `ktv run <scenario>`: validate and plan the scenario, run it (embedded simulator unless --target), write the
// results directory and its HTML report, print where they are. Exit codes as k6: 0 passed, 99 a threshold
// or a check (billing exact ...) failed, 105 interrupted (SIGINT/SIGTERM; the results are still complete), 2 invalid scenario or options,
// 1 the run could not happen (simulator unreachable, setup failed). A second SIGINT exits at once (130).

interface RunCliOptions extends SegmentFlags {
  target?: string;
  out?: string;
  seed: number;
  duration?: number;
  timeScale?: number;
  loadScale?: number;
  workers?: number;
  workerNice?: number;
  client?: string;
  appId?: number;
  appSign?: string;
  tokenSecret?: string;
  report: boolean;
  k6Json?: boolean;
  plan?: boolean;
  simLogLevel: string;
}

function intOption(name: string, min: number) {
  return (v: string) => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || n < min)
      throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
    return n;
  };
}

function niceOption(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || n > 19)
    throw new InvalidArgumentError("--worker-nice must be an integer in 0..19");
  return n;
}

function durationOption(v: string): number {
  const ms = parseDuration(v);
  if (ms instanceof Error || ms <= 0)
    throw new InvalidArgumentError(`expected a duration such as 30s or 2m, got "${v}"`);
  return ms;
}

function scaleOption(name: string) {
  return (v: string) => {
    const f = Number(v);
    if (!/^\d*\.?\d+$/.test(v.trim()) || !(f > 0 && f <= 1))
      throw new InvalidArgumentError(`${name} must be a number in (0, 1], e.g. 0.1`);
    return f;
  };
}

function targetOption(v: string): string {
  try {
    const u = new URL(v);
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error();
    return v.replace(/\/+$/, "");
  } catch {
    throw new InvalidArgumentError(`expected an http(s) URL, got "${v}"`);
  }
}

export function registerRunCommand(program: Command): void {
  const cmd = program
    .command("run")
    .description(
      `run a scenario (${BUILT_IN.join(", ")}, or a .ts/.json file) and write its results and HTML report`,
    )
    .argument("<scenario>", "a built-in scenario name or a scenario file")
    .option("--target <url>", "an external simulator (default: one embedded in this process)", targetOption)
    .option("--out <dir>", "results directory (default: results/<scenario>-<time>)")
    .option(
      "--seed <n>",
      "seed of the embedded simulator, the song draws and the users",
      intOption("--seed", 0),
      1,
    )
    .option(
      "--duration <d>",
      "override the length of every executor (e.g. 30s); stages scale",
      durationOption,
    )
    .option(
      "--time-scale <f>",
      "compress the scenario's whole timeline by f (0 < f <= 1): load, fault windows and TTLs, songs (scenarios/scale.ts)",
      scaleOption("--time-scale"),
    )
    .option(
      "--load-scale <f>",
      "scale VUs and arrival rates by f (0 < f <= 1), whole rooms kept (scenarios/scale.ts)",
      scaleOption("--load-scale"),
    )
    .option(
      "--workers <n>",
      "worker threads (default: every core, at most one per VU)",
      intOption("--workers", 1),
    )
    .option(
      "--worker-nice <n>",
      "lower the worker threads' scheduling priority to nice n (0-19), so an embedded simulator is not starved by its own load",
      niceOption,
    )
    .option(
      "--client <module>",
      "a module whose default export replaces the reference pipeline (conformance)",
    )
    .option(
      "--app-id <n>",
      "app id at the target (default: the simulator's development app)",
      intOption("--app-id", 1),
    )
    .option("--app-sign <hex>", "app sign at the target (64 hex chars)")
    .option(
      "--token-secret <secret>",
      "the app's 32-character server secret, for scenarios that log in by token04 (ktv.auth)",
    )
    .option("--no-report", "do not write the HTML report")
    .option(
      "--k6-json",
      "also write the run's samples as k6 JSON output (<results>/k6.json, k6's --out json= format), after the run",
    )
    .option("--plan", "print the scenario's plan and exit without running it");
  addSegmentFlags(cmd)
    .addOption(
      new Option("--sim-log-level <level>", "embedded simulator's log level (to stdout)").default("silent"),
    )
    .action(async (name: string, opts: RunCliOptions) => {
      process.exitCode = await runCommand(name, opts);
      if (process.exitCode !== 0) throw new CommanderError(process.exitCode, "ktv.run", "");
    });
}

async function runCommand(name: string, opts: RunCliOptions): Promise<number> {
  const err = (t: string) => process.stderr.write(t);
  let scenario: ReturnType<typeof resolveScenario>;
  try {
    const scaled = scaleScenario(await loadScenario(name), { time: opts.timeScale, load: opts.loadScale });
    for (const n of scaled.notices) err(`ktv run: ${n}\n`);
    const def = scaled.scenario;
    scenario = resolveScenario(def, {
      ...(opts.duration === undefined ? {} : { durationOverrideMs: opts.duration }),
      segment: tupleOfFlags(opts),
    });
  } catch (e) {
    if (e instanceof ScenarioLoadError || e instanceof ScenarioError || e instanceof SegmentError) {
      err(`ktv run: ${e.message}\n`);
      return EXIT.usage;
    }
    throw e;
  }
  for (const n of scenario.notices) err(`ktv run: ${n}\n`);
  const segmented = segmentNotice(planOf(scenario));
  if (segmented) err(`ktv run: ${segmented}\n`);
  if (opts.appSign !== undefined && !/^[0-9a-fA-F]{64}$/.test(opts.appSign)) {
    err("ktv run: --app-sign must be 64 hex characters\n");
    return EXIT.usage;
  }
  if (opts.tokenSecret !== undefined && Buffer.byteLength(opts.tokenSecret) !== 32) {
    err("ktv run: --token-secret must be the app's 32-character server secret\n");
    return EXIT.usage;
  }
  if (opts.plan) {
    const plan = planOf(scenario);
    process.stdout.write(`${JSON.stringify({ scenario: scenario.name, ...planJson(plan) }, null, 2)}\n`);
    return EXIT.ok;
  }
  const out = opts.out ?? `results/${scenario.name}-${new Date().toISOString().replace(/[:.]/g, "-")}`;
  const stop = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals > 1) process.exit(130);
    err(`\nktv run: ${sig}: stopping, writing the results (again to quit at once)\n`);
    stop.abort(new Error(`interrupted by ${sig}`));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    const outcome = await runScenario({
      scenario,
      ...(opts.target ? { target: opts.target } : {}),
      out,
      seed: opts.seed,
      ...(opts.workers ? { workers: opts.workers } : {}),
      ...(opts.workerNice ? { workerNice: opts.workerNice } : {}),
      ...(opts.appId ? { appID: opts.appId } : {}),
      ...(opts.appSign ? { appSign: opts.appSign } : {}),
      ...(opts.tokenSecret ? { tokenSecret: opts.tokenSecret } : {}),
      clientModule: opts.client ?? null,
      err: { write: err, isTTY: process.stderr.isTTY === true },
      signal: stop.signal,
      simLogLevel: opts.simLogLevel,
    });
    process.stdout.write(`results: ${outcome.dir}\n`);
    if (opts.k6Json) {
      const file = join(outcome.dir, "k6.json");
      await writeRunK6Json(file, readIntervals(outcome.dir).intervals, scenario.options.thresholds);
      process.stdout.write(`k6 JSON: ${file}\n`);
    }
    if (opts.report) {
      const written = writeReport(outcome.dir);
      process.stdout.write(`report: ${written.html}\n`);
    }
    for (const t of outcome.summary.thresholds) {
      const observed = t.observed === null ? "nothing" : String(Math.round(t.observed * 1000) / 1000);
      err(
        `ktv run: threshold ${t.ok ? "passed" : "FAILED"}: ${t.metric} ${t.expression} (observed ${observed})\n`,
      );
    }
    for (const c of outcome.summary.checks ?? []) {
      err(`ktv run: check ${c.ok ? "passed" : "FAILED"}: ${c.name}: ${c.detail}\n`);
    }
    return outcome.exitCode;
  } catch (e) {
    if (e instanceof RunError || e instanceof SetupError || (e instanceof Error && e.name === "AdminError")) {
      err(`ktv run: ${e.message}\n`);
      return EXIT.failed;
    }
    throw e;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

function planJson(plan: ReturnType<typeof planOf>) {
  return {
    execution_segment: plan.segment.segment,
    execution_segment_sequence: plan.segment.sequence,
    duration_ms: plan.durationMs,
    max_duration_ms: plan.maxDurationMs,
    max_vus: plan.maxVUs,
    scenarios: plan.scenarios.map((p) => ({
      name: p.name,
      executor: p.executor,
      model: p.model,
      description: p.description,
      start_ms: p.startMs,
      duration_ms: p.durationMs,
      graceful_stop_ms: p.gracefulStopMs,
      max_vus: p.maxVUs,
      vu_steps: p.model === "closed" ? p.vuSteps : undefined,
      iterations: p.iterations ?? undefined,
      arrivals: p.arrivals
        ? {
            count: p.arrivals.count,
            first_ms: p.arrivals.count > 0 ? p.arrivals.at(0) : null,
            last_ms: p.arrivals.count > 0 ? p.arrivals.at(p.arrivals.count - 1) : null,
          }
        : undefined,
    })),
  };
}
