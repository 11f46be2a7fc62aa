import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEV_APP_ID, DEV_APP_SIGN } from "../engine/test-fixtures.ts";
import type { PipelineConfig } from "./config.ts";
import { emptyStages, type PipelineResult } from "./result.ts";

// Shared by the pipeline's integration tests: a config for one virtual user of the dev app, the ledger rows a
// user was billed for, fault profiles, and a scratch directory. Plain HTTP to the admin API: like the rest of
// reference/, nothing here imports the simulator.

export function userConfig(
  target: string,
  userID: string,
  over: Partial<PipelineConfig> = {},
): PipelineConfig {
  return {
    target,
    appID: DEV_APP_ID,
    appSign: DEV_APP_SIGN,
    roomID: "room1",
    userID,
    song: { query: "love" },
    // Clips (~40 s of 8 kHz audio, ~1.3 MB) keep downloads short; the flow is the same for every type.
    resourceType: 2,
    seconds: 1,
    statusIntervalMs: 0,
    retry: { baseDelayMs: 5, maxDelayMs: 20 },
    ...over,
  };
}

interface Envelope {
  code: number;
  data: { rows: Record<string, unknown>[] } | null;
}

async function admin(base: string, method: string, path: string, body?: unknown): Promise<Envelope> {
  const res = await fetch(`${base}${path}`, {
    method,
    ...(body !== undefined
      ? { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }
      : {}),
  });
  const env = (await res.json()) as Envelope;
  if (env.code !== 0) throw new Error(`${method} ${path}: ${JSON.stringify(env)}`);
  return env;
}

/** Ledger rows billed to `userID`. */
export async function billedTo(base: string, userID: string): Promise<Record<string, unknown>[]> {
  const env = await admin(base, "GET", "/admin/ledger");
  return (env.data?.rows ?? []).filter((row) => row.user_id === userID);
}

export async function putFaults(base: string, faults: unknown[]): Promise<void> {
  await admin(base, "PUT", "/admin/faults", { faults });
}

export function scratchDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A PipelineResult of a run that did nothing, with `over` on top: one place to grow when the result grows. */
export function pipelineResult(over: Partial<PipelineResult> = {}): PipelineResult {
  return {
    ok: true,
    aborted: false,
    failure: null,
    user_id: "u",
    room_id: "r",
    song: null,
    skipped: [],
    stages: emptyStages(),
    errors: {},
    billable_requests: 0,
    unconfirmed_requests: 0,
    shared_fetches: 0,
    bytes_downloaded: 0,
    recovery: [],
    publish: null,
    mix: null,
    listen: null,
    histograms: { unit: "us", mix_lateness: null, mix_cost: null, listen_latency: null },
    elapsed_ms: 0,
    ...over,
  };
}
