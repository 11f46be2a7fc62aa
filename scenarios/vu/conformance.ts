import { isEnvelope } from "../../protocol/envelope.ts";
import { vendorRouteIndex } from "../../protocol/vendor-routes.ts";
import { FRAME_MS } from "../../reference/mixer/frame.ts";
import {
  ATTEMPT_ERROR,
  ATTEMPT_NO_ANSWER,
  ATTEMPT_OK,
  reportVendorAttempt,
} from "../../reference/music/transport.ts";
import { usableFor } from "../../reference/pipeline/pick-song.ts";
import { DEFAULT_PAUSE_MS } from "../../reference/pipeline/player-actions.ts";
import type { PipelineResult } from "../../reference/pipeline/result.ts";
import { AdminClient } from "../run/admin.ts";
import { CONFORMANCE_CASES, type ConformanceCase } from "./conformance-cases.ts";
import { pipelineConfig, recordResult } from "./pipeline.ts";
import type { IterationOutcome, IterationSpec, Vu, VuContext } from "./types.ts";

// The "conformance" VU: iteration n runs case n (conformance-cases.ts) against the client under test: it puts
// the case's fault profile, runs the client once as a fresh user in a fresh room, and checks the client's
// report against the case's expectations and the vendor's ledger. Cases change the simulator's faults, so a
// conformance scenario runs them one at a time (one VU).

export function createConformanceVu(ctx: VuContext): Vu {
  const admin = new AdminClient(ctx.target);
  return {
    iteration: (spec, signal) =>
      runCase(ctx, admin, CONFORMANCE_CASES[spec.iteration % CONFORMANCE_CASES.length]!, spec, signal),
    close: async () => {},
  };
}

export interface Verdict {
  rule: string;
  description: string;
  ok: boolean;
  /** Each expectation that failed, as "what: expected X, got Y". */
  problems: string[];
  observed: {
    ok: boolean;
    failure: PipelineResult["failure"];
    recovery: { rule: string; stage: string; code: number }[];
    billable_requests: number;
    unconfirmed_requests: number;
    ledger_rows: number;
    skipped: number;
    errors: PipelineResult["errors"];
    player: PipelineResult["player"] | null;
  };
}

async function runCase(
  ctx: VuContext,
  admin: AdminClient,
  c: ConformanceCase,
  spec: IterationSpec,
  signal: AbortSignal,
): Promise<IterationOutcome> {
  const userID = `${spec.userID}-${c.rule}-${spec.iteration}`;
  const roomID = `${spec.roomID}-${c.rule}-${spec.iteration}`;
  await admin.setFaults(c.profile);
  const head = await admin.ledgerHead(ctx.appID);
  const song = c.needsTwoCandidates ? await twoCandidateQuery(ctx, spec, userID) : spec.song;
  const revoked: string[] = [];
  const revoking: Promise<void>[] = [];
  const config = {
    ...pipelineConfig(ctx, {
      ...spec,
      userID,
      roomID,
      song,
      preferShared: c.preferShared ?? false,
      ...(c.auth ? { auth: c.auth } : {}),
      ...(c.lyrics ? { lyrics: c.lyrics } : {}),
    }),
    ...(c.sceneID !== undefined ? { sceneID: c.sceneID } : {}),
    publish: true,
    listen: [],
    seconds: c.seconds ?? Math.min(spec.seconds, 0.5),
    ...(c.player ? { player: c.player } : {}),
    onEvent: c.revokeOnResource
      ? (e: { type: string; song_id?: string }) => {
          if (e.type === "resource" && e.song_id && revoked.length === 0) {
            revoked.push(e.song_id);
            revoking.push(admin.revokeSong(e.song_id, true));
          }
        }
      : undefined,
  };
  let result: PipelineResult;
  try {
    result = await ctx.client(config, signal);
  } finally {
    await Promise.allSettled(revoking);
    for (const id of revoked) await admin.revokeSong(id, false).catch(() => {});
    await admin.setFaults(null);
  }
  recordResult(ctx.rec, result, true);
  if (result.aborted) return { ok: false, code: 0, ttfaMs: null, aborted: true };
  const rows = (await admin.ledgerSince(head, ctx.appID)).rows.filter((r) => r.user_id === userID).length;
  const verdict = judge(c, result, rows);
  ctx.rec.rate(`conformance{rule:${c.rule}}`, verdict.ok);
  ctx.rec.note("conformance", verdict);
  return {
    ok: verdict.ok,
    code: verdict.ok ? 0 : "conformance",
    ttfaMs: result.stages.ttfa_ms,
    aborted: false,
    detail: { rule: c.rule },
  };
}

