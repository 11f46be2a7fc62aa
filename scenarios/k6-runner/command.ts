import { spawn, spawnSync } from "node:child_process";
import { type Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { startEmbeddedSimulator } from "../run/embedded-simulator.ts";
import { addSegmentFlags, type SegmentFlags } from "../segments/flags.ts";
import { EXIT } from "./errors.ts";
import { runK6 } from "./run.ts";

// `ktv k6 <script>`: a k6 script against the embedded simulator (or --target), under this project's runner
// (run.ts) or, with --engine k6, under a real k6 found on PATH (not a dependency of this project: its Go module
// is AGPL), which gets the same arguments. The target reaches the script as __ENV.KTV_TARGET, as a user would
// pass it to k6 with -e.

interface K6CliOptions extends SegmentFlags {
  target?: string;
  vus?: number;
  duration?: string;
  iterations?: number;
  out?: string[];
  env: string[];
  engine: "auto" | "node" | "k6";
  simLogLevel: string;
}

function positiveInt(name: string) {
  return (v: string) => {
    if (!/^\d+$/.test(v.trim()) || Number(v) < 1)
      throw new InvalidArgumentError(`${name} must be an integer >= 1`);
    return Number(v);
  };
}

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

export function registerK6Command(program: Command): void {
  const cmd = program
    .command("k6")
    .description(
      "run a k6 script (scenarios/k6/*.ts) with ktv's k6-compatible runner, or a real k6 with --engine k6",
    )
    .argument("<script>", "the k6 script (.ts or .js)")
    .option(
      "--target <url>",
      "the system under test (default: an embedded simulator); the script reads __ENV.KTV_TARGET",
    )
    .option("-u, --vus <n>", "VUs (replaces the script's scenarios, as in k6)", positiveInt("--vus"))
    .option("-d, --duration <d>", "test duration, e.g. 30s (replaces the script's scenarios)")
    .option(
      "-i, --iterations <n>",
      "total iterations (replaces the script's scenarios)",
      positiveInt("--iterations"),
    )
    .option("-o, --out <output>", "json=<file>: k6's NDJSON metric output (repeatable)", collect, [])
    .option("-e, --env <KEY=VALUE>", "an __ENV variable (repeatable)", collect, []);
  addSegmentFlags(cmd)
    .addOption(
      new Option("--engine <engine>", "node: ktv's runner; k6: a real k6 from PATH; auto: k6 if on PATH")
        .choices(["auto", "node", "k6"])
        .default("node"),
    )
    .addOption(new Option("--sim-log-level <level>", "embedded simulator's log level").default("silent"))
    .action(async (script: string, opts: K6CliOptions) => {
      process.exitCode = await k6Command(script, opts);
      if (process.exitCode !== 0) throw new CommanderError(process.exitCode, "ktv.k6", "");
    });
}

function k6OnPath(): boolean {
  const r = spawnSync("k6", ["version"], { stdio: "ignore" });
  return r.error === undefined && r.status === 0;
}

async function k6Command(script: string, opts: K6CliOptions): Promise<number> {
  const err = (t: string) => process.stderr.write(t);
  const env: Record<string, string> = {};
  for (const kv of opts.env) {
    const i = kv.indexOf("=");
    if (i <= 0) {
      err(`ktv k6: --env ${kv}: expected KEY=VALUE\n`);
      return 2;
    }
    env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  let jsonOut: string | undefined;
  for (const o of opts.out ?? []) {
    if (!o.startsWith("json=") || o.length <= 5) {
      err(`ktv k6: --out ${o}: only json=<file> is supported\n`);
      return 2;
    }
    jsonOut = o.slice(5);
  }
  const engine = opts.engine === "auto" ? (k6OnPath() ? "k6" : "node") : opts.engine;
  if (engine === "k6" && !k6OnPath()) {
    err(
      "ktv k6: --engine k6: no k6 on PATH (install it yourself: https://grafana.com/docs/k6/latest/set-up/install-k6/; it is not a dependency of this project)\n",
    );
    return EXIT.failed;
  }
  const sim =
    opts.target || env.KTV_TARGET
      ? null
      : await startEmbeddedSimulator({
          onCrash: (why) => err(`ktv k6: ${why}\n`),
          port: 0,
          host: "127.0.0.1",
          seed: 1,
          dataDir: ":memory:",
          logLevel: opts.simLogLevel,
        }).catch((e: unknown) => {
          err(`ktv k6: ${e instanceof Error ? e.message : String(e)}\n`);
          return undefined;
        });
  if (sim === undefined) return EXIT.failed;
  env.KTV_TARGET ??= (opts.target ?? sim!.url).replace(/\/+$/, "");
  const stop = new AbortController();
  const onSignal = () => stop.abort(new Error("interrupted"));
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    if (engine === "k6") return await spawnK6(script, env, opts, stop.signal);
    const outcome = await runK6({
      script,
      env: { ...processEnvStrings(), ...env },
      overrides: {
        ...(opts.vus !== undefined ? { vus: opts.vus } : {}),
        ...(opts.duration !== undefined ? { duration: opts.duration } : {}),
        ...(opts.iterations !== undefined ? { iterations: opts.iterations } : {}),
      },
      segment: segmentOf(opts),
      ...(jsonOut ? { jsonOut } : {}),
      out: { write: (t) => process.stdout.write(t), isTTY: process.stdout.isTTY === true },
      err: { write: err, isTTY: process.stderr.isTTY === true },
      signal: stop.signal,
    });
    return outcome.exitCode;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await sim?.close().catch((e: unknown) => err(`ktv k6: ${e instanceof Error ? e.message : String(e)}\n`));
  }
}

/** The flags, else k6's K6_EXECUTION_SEGMENT[_SEQUENCE] environment variables, as k6 reads them. */
function segmentOf(opts: K6CliOptions): { segment?: string; sequence?: string } {
  const segment = opts.executionSegment ?? process.env.K6_EXECUTION_SEGMENT;
  const sequence = opts.executionSegmentSequence ?? process.env.K6_EXECUTION_SEGMENT_SEQUENCE;
  return { ...(segment !== undefined ? { segment } : {}), ...(sequence !== undefined ? { sequence } : {}) };
}

/** k6 exposes the process environment in __ENV (unless --include-system-env-vars=false). */
function processEnvStrings(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) out[k] = v;
  return out;
}

function spawnK6(
  script: string,
  env: Record<string, string>,
  opts: K6CliOptions,
  signal: AbortSignal,
): Promise<number> {
  const args = ["run", script];
  for (const [k, v] of Object.entries(env)) args.push("-e", `${k}=${v}`);
  if (opts.vus !== undefined) args.push("--vus", String(opts.vus));
  if (opts.duration !== undefined) args.push("--duration", opts.duration);
  if (opts.iterations !== undefined) args.push("--iterations", String(opts.iterations));
  if (opts.executionSegment !== undefined) args.push("--execution-segment", opts.executionSegment);
  if (opts.executionSegmentSequence !== undefined)
    args.push("--execution-segment-sequence", opts.executionSegmentSequence);
  for (const o of opts.out ?? []) args.push("--out", o);
  return new Promise((resolve) => {
    const child = spawn("k6", args, { stdio: "inherit" });
    const kill = () => child.kill("SIGINT");
    signal.addEventListener("abort", kill, { once: true });
    child.on("error", (e) => {
      process.stderr.write(`ktv k6: could not start k6: ${e.message}\n`);
      resolve(EXIT.failed);
    });
    child.on("exit", (code, sig) => {
      signal.removeEventListener("abort", kill);
      resolve(code ?? (sig ? 128 + 2 : 1));
    });
  });
}
