import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import type { Environment } from "../../reports/format.ts";

// environment.json: what ran where, so a result can be compared with another knowingly.

const ROOT = new URL("../../", import.meta.url);

function packageVersion(): string {
  try {
    return String(JSON.parse(readFileSync(new URL("package.json", ROOT), "utf8")).version ?? "unknown");
  } catch {
    return "unknown";
  }
}

function gitCommit(): string | null {
  try {
    const out = execFileSync("git", ["rev-parse", "HEAD"], {
      cwd: ROOT,
      timeout: 3_000,
      stdio: ["ignore", "pipe", "ignore"],
    });
    const sha = out.toString().trim();
    return /^[0-9a-f]{40}$/.test(sha) ? sha : null;
  } catch {
    return null;
  }
}

export interface RunEnvironment extends Environment {
  /** Worker threads that ran the VUs. */
  workers: number;
  /** "embedded" or "external". */
  simulator: string;
  /** How the VUs reached the media WebSocket: "unix" (the embedded simulator's socket) or "tcp". */
  media_transport: "unix" | "tcp";
}

export function environment(o: {
  seed: number;
  startedAt: Date;
  target: string;
  mediaSocket: string | null;
  workers: number;
  embedded: boolean;
}): RunEnvironment {
  const cpus = os.cpus();
  return {
    ktv_version: packageVersion(),
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cpus: { model: cpus[0]?.model ?? "unknown", count: os.availableParallelism() },
    memory_bytes: os.totalmem(),
    hostname: os.hostname(),
    git_commit: gitCommit(),
    seed: o.seed,
    started_at: o.startedAt.toISOString(),
    target: o.target,
    workers: o.workers,
    simulator: o.embedded ? "embedded" : "external",
    media_transport: o.mediaSocket ? "unix" : "tcp",
  };
}