/** Every expectation of `c` checked against what the client reported and the ledger rows it caused. */
export function judge(c: ConformanceCase, r: PipelineResult, ledgerRows: number): Verdict {
  const problems: string[] = [];
  const e = c.expect;
  if (r.ok !== e.ok) {
    problems.push(
      `outcome: expected ${e.ok ? "success" : "a reported failure"}, got ${r.ok ? "success" : `failure ${r.failure?.code} at ${r.failure?.stage}`}`,
    );
  }
  if (!e.ok && e.failureCodes && r.failure && !e.failureCodes.includes(r.failure.code)) {
    problems.push(`failure code: expected one of ${e.failureCodes.join(", ")}, got ${r.failure.code}`);
  }
  if (e.recovery) {
    const hit = r.recovery.some(
      (a) => a.rule === e.recovery && (!e.recoveryStage || a.stage === e.recoveryStage),
    );
    if (!hit) {
      const seen = r.recovery.map((a) => `${a.rule}@${a.stage}`).join(", ") || "none";
      problems.push(
        `recovery: expected ${e.recovery}${e.recoveryStage ? ` at ${e.recoveryStage}` : ""}, got ${seen}`,
      );
    }
  }
  if (ledgerRows !== e.ledgerRows) problems.push(`ledger rows: expected ${e.ledgerRows}, got ${ledgerRows}`);
  if (r.billable_requests !== ledgerRows) {
    problems.push(
      `billable requests: the client reported ${r.billable_requests}, the ledger has ${ledgerRows}`,
    );
  }
  if (e.unconfirmed !== undefined && r.unconfirmed_requests !== e.unconfirmed) {
    problems.push(`unconfirmed requests: expected ${e.unconfirmed}, got ${r.unconfirmed_requests}`);
  }
  if (e.skipped !== undefined && r.skipped.length !== e.skipped) {
    problems.push(`skipped songs: expected ${e.skipped}, got ${r.skipped.length}`);
  }
  for (const [code, n] of Object.entries(e.codeCounts ?? {})) {
    const got = r.errors[code] ?? 0;
    if (got !== n) problems.push(`code ${code}: expected it met ${n} time(s), got ${got}`);
  }
  if (e.player) problems.push(...judgePlayer(c, r.player));
  return {
    rule: c.rule,
    description: c.description,
    ok: problems.length === 0,
    problems,
    observed: {
      ok: r.ok,
      failure: r.failure,
      recovery: r.recovery.map((a) => ({ rule: a.rule, stage: a.stage, code: a.code })),
      billable_requests: r.billable_requests,
      unconfirmed_requests: r.unconfirmed_requests,
      ledger_rows: ledgerRows,
      skipped: r.skipped.length,
      errors: r.errors,
      player: r.player ?? null,
    },
  };
}

/**
 * The player's pause and seek as the client's own player showed them. A pause must hold the position (a player
 * that "pauses" by muting runs on) for the planned frames and be resumed; a seek must answer 0 and land on its
 * target (a player that ignores seeks on a file still downloading stays where it was).
 */
