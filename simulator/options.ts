import type { Clock } from "./clock.ts";
import type { HttpTimeouts } from "./http-timeouts.ts";
import type { Limits } from "./limits.ts";
import type { MediaOptions } from "./media/options.ts";

export interface AppConfig {
  app_id: number;
  /** 64 hex chars. */
  app_sign: string;
  /** 32 chars: the token04 server secret. */
  token_secret: string;
  /** Requests per second this app may make to the vendor API (token bucket); 0 = unlimited. */
  rate_limit_rps?: number;
  /** Server REST API: requests per second per action (default 200, the vendor's; 0 = unlimited). */
  server_api_qps?: number;
  /** Billing modes this app has a monthly plan for: 1 user-monthly, 2 room-monthly. */
  monthly_plans?: number[];
  /** Vendors enabled for this app (default all: 0,1,2,4). */
  vendors?: number[];
  /** Scene ids enabled for this app (default [0]); others answer 1017076. */
  scenes?: number[];
}

export interface SimOptions {
  host: string;
  port: number;
  /**
   * Also serve everything on this Unix domain socket (null: TCP only). The embedded simulator's own load
   * generator connects here: see local-socket.ts for the measured reason.
   */
  socketPath: string | null;
  seed: number;
  catalogSize: number;
  apps: AppConfig[];
  /** Directory of the durable ledger; ":memory:" keeps it in memory (tests). */
  dataDir: string;
  /** Where admin routes are reachable from: "loopback" (default) or "any" (unsafe, --admin-host). */
  adminHost: string;
  /** Default resource validity (ms) when the fault engine does not override it. */
  resourceTtlMs: number;
  /** Share validity (ms): getSharedResource answers 1017050 after it. */
  shareTtlMs: number;
  /** krc_token validity (ms). */
  krcTokenTtlMs: number;
  /** "full": an acknowledged row survives power loss (fsync per commit); "normal": survives a killed process. */
  ledgerSync: "full" | "normal";
  /** Global CDN egress cap in bytes/s (0 = none). */
  cdnGlobalBytesPerSec: number;
  /** Per-connection CDN egress cap in bytes/s (0 = none). */
  cdnConnBytesPerSec: number;
  /** Max JSON body size in bytes. */
  bodyLimit: number;
  /** Fault profile JSON (parsed) to start with; validated by the fault engine. */
  faults?: unknown;
  logLevel: string;
  /** Where the log lines go (pino's `stream`); default stdout. */
  logStream?: { write(line: string): void };
  clock?: Clock;
  /** Media server knobs (room capacity, buffers, timers); defaults in media/options.ts. */
  media?: Partial<MediaOptions>;
  /** Caps per app and per user on sessions, resources and rooms; defaults and their memory bound in limits.ts. */
  limits?: Partial<Limits>;
  /** Bounds on slow clients (headers, bodies, idle keep-alive, stalled readers); defaults in http-timeouts.ts. */
  http?: Partial<HttpTimeouts>;
  /**
   * Serve the plain success of the hot extended calls (cached list pages) in front of Fastify (default true);
   * every other request goes through Fastify either way. simulator/fast-path/extended.ts.
   */
  fastPath?: boolean;
  /**
   * Pay the first-request costs at start-up instead of on the first users' time to first audio (default false):
   * the JSON serializers' union validators are compiled when the routes are built, and the CDN renders a few
   * throwaway chunks so the synthesiser is compiled before the first song is asked for (cdn/warm.ts
   * warmRenderer). Same answers and bytes; a slower start (measured ~0.4 s CPU). `ktv run`'s embedded simulator
   * turns it on; tests that start many simulators leave it off.
   */
  warmUp?: boolean;
}

export const DEV_APP: AppConfig = {
  app_id: 1000000001,
  app_sign: "0123456789abcdef".repeat(4),
  token_secret: "0123456789abcdef0123456789abcdef",
};

export const DEFAULT_OPTIONS: SimOptions = {
  host: "127.0.0.1",
  port: 7400,
  socketPath: null,
  seed: 1,
  catalogSize: 10_000,
  apps: [],
  dataDir: ".ktv",
  ledgerSync: "full",
  adminHost: "loopback",
  resourceTtlMs: 3_600_000,
  shareTtlMs: 3_600_000,
  krcTokenTtlMs: 43_200_000,
  cdnGlobalBytesPerSec: 0,
  cdnConnBytesPerSec: 0,
  bodyLimit: 64 * 1024,
  logLevel: "info",
};

export function resolveOptions(partial: Partial<SimOptions> = {}): SimOptions {
  const o: SimOptions = { ...DEFAULT_OPTIONS, ...partial };
  return o;
}
