import { readFileSync } from "node:fs";
import { type Command, InvalidArgumentError } from "commander";
import pino from "pino";
import { startSimulator } from "./app.ts";
import { loadAppsFile } from "./auth/apps-file.ts";
import { resolveHttpTimeouts } from "./http-timeouts.ts";
import { resolveLimits } from "./limits.ts";
import { DEFAULT_OPTIONS, DEV_APP, type SimOptions } from "./options.ts";
import { StartupLog } from "./startup-log.ts";

export function intArg(name: string, min: number, max: number) {
  return (v: string): number => {
    if (!/^-?\d+$/.test(v)) throw new InvalidArgumentError(`${name} must be an integer`);
    const n = Number(v);
    if (n < min || n > max) throw new InvalidArgumentError(`${name} must be in ${min}..${max}`);
    return n;
  };
}

/** `ktv sim`: the simulated vendor + media server in one process, until SIGINT/SIGTERM. */
export function registerSimCommand(program: Command): void {
  program
    .command("sim")
    .description("run the simulated copyrighted-music vendor (content center, resources, CDN, ledger, admin)")
    .option(
      "--port <n>",
      "port (0 picks a free one and logs it)",
      intArg("--port", 0, 65535),
      DEFAULT_OPTIONS.port,
    )
    .option("--host <addr>", "address to bind", DEFAULT_OPTIONS.host)
    .option(
      "--socket <path>",
      "also serve everything (API, CDN, media WebSocket; not /admin) on this Unix domain socket: cheaper than loopback TCP for a load generator on this machine",
    )
    .option("--seed <n>", "catalog and fault seed", intArg("--seed", 0, 2 ** 31 - 1), DEFAULT_OPTIONS.seed)
    .option(
      "--catalog-size <n>",
      "songs in the catalog",
      intArg("--catalog-size", 1, 5_000_000),
      DEFAULT_OPTIONS.catalogSize,
    )
    .option("--apps <file>", "apps.json: [{app_id, app_sign, token_secret, ...}] (default: the dev app)")
    .option("--faults <file>", "fault profile JSON to start with")
    .option(
      "--data-dir <dir>",
      "where the durable ledger lives (':memory:' for none)",
      DEFAULT_OPTIONS.dataDir,
    )
    .option(
      "--ledger-sync <mode>",
      "full (an acknowledged row survives power loss) or normal (survives a killed process; ~10x more appends/s)",
      ledgerSyncArg,
      DEFAULT_OPTIONS.ledgerSync,
    )
    .option(
      "--admin-host <addr>",
      "who may call /admin: 'loopback' (default) or 'any' (UNSAFE: anyone who can reach the port can revoke songs, expire resources and read the ledger)",
      DEFAULT_OPTIONS.adminHost,
    )
    .option(
      "--resource-ttl-ms <n>",
      "resource validity",
      intArg("--resource-ttl-ms", 1, 86_400_000),
      DEFAULT_OPTIONS.resourceTtlMs,
    )
    .option(
      "--share-ttl-ms <n>",
      "room share validity",
      intArg("--share-ttl-ms", 1, 86_400_000),
      DEFAULT_OPTIONS.shareTtlMs,
    )
    .option(
      "--cdn-bandwidth <bytesPerSec>",
      "global CDN egress cap (0 = none)",
      intArg("--cdn-bandwidth", 0, 2 ** 40),
      0,
    )
    .option(
      "--cdn-conn-bandwidth <bytesPerSec>",
      "per-connection CDN egress cap (0 = none)",
      intArg("--cdn-conn-bandwidth", 0, 2 ** 40),
      0,
    )
    .option(
      "--limits <json>",
      'caps per app and user, e.g. \'{"roomsPerUser":4,"sessionsPerApp":100000}\' (defaults and what they bound: simulator/limits.ts)',
      (v: string) => jsonKnobs("--limits", v, resolveLimits),
    )
    .option(
      "--http-timeouts <json>",
      'bounds on slow clients in ms, e.g. \'{"headersTimeoutMs":5000,"stalledReaderMs":30000}\' (defaults: simulator/http-timeouts.ts)',
      (v: string) => jsonKnobs("--http-timeouts", v, resolveHttpTimeouts),
    )
    .option("--log-level <level>", "pino level", DEFAULT_OPTIONS.logLevel)
    .option(
      "--no-fast-path",
      "answer every request through Fastify, list pages of /v1/music/extended included (the same answers, more CPU; simulator/fast-path/extended.ts)",
    )
    .action(async (o) => {
      const opts: Partial<SimOptions> = {
        port: o.port,
        host: o.host,
        socketPath: o.socket ?? null,
        seed: o.seed,
        catalogSize: o.catalogSize,
        dataDir: o.dataDir,
        ledgerSync: o.ledgerSync,
        adminHost: o.adminHost,
        resourceTtlMs: o.resourceTtlMs,
        shareTtlMs: o.shareTtlMs,
        cdnGlobalBytesPerSec: o.cdnBandwidth,
        cdnConnBytesPerSec: o.cdnConnBandwidth,
        logLevel: o.logLevel,
        fastPath: o.fastPath !== false,
      };
      if (o.faults) opts.faults = readJsonFile(o.faults, "--faults");
      if (o.limits) opts.limits = o.limits;
      if (o.httpTimeouts) opts.http = o.httpTimeouts;
      if (o.apps) opts.apps = loadAppsFile(o.apps);
      else {
        // The dev app, named here rather than left to the simulator's default: its start-up warning then goes to
        // stderr, and stdout's first line stays the {"listening":...} line that parents read.
        opts.apps = [DEV_APP];
        process.stderr.write(
          `ktv sim: no --apps given: serving the development app ${DEV_APP.app_id} (app sign ${DEV_APP.app_sign}, token secret ${DEV_APP.token_secret}); never expose this simulator beyond loopback\n`,
        );
      }
      // Through pino's own asynchronous stdout stream (what it uses by default), so request logging at info
      // level costs what it did before the start-up lines were held.
      const log = new StartupLog(pino.destination({ dest: 1, sync: false }));
      opts.logStream = log;
      const sim = await startSimulator(opts).catch((err: unknown) => {
        log.open();
        throw err;
      });
      // Machine-readable first line for parents that started us with --port 0 (tests, scenario runners).
      log.open(
        `${JSON.stringify(sim.socketPath ? { listening: sim.url, socket: sim.socketPath } : { listening: sim.url })}\n`,
      );
      let closing = false;
      const stop = (signal: string) => {
        if (closing) return;
        closing = true;
        sim.app.log.info({ signal }, "shutting down");
        sim.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.on("SIGINT", () => stop("SIGINT"));
      process.on("SIGTERM", () => stop("SIGTERM"));
    });
}

/** A JSON object of numeric knobs, checked by `resolve` (which throws naming the bad one). */
export function jsonKnobs<T>(flag: string, v: string, resolve: (partial: Partial<T>) => T): Partial<T> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch (e) {
    throw new InvalidArgumentError(`${flag} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw new InvalidArgumentError(`${flag} must be a JSON object`);
  try {
    resolve(parsed as Partial<T>);
  } catch (e) {
    throw new InvalidArgumentError(`${flag}: ${(e as Error).message}`);
  }
  return parsed as Partial<T>;
}

function ledgerSyncArg(v: string): "full" | "normal" {
  if (v !== "full" && v !== "normal") throw new InvalidArgumentError("--ledger-sync must be full or normal");
  return v;
}

export function readJsonFile(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new InvalidArgumentError(`${what}: cannot read ${path}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InvalidArgumentError(`${what}: ${path} is not valid JSON: ${(e as Error).message}`);
  }
}
