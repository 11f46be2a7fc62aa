// Servers and load for the HTTP races, shared by server-vs-node-http.ts and the bench runner's cases
// (bench/cases/http.ts): a server in its own process (the simulator, bare node:http, optionally pinned to
// CPUs), a session on the simulator, and the closed-loop JS load generator (load.ts) in a process of its own.

import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { findOnPath } from "../runner/peers.ts";

const here = fileURLToPath(new URL(".", import.meta.url));
export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
export const DEV_APP = { "x-app-id": "1000000001", "x-app-sign": "0123456789abcdef".repeat(4) };

export interface Started {
  url: string;
  child: ChildProcess;
  /** SIGTERM, then SIGKILL after 5 s; resolves when the process is gone. */
  stop(): Promise<void>;
}

/**
 * `argv` run in its own process from the repository root (`node --import tsx ...` unless `bin` is given),
 * resolved on the `{"listening":URL}` line of its stdout. `cpus` ("0", "1", "0-1") pins it with taskset when
 * taskset exists.
 */
export function startServer(
  args: string[],
  env: Record<string, string> = {},
  opts: { cpus?: string; cwd?: string } = {},
): Promise<Started> {
  const node = [process.execPath, "--import", "tsx", ...args];
  const cmd = opts.cpus && findOnPath("taskset") ? ["taskset", "-c", opts.cpus, ...node] : node;
  const child = spawn(cmd[0]!, cmd.slice(1), {
    cwd: opts.cwd ?? repoRoot,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  // Kept for the error when it fails to start; the simulator's start-up warning (dev app) is not news here.
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-2000);
  });
  return new Promise((resolve, reject) => {
    let buf = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${args.join(" ")} did not start in 60 s`));
    }, 60_000);
    child.stdout!.on("data", (c: Buffer) => {
      buf += c.toString();
      const m = /\{"listening":"([^"]+)"/.exec(buf);
      if (m?.[1]) {
        clearTimeout(timer);
        child.stdout!.removeAllListeners("data");
        child.stdout!.resume();
        resolve({ url: m[1], child, stop: () => stopChild(child) });
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(" ")} exited with ${code}: ${stderr.slice(-500)}`));
    });
  });
}

export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), 5000);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/**
 * The simulator on a free loopback port, in-memory ledger, quiet log. `cwd` runs another checkout's simulator
 * (a before/after race of two trees in one session).
 */
export function startSimulator(opts: { cpus?: string; cwd?: string } = {}): Promise<Started> {
  return startServer(
    ["scenarios/cli/ktv.ts", "sim", "--port", "0", "--data-dir", ":memory:", "--log-level", "warn"],
    {},
    opts,
  );
}

/** The bare node:http reference answering `body` (bare-server.ts). */
export function startBareServer(body: string, opts: { cpus?: string } = {}): Promise<Started> {
  return startServer([`${here}bare-server.ts`], { KTV_BENCH_BODY: body }, opts);
}

/** A session of the development app: the headers every music call carries. */
export async function openSession(url: string, user = "bench"): Promise<Record<string, string>> {
  const init = await fetch(`${url}/v1/music/init`, {
    method: "POST",
    headers: { ...DEV_APP, "content-type": "application/json" },
    body: JSON.stringify({ user_id: user }),
  });
  const json = (await init.json()) as { code: number; data?: { session?: string } };
  if (json.code !== 0 || !json.data?.session) throw new Error(`init failed: ${JSON.stringify(json)}`);
  return { ...DEV_APP, "x-session": json.data.session };
}

export interface LoadSpec {
  url: string;
  path: string;
  method: "GET" | "POST";
  body?: unknown;
  headers: Record<string, string>;
  connections: number;
  seconds: number;
  /** Pin the load generator (wrk only). */
  cpus?: string;
  /** Offered requests/s (wrk only: paced, see wrk.ts); absent = closed loop. */
  rate?: number;
}

export interface LoadResult {
  rps: number;
  p50_us: number;
  p99_us: number;
  non200: number;
}

/** Closed-loop load from load.ts (undici) in its own process. */
export function runJsLoad(s: LoadSpec): Promise<LoadResult> {
  return new Promise<LoadResult>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        `${here}load.ts`,
        s.url,
        s.path,
        s.method,
        s.body === undefined ? "-" : JSON.stringify(s.body),
        JSON.stringify(s.headers),
        String(s.connections),
        String(s.seconds),
      ],
      { cwd: repoRoot, stdio: ["ignore", "pipe", "inherit"] },
    );
    let out = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
    });
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`load exited ${code}`));
      try {
        resolve(JSON.parse(out) as LoadResult);
      } catch {
        reject(new Error(`load printed no result: ${out.slice(0, 200)}`));
      }
    });
  });
}
