// The benchmark runner: for each case, prepare the race, then `rounds` rounds of ours and the reference
// back to back, the order alternating (ours first in even rounds, the reference first in odd ones) so that a
// drift in the machine's load hits both sides alike; then medians, min-max and the verdict. A case whose peer
// is missing is skipped with the reason; a case that throws is an error with the message; the run carries on
// either way. A side that gives no figure in a round (RoundFailure, case.ts) is recorded (rounds_failed,
// round_failures) and the rounds go on: the medians are over the rounds that gave figures, and a side with
// none fails the case with the reason (a load spike in one round used to drop the whole case). Results go to
// the console (a table with the machine and load average) and to a JSON file (reports/bench-format.ts).
// Before the first case, every selected case's shared servers start at once (BenchCase.prestart, shared.ts);
// they stop when the run ends. Each case's time is split into setup, rounds and finish + close, printed with
// it and kept as duration_s / phases_s.

import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, platform, release, totalmem } from "node:os";
import { dirname } from "node:path";
import {
  BENCH_FORMAT,
  type BenchCaseResult,
  type BenchMachine,
  type BenchResults,
} from "../../reports/bench-format.ts";
import { type BenchCase, RoundFailure } from "./case.ts";
import { INSTALL_HINT } from "./peers.ts";
import { closeShared } from "./shared.ts";
import { judgeRounds } from "./stats.ts";
import { fmt, formatTable, machineLine } from "./table.ts";

export const DEFAULT_ROUNDS = { quick: 3, full: 5 } as const;

export interface RunOptions {
  quick: boolean;
  /** Case names to run; undefined = all. */
  only?: readonly string[];
  /** Results file, or null for none. */
  out: string | null;
}

export interface RunDeps {
  log: (line: string) => void;
  /** Whether a peer binary is installed, and its version line when it is. */
  peer: (bin: string) => string | null;
  machine?: () => Omit<BenchMachine, "loadavg_start" | "loadavg_end">;
  loadavg?: () => number[];
  now?: () => number;
}

export function machineFacts(): Omit<BenchMachine, "loadavg_start" | "loadavg_end"> {
  const c = cpus();
  return {
    cpu: c[0]?.model.trim() ?? "unknown",
    cores: Math.max(1, c.length),
    node: process.version,
    platform: `${platform()} ${release()}`,
    memory_gib: Math.round((totalmem() / 2 ** 30) * 10) / 10,
  };
}

const round2 = (xs: number[]) => xs.slice(0, 3).map((x) => Math.round(x * 100) / 100);

export async function runBench(
  cases: readonly BenchCase[],
  opts: RunOptions,
  deps: RunDeps,
): Promise<BenchResults> {
  const now = deps.now ?? (() => performance.now());
  const load = deps.loadavg ?? loadavg;
  const t0 = now();
  const machine = {
    ...(deps.machine ?? machineFacts)(),
    loadavg_start: round2(load()),
    loadavg_end: [0, 0, 0],
  };
  const selected = opts.only ? cases.filter((c) => opts.only!.includes(c.name)) : cases;
  const peerNames = [...new Set(cases.flatMap((c) => [...(c.peers ?? []), ...(c.optionalPeers ?? [])]))];
  const peers = Object.fromEntries(peerNames.map((p) => [p, deps.peer(p)]));
  deps.log(machineLine(machine, opts.quick));
  deps.log(
    `peers: ${peerNames.map((p) => `${p} ${peers[p] === null ? "MISSING" : "yes"}`).join(", ") || "none needed"}`,
  );
  const results: BenchCaseResult[] = [];
  try {
    await prestartAll(selected, opts.quick, peers, deps.log, now);
    for (const c of selected) {
      const r = await runCase(c, opts.quick, peers, deps.log, load, now);
      results.push(r);
      deps.log(caseLine(r));
    }
  } finally {
    await closeShared(deps.log);
  }
  machine.loadavg_end = round2(load());
  const out: BenchResults = {
    format: BENCH_FORMAT,
    generated_at: new Date().toISOString(),
    mode: opts.quick ? "quick" : "full",
    duration_s: Math.round(((now() - t0) / 1000) * 10) / 10,
    machine,
    peers,
    cases: results,
  };
  deps.log("");
  deps.log(formatTable(out));
  if (opts.out) {
    mkdirSync(dirname(opts.out), { recursive: true });
    writeFileSync(opts.out, `${JSON.stringify(out, null, 2)}\n`);
    deps.log(`\nwrote ${opts.out}`);
  }
  return out;
}