function judgePlayer(c: ConformanceCase, p: PipelineResult["player"]): string[] {
  const want = c.expect.player ?? {};
  if (!p) return ["player: the client reported no player actions (PipelineResult.player)"];
  const problems: string[] = [];
  if (want.pauses !== undefined) {
    if (p.pauses !== want.pauses) problems.push(`pauses: expected ${want.pauses}, got ${p.pauses}`);
    if (p.resumes !== want.pauses) problems.push(`resumes: expected ${want.pauses}, got ${p.resumes}`);
    const frames = (c.player?.pauseMs ?? DEFAULT_PAUSE_MS) / FRAME_MS;
    if (want.pauses > 0 && Math.abs(p.paused_frames - frames) > 1) {
      problems.push(`paused frames: expected ${frames}, got ${p.paused_frames}`);
    }
    if (want.pauses > 0) {
      if (p.paused_at_ms === null || p.resume_at_ms === null) {
        problems.push("position while paused: not reported (paused_at_ms / resume_at_ms)");
      } else if (Math.abs(p.resume_at_ms - p.paused_at_ms) > FRAME_MS) {
        problems.push(
          `position while paused: moved from ${p.paused_at_ms} to ${p.resume_at_ms} ms (a pause must hold it)`,
        );
      }
    }
  }
  if (want.seeks !== undefined) {
    if (p.seeks !== want.seeks) problems.push(`seeks: expected ${want.seeks}, got ${p.seeks}`);
    if (p.seek_errors !== 0) problems.push(`seek errors: expected 0, got ${p.seek_errors}`);
    p.seek_targets_ms.forEach((target, i) => {
      const landed = p.seek_landed_ms[i];
      if (landed === undefined || Math.abs(landed - target) > FRAME_MS) {
        problems.push(`seek ${i + 1}: asked for ${target} ms, the player showed ${landed ?? "nothing"} ms`);
      }
    });
  }
  return problems;
}

/**
 * A search whose first two usable hits both have an accompaniment: when the first is revoked, the client must
 * find a next song to skip to. Tries the names of songs on the scenario's chart.
 */
async function twoCandidateQuery(
  ctx: VuContext,
  spec: IterationSpec,
  userID: string,
): Promise<{ query: string }> {
  const h = { "content-type": "application/json", "x-app-id": String(ctx.appID), "x-app-sign": ctx.appSign };
  const post = async (path: string, body: unknown, session?: string) => {
    // Counted like the transport's attempts (reference/music/transport.ts), so the route check sees them.
    const route = vendorRouteIndex(path, (body as { command?: unknown }).command);
    const t0 = performance.now();
    let env: unknown;
    try {
      const res = await fetch(ctx.target + path, {
        method: "POST",
        headers: session ? { ...h, "x-session": session } : h,
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      env = await res.json();
      const ok = res.ok && isEnvelope(env) && env.code === 0;
      reportVendorAttempt(route, ok ? ATTEMPT_OK : ATTEMPT_ERROR, performance.now() - t0);
    } catch (err) {
      reportVendorAttempt(route, ATTEMPT_NO_ANSWER, performance.now() - t0);
      throw err;
    }
    if (!isEnvelope(env) || env.code !== 0) throw new Error(`${path}: ${JSON.stringify(env).slice(0, 200)}`);
    return env.data as { session?: string; songs?: Record<string, unknown>[] };
  };
  const session = (await post("/v1/music/init", { user_id: `${userID}-setup` })).session!;
  const { vendorId: vendor_id, type } = spec.resource;
  const chart = await post(
    "/v1/music/extended",
    { command: "/top/song", params: { vendor_id, top_id: "8888", page: 1 } },
    session,
  );
  for (const s of chart.songs ?? []) {
    const keyword = String(s.song_name ?? "");
    if (!keyword) continue;
    const found = await post(
      "/v1/music/extended",
      { command: "/search/song", params: { vendor_id, keyword, page: 1, filter: type === 0 ? [] : [1] } },
      session,
    );
    const usable = (found.songs ?? []).filter((x) => usableFor(x, type)).slice(0, 2);
    if (usable.length === 2 && usable.every((x) => type === 0 || Number(x.accompany_duration) > 0)) {
      return { query: keyword };
    }
  }
  throw new Error("no search on the chart's song names has two usable hits: cannot provoke revoked-skip");
}
