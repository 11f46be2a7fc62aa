// Closed-loop load from wrk (a native load generator, so the load does not starve on the same cores as the
// JS one does on cheap calls). A Lua script sets the method, body and headers and prints one JSON line from
// wrk's own summary and latency histogram, so nothing is scraped from its human-readable output.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findOnPath } from "../runner/peers.ts";
import type { LoadResult, LoadSpec } from "./servers.ts";

/** A Lua long string that cannot be closed by the text it holds. */
function luaString(text: string): string {
  let eq = "";
  while (text.includes(`]${eq}]`)) eq += "=";
  return `[${eq}[${text}]${eq}]`;
}

/**
 * Pacing for a constant offered rate (wrk2's model on stock wrk): every connection, once answered, waits for the
 * next free slot of one shared schedule of `rate` slots per second (LuaJIT's FFI reads CLOCK_MONOTONIC). A slot
 * already past is not made up: a server that cannot keep up gets fewer requests, not a burst, and shows it as an
 * achieved rate below the offered one (rateAtP99 refuses such a step). wrk's delay() is in whole ms, so a
 * request may leave up to 1 ms before its slot; the schedule itself does not drift.
 */
function pacing(rate: number): string[] {
  return [
    'local ffi = require("ffi")',
    "ffi.cdef[[ typedef struct { long tv_sec; long tv_nsec; } ktv_ts; int clock_gettime(int, ktv_ts *); ]]",
    'local ts = ffi.new("ktv_ts")',
    "local function now_ms() ffi.C.clock_gettime(1, ts); return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6 end",
    `local interval = ${1000 / rate}`,
    "local next_slot = nil",
    "delay = function()",
    "  local t = now_ms()",
    "  local s = next_slot",
    "  if s == nil or s < t then s = t end",
    "  next_slot = s + interval",
    "  return math.floor(s - t)",
    "end",
  ];
}

export function wrkScript(s: Pick<LoadSpec, "method" | "body" | "headers" | "rate">): string {
  const lines = [`wrk.method = ${luaString(s.method)}`];
  if (s.rate !== undefined) {
    if (!(s.rate > 0 && Number.isFinite(s.rate)))
      throw new RangeError(`rate must be positive, got ${s.rate}`);
    lines.push(...pacing(s.rate));
  }
  for (const [k, v] of Object.entries(s.headers))
    lines.push(`wrk.headers[ ${luaString(k)} ] = ${luaString(v)}`);
  if (s.body !== undefined) {
    lines.push(`wrk.body = ${luaString(JSON.stringify(s.body))}`);
    lines.push(`wrk.headers["content-type"] = "application/json"`);
  }
  lines.push(
    "done = function(summary, latency, requests)",
    "  local e = summary.errors",
    '  io.write(string.format(\'{"requests":%d,"duration_us":%d,"bytes":%d,"non2xx":%d,"socket_errors":%d,"p50_us":%d,"p99_us":%d}\\n\',',
    "    summary.requests, summary.duration, summary.bytes, e.status, e.connect + e.read + e.write + e.timeout,",
    "    latency:percentile(50), latency:percentile(99)))",
    "end",
  );
  return `${lines.join("\n")}\n`;
}

export interface WrkResult extends LoadResult {
  bytes_per_s: number;
}

export function parseWrkOutput(stdout: string): WrkResult {
  const line = stdout
    .trim()
    .split("\n")
    .reverse()
    .find((l) => l.startsWith("{"));
  if (!line) throw new Error(`wrk printed no summary (its script failed?): ${stdout.slice(-300)}`);
  const j = JSON.parse(line) as {
    requests: number;
    duration_us: number;
    bytes: number;
    non2xx: number;
    socket_errors: number;
    p50_us: number;
    p99_us: number;
  };
  const secs = j.duration_us / 1e6;
  return {
    rps: j.requests / secs,
    bytes_per_s: j.bytes / secs,
    p50_us: j.p50_us,
    p99_us: j.p99_us,
    non200: j.non2xx + j.socket_errors,
  };
}

/** One thread, `connections` connections, `seconds` s; pinned to `cpus` with taskset when asked and present. */
export function runWrk(s: LoadSpec): Promise<WrkResult> {
  if (!Number.isInteger(s.seconds) || s.seconds < 1) {
    return Promise.reject(new RangeError(`wrk runs whole seconds, got ${s.seconds}`));
  }
  const dir = mkdtempSync(join(tmpdir(), "ktv-wrk-"));
  const script = join(dir, "load.lua");
  writeFileSync(script, wrkScript(s));
  const wrk = [
    "wrk",
    "-t1",
    `-c${s.connections}`,
    `-d${s.seconds}s`,
    "--timeout",
    "10s",
    "-s",
    script,
    new URL(s.path, s.url).href,
  ];
  const cmd = s.cpus && findOnPath("taskset") ? ["taskset", "-c", s.cpus, ...wrk] : wrk;
  return new Promise<WrkResult>((resolve, reject) => {
    const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      err += c.toString();
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      rmSync(dir, { recursive: true, force: true });
      if (code !== 0) return reject(new Error(`wrk exited ${code}: ${err.slice(0, 300)}`));
      // wrk runs on (without the script) when its Lua fails to load: that is an error here, not a result.
      if (/\.lua:\d+:/.test(err)) return reject(new Error(`wrk's script failed: ${err.slice(0, 300)}`));
      try {
        resolve(parseWrkOutput(out));
      } catch (e) {
        reject(e);
      }
    });
  });
}