function blank(c: BenchCase, rounds: number): BenchCaseResult {
  return {
    name: c.name,
    description: c.description,
    status: "skipped",
    ours: null,
    reference: null,
    reference_name: c.referenceName,
    unit: c.unit,
    higher_is_better: c.higherIsBetter,
    ratio: null,
    target: c.target,
    target_of: c.targetOf,
    pass: null,
    rounds,
    min: null,
    max: null,
    ours_min: null,
    ours_max: null,
    reference_min: null,
    reference_max: null,
  };
}

/** A round failure's text kept in the results file (a relay's step log can be long). */
const MAX_FAILURE_TEXT = 300;

/** Rounds in which at least one side gave no figure. */
function failedRounds(ours: readonly (number | null)[], reference: readonly (number | null)[]): number {
  return ours.filter((x, i) => x === null || reference[i] === null).length;
}

/**
 * What the failed rounds did to the case, for its reason: a side with no figure at all fails the case; some
 * failed rounds leave the medians over the others, said so.
 */
function roundsReason(
  ours: readonly (number | null)[],
  reference: readonly (number | null)[],
  failures: readonly string[],
): string {
  if (failures.length === 0) return "";
  const none = (["ours", "reference"] as const).filter((side) =>
    (side === "ours" ? ours : reference).every((x) => x === null),
  );
  const first = failures[0]!;
  if (none.length > 0) return `every round of ${none.join(" and ")} failed (${first})`;
  return `${failedRounds(ours, reference)} of ${ours.length} rounds failed, medians over the others (${first})`;
}

const secs = (ms: number) => Math.round(ms / 100) / 10;

/**
 * Every selected case's shared servers started at once, before the first measurement (a simulator's start is
 * mostly single-threaded: two at once on two cores take about as long as one). A prestart that fails is
 * only logged: the case's own setup asks again and reports its error as the case's.
 */
async function prestartAll(
  cases: readonly BenchCase[],
  quick: boolean,
  peers: Record<string, string | null>,
  log: (line: string) => void,
  now: () => number,
): Promise<void> {
  const ready = cases.filter((c) => c.prestart && (c.peers ?? []).every((p) => peers[p] !== null));
  if (ready.length === 0) return;
  const t0 = now();
  const res = await Promise.allSettled(ready.map((c) => c.prestart!({ quick })));
  const failed = res.flatMap((r, i) =>
    r.status === "rejected" ? [`${ready[i]!.name}: ${(r.reason as Error)?.message ?? r.reason}`] : [],
  );
  log(
    `shared servers started in ${secs(now() - t0)} s (before any measurement, for ${ready.map((c) => c.name).join(", ")})` +
      (failed.length > 0 ? `; failed, each case retries: ${failed.join("; ")}` : ""),
  );
}

