import type { RecoveryRule } from "../../reference/pipeline/recovery.ts";
import type { CheckResult } from "../../reports/format.ts";

// "The fault happened and the client handled it": a fault scenario whose fault never fired proves nothing, and
// one whose recovery rule never ran proves nothing about the rule. After a run this reads the simulator's
// injected-fault event log (GET /admin/faults/events: one line per fault that hit a request, a revocation's
// activation, a swept resource...) and the clients' counters, and judges what the scenario expects
// (`ktv.expect`, scenarios/format.ts), as two checks beside the billing check:
//
//   faults      every fault in `faultsFired` has at least one event in the log (else: "fault X never fired")
//   recoveries  every rule in `recoveries` ran at least `atLeast` times (recoveries{rule:R}), and no user saw
//               a code the rule hides more often than the rule ran: iterations failed with code C
//               (errors{code:C}) <= runs of R. The rules are "once, then report" (a second expiry in a row,
//               every candidate song revoked), so a user may see C, but only after the rule tried; a client
//               without the rule shows C with the rule never run, and fails here.
//   surfaced    every code in `surfaced` failed at least N iterations: the fault reached users and they were
//               told why (a song revoked between the chart and the pick is refused by its rights, 1017034,
//               rather than billed: that refusal is the handling, and no rule counter records it).
//
// Without `ktv.expect` every fault the scenario declares (start profile and timeline) must fire.

/** What a fault scenario expects to have happened (scenarios as data: `ktv.expect`). */
export interface ExpectData {
  /** Fault ids (of ktv.faults) that must hit at least once. Default: every fault the scenario declares. */
  faultsFired?: string[];
  /** Recovery rules that must have run, and the codes each keeps from users. */
  recoveries?: Partial<Record<RecoveryRule, RecoveryExpectation>>;
  /** Codes users must have been told (iterations failed with it) at least this many times: code -> count. */
  surfaced?: Record<string, number>;
}

export interface RecoveryExpectation {
  /** Runs of the rule the whole run must count (recoveries{rule:R}); default 1. */
  atLeast?: number;
  /** Codes the rule exists to hide: iterations failed with one must not outnumber the rule's runs. */
  hides?: number[];
}

/** The expectation with its defaults filled in (ResolvedScenario.expect). */
export interface FaultExpectation {
  faultsFired: string[];
  recoveries: Record<string, { atLeast: number; hides: number[] }>;
  surfaced: Record<string, number>;
}

export const RECOVERY_RULES: readonly RecoveryRule[] = [
  "transient-backoff",
  "expired-rerequest",
  "revoked-skip",
  "revoked-stop",
  "shared-fallback",
  // A media connection the server closed (the `disconnect` fault): the engine reconnects and publishes on.
  "media-reconnect",
];

/** Every fault id the scenario's faults declare (start profile, then timeline steps), once each, in order. */
export function declaredFaultIds(faults: {
  profile?: unknown | null;
  timeline?: readonly { profile: unknown | null }[];
}): string[] {
  const ids: string[] = [];
  // Tolerant of malformed data: validate.ts calls it before the faults are known to be well formed.
  const steps = Array.isArray(faults.timeline) ? faults.timeline : [];
  for (const p of [faults.profile, ...steps.map((s) => (s as { profile?: unknown } | null)?.profile)]) {
    const list = (p as { faults?: unknown } | null | undefined)?.faults;
    if (!Array.isArray(list)) continue;
    for (const f of list as { id?: unknown }[])
      if (typeof f?.id === "string" && !ids.includes(f.id)) ids.push(f.id);
  }
  return ids;
}

export function resolveExpectation(
  expect: ExpectData | undefined,
  faults: Parameters<typeof declaredFaultIds>[0],
): FaultExpectation {
  const recoveries: FaultExpectation["recoveries"] = {};
  for (const [rule, r] of Object.entries(expect?.recoveries ?? {})) {
    recoveries[rule] = { atLeast: r?.atLeast ?? 1, hides: [...(r?.hides ?? [])] };
  }
  return {
    faultsFired: [...(expect?.faultsFired ?? declaredFaultIds(faults))],
    recoveries,
    surfaced: { ...(expect?.surfaced ?? {}) },
  };
}

/** What the run counted: the merged MetricSet of the run answers both. */
export interface RunCounts {
  counter(key: string): number;
  readonly rates: ReadonlyMap<string, { trues: number; total: number }>;
}

/** The fault log as the runner read it, or why it could not. */
export type FaultLog = { events: readonly { fault_id: string }[]; dropped?: number } | Error;