async function runCase(
  c: BenchCase,
  quick: boolean,
  peers: Record<string, string | null>,
  log: (line: string) => void,
  load: () => number[],
  now: () => number,
): Promise<BenchCaseResult> {
  const t0 = now();
  const rounds = (c.rounds ?? DEFAULT_ROUNDS)[quick ? "quick" : "full"];
  const missing = (c.peers ?? []).filter((p) => peers[p] === null);
  if (missing.length > 0) {
    return {
      ...blank(c, 0),
      reason: `skipped: ${missing.join(", ")} not found on PATH; ${INSTALL_HINT}`,
    };
  }
  const note = quick ? c.quickNote : undefined;
  log(`\n${c.name}: ${c.description} (${rounds} rounds, load ${load()[0]?.toFixed(2)})`);
  if (note) log(`  quick: ${note}`);
  const ours: (number | null)[] = [];
  const reference: (number | null)[] = [];
  // "round 2 ours: <why>" per side of a round that gave no figure (RoundFailure), in order.
  const failures: string[] = [];
  let race: Awaited<ReturnType<BenchCase["setup"]>> | undefined;
  // Where the case's time goes: setup ends when the race is ready, rounds when the last round is measured.
  let tSetup: number | undefined;
  let tRounds: number | undefined;
  let result: BenchCaseResult;
  try {
    race = await c.setup({ quick, rounds });
    tSetup = now();
    for (let i = 0; i < rounds; i++) {
      const order = i % 2 === 0 ? (["ours", "reference"] as const) : (["reference", "ours"] as const);
      for (const side of order) {
        let v: number | null;
        try {
          v = Number(await race[side]());
        } catch (e) {
          if (!(e instanceof RoundFailure)) throw e;
          v = null;
          failures.push(`round ${i + 1} ${side}: ${e.message}`.slice(0, MAX_FAILURE_TEXT));
        }
        (side === "ours" ? ours : reference).push(v);
      }
      const shown = (v: number | null | undefined) => (v == null ? "FAILED" : `${fmt(v)} ${c.unit}`);
      log(`  round ${i + 1}: ours ${shown(ours.at(-1))}, ${c.referenceName} ${shown(reference.at(-1))}`);
    }
    tRounds = now();
    const done = (await race.finish?.()) ?? {};
    const j = judgeRounds(ours, reference, c);
    const pass = j.pass && done.failure === undefined;
    const extra = { ...(note ? { quick: note } : {}), ...done.extra };
    const reason = [roundsReason(ours, reference, failures), done.failure].filter(Boolean).join("; ");
    result = {
      ...blank(c, rounds),
      status: pass ? "pass" : "fail",
      ours: j.ours,
      reference: j.reference,
      ratio: j.ratio,
      pass,
      min: j.min,
      max: j.max,
      ours_min: j.oursMin,
      ours_max: j.oursMax,
      reference_min: j.referenceMin,
      reference_max: j.referenceMax,
      ...(failures.length > 0
        ? { rounds_failed: failedRounds(ours, reference), round_failures: failures }
        : {}),
      ...(reason ? { reason } : {}),
      ...(Object.keys(extra).length > 0 ? { extra } : {}),
    };
  } catch (e) {
    tSetup ??= now();
    tRounds ??= now();
    result = {
      ...blank(c, ours.length),
      status: "error",
      pass: false,
      ...(failures.length > 0
        ? { rounds_failed: failedRounds(ours, reference), round_failures: failures }
        : {}),
      reason: `error: ${(e as Error).message ?? String(e)}`.slice(0, 500),
    };
  }
  try {
    await race?.close?.();
  } catch (e) {
    log(`  (${c.name}: clean-up failed: ${(e as Error).message})`);
  }
  const t1 = now();
  return {
    ...result,
    duration_s: secs(t1 - t0),
    phases_s: {
      setup: secs(tSetup! - t0),
      rounds: secs(tRounds! - tSetup!),
      finish_close: secs(t1 - tRounds!),
    },
  };
}

function timeText(r: BenchCaseResult): string {
  const p = r.phases_s;
  if (r.duration_s === undefined || !p) return "";
  return ` [${r.duration_s} s: setup ${p.setup}, rounds ${p.rounds}, finish+close ${p.finish_close}]`;
}

function caseLine(r: BenchCaseResult): string {
  if (r.status === "skipped" || r.status === "error") return `  ${r.name}: ${r.reason}${timeText(r)}`;
  return `  ${r.name}: ratio ${fmt(r.ratio)} (${fmt(r.min)}-${fmt(r.max)}), ${r.status.toUpperCase()}${r.reason ? `: ${r.reason}` : ""}${timeText(r)}`;
}