/** The checks for `exp`: none when it expects nothing (a scenario without faults or recoveries). */
export function faultChecks(exp: FaultExpectation, log: FaultLog, counts: RunCounts): CheckResult[] {
  const out: CheckResult[] = [];
  if (exp.faultsFired.length > 0) out.push(faultsFiredCheck(exp.faultsFired, log));
  if (Object.keys(exp.recoveries).length > 0) out.push(recoveriesCheck(exp.recoveries, counts));
  if (Object.keys(exp.surfaced).length > 0) out.push(surfacedCheck(exp.surfaced, counts));
  return out;
}

function faultsFiredCheck(expected: readonly string[], log: FaultLog): CheckResult {
  if (log instanceof Error) {
    // A fault that cannot be shown to have fired did not prove anything: the run does not pass on it.
    return {
      name: "faults",
      ok: false,
      detail: `could not read the fault event log: ${log.message}`,
      data: { expected: [...expected] },
    };
  }
  const fired: Record<string, number> = {};
  for (const id of expected) fired[id] = 0;
  for (const e of log.events) if (e.fault_id in fired) fired[e.fault_id] = (fired[e.fault_id] ?? 0) + 1;
  const never = expected.filter((id) => fired[id] === 0);
  const dropped = log.dropped ?? 0;
  const counts = expected.map((id) => `${id} ${fired[id]}`).join(", ");
  const detail =
    never.length === 0
      ? `every expected fault fired (events: ${counts})`
      : `${never.map((id) => `fault "${id}" never fired`).join("; ")} (events: ${counts}${dropped > 0 ? `; the log dropped ${dropped} older events` : ""})`;
  return { name: "faults", ok: never.length === 0, detail, data: { fired, never_fired: never, dropped } };
}

function recoveriesCheck(expected: FaultExpectation["recoveries"], counts: RunCounts): CheckResult {
  const problems: string[] = [];
  const seen: string[] = [];
  const data: Record<string, unknown> = {};
  for (const [rule, r] of Object.entries(expected)) {
    const ran = counts.counter(`recoveries{rule:${rule}}`);
    const shown: Record<string, number> = {};
    if (ran < r.atLeast) {
      problems.push(
        `recovery rule "${rule}" ran ${ran} times, expected at least ${r.atLeast}: its fault was not handled by it`,
      );
    }
    for (const code of r.hides) shown[String(code)] = counts.rates.get(`errors{code:${code}}`)?.trues ?? 0;
    seen.push(
      `${rule} ran ${ran}${r.hides.length > 0 ? ` (failed with ${r.hides.map((c) => `${c}: ${shown[String(c)]}`).join(", ")})` : ""}`,
    );
    data[rule] = { ran, at_least: r.atLeast, failed_with: shown };
  }
  // Once per hidden code, however many rules hide it: every rule that keeps the code from users may have been
  // the one that tried (a song revoked before it played is skipped, one revoked while it played is stopped),
  // so their runs together must cover the iterations that failed with it.
  for (const code of new Set(Object.values(expected).flatMap((r) => r.hides))) {
    const n = counts.rates.get(`errors{code:${code}}`)?.trues ?? 0;
    const hiders = Object.keys(expected).filter((name) => expected[name]!.hides.includes(code));
    const tried = hiders.reduce((sum, name) => sum + counts.counter(`recoveries{rule:${name}}`), 0);
    if (n > tried) {
      const who = hiders.map((name) => `"${name}"`).join(" + ");
      problems.push(
        `${n} iterations failed with ${code}, which rule ${who} hides, but ${hiders.length > 1 ? "they" : "the rule"} ran only ${tried} times: users saw the error without the rule having tried`,
      );
    }
  }
  const ok = problems.length === 0;
  return { name: "recoveries", ok, detail: ok ? seen.join("; ") : problems.join("; "), data };
}

function surfacedCheck(expected: Record<string, number>, counts: RunCounts): CheckResult {
  const told: Record<string, number> = {};
  const problems: string[] = [];
  for (const [code, atLeast] of Object.entries(expected)) {
    const n = counts.rates.get(`errors{code:${code}}`)?.trues ?? 0;
    told[code] = n;
    if (n < atLeast)
      problems.push(
        `${n} iterations failed with ${code}, expected at least ${atLeast}: the fault never reached a user`,
      );
  }
  const ok = problems.length === 0;
  const seen = Object.entries(told)
    .map(([c, n]) => `${c}: ${n}`)
    .join(", ");
  return {
    name: "surfaced",
    ok,
    detail: ok ? `users were told (iterations failed with ${seen})` : problems.join("; "),
    data: { failed_with: told, at_least: { ...expected } },
  };
}
