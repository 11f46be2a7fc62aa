import type { ScenarioDefinition } from "./format.ts";
import { durationMs, formatDuration } from "./load/duration.ts";
import { planLoad } from "./load/plan.ts";
import { expandShortcuts } from "./load/shortcuts.ts";
import { parseThresholds } from "./thresholds/parser.ts";

// `--duration D` must not make a run that proves nothing while looking like it ran. Two ways it could:
//
// 1. Iteration executors (shared-iterations, per-vu-iterations) run a fixed set of iterations (conformance: one
//    per recovery rule) and end when those are done; --duration would only cut the set short, and every case
//    it cut reads as "observed nothing". Such scenarios are refused: they end on their own.
// 2. A fault timeline (the profile applied at the start, the steps at `at`, each fault's window `from` /
//    `until`, counted from when its profile is applied) is written for the scenario's own length. A run must
//    reach the last change of that timeline that falls inside the scenario's length, and then last long enough
//    for users to meet it: one iteration, approximated as the audio it sings (singSeconds) plus MEET_MARGIN_MS
//    for login, pick, request and download. A shorter D is refused with that minimum.
// 3. A sliding-window threshold (`over W`) needs a run of at least W, and an abortOnFail one (capacity's knee
//    search) delayAbortEval + W, or the window silently becomes the whole run and the knee is never located.
//
// An accepted D that scales ramps is said out loud (durationNotices): the ramp climbs faster than written.
//
// --duration does not rescale the timeline: it only sets the length. Compressing the whole scenario is
// --time-scale (scale.ts), which moves the fault windows and TTLs with it (not latencies: those are the
// system's speed), and a short form made that way must still pass durationNeed (short-forms.ts): the margin
// users need to meet a change is real time and does not shrink with the scale.

/** Time for a user to reach the audio once a change has happened: session, pick, request, download. */
export const MEET_MARGIN_MS = 5_000;

export interface DurationNeed {
  /** The shortest --duration that still runs what the scenario declares, ms; null when none does. */
  minimumMs: number | null;
  /** Why, in one sentence. */
  reason: string;
}

interface FaultChange {
  atMs: number;
  what: string;
}

/** Every change of the fault timeline at or after 0, in ms from the run's start. */
export function faultChanges(def: ScenarioDefinition): FaultChange[] {
  const out: FaultChange[] = [];
  const steps: { atMs: number; profile: unknown; label: string }[] = [];
  const f = def.ktv?.faults;
  if (f?.profile) steps.push({ atMs: 0, profile: f.profile, label: "the start profile" });
  for (const s of f?.timeline ?? []) {
    const atMs = durationMs(s.at);
    steps.push({ atMs, profile: s.profile, label: `the timeline step at ${formatDuration(atMs)}` });
    if (atMs > 0) out.push({ atMs, what: `${steps.at(-1)!.label} is applied` });
  }
  for (const s of steps) {
    const faults = (s.profile as { faults?: unknown } | null)?.faults;
    if (!Array.isArray(faults)) continue;
    for (const fault of faults as { id?: unknown; from?: unknown; until?: unknown }[]) {
      const id = typeof fault.id === "string" ? fault.id : "?";
      if (typeof fault.from === "number" && fault.from > 0)
        out.push({ atMs: s.atMs + fault.from, what: `fault "${id}" starts` });
      if (typeof fault.until === "number")
        out.push({ atMs: s.atMs + fault.until, what: `fault "${id}" ends` });
    }
  }
  return out.sort((a, b) => a.atMs - b.atMs);
}

/** What --duration the scenario can take (before any override is applied). */
export function durationNeed(def: ScenarioDefinition): DurationNeed {
  const { scenarios } = expandShortcuts(def.options);
  const counted = Object.entries(scenarios).filter(
    ([, c]) => c.executor === "shared-iterations" || c.executor === "per-vu-iterations",
  );
  if (counted.length > 0) {
    const names = counted.map(([n, c]) => `${n} (${c.executor})`).join(", ");
    return {
      minimumMs: null,
      reason: `${names} runs a fixed number of iterations and ends when they are done; --duration would only cut them short`,
    };
  }
  const needs: DurationNeed[] = [{ minimumMs: 0, reason: "nothing in it needs a minimum length" }];
  const planned = planLoad(def.options).durationMs;
  const inside = faultChanges(def).filter((c) => c.atMs < planned);
  if (inside.length > 0) {
    const last = inside.at(-1)!;
    const singMs = (def.ktv?.singSeconds ?? 5) * 1000;
    needs.push({
      minimumMs: Math.ceil((last.atMs + singMs + MEET_MARGIN_MS) / 1000) * 1000,
      reason: `its fault timeline changes last at ${formatDuration(last.atMs)} (${last.what}), and users need about ${formatDuration(singMs + MEET_MARGIN_MS)} after it (an iteration: ${def.ktv?.singSeconds ?? 5} s of song plus ${formatDuration(MEET_MARGIN_MS)} to start) to meet it`,
    });
  }
  // A sliding window longer than the run silently becomes the whole run; an abortOnFail threshold (a knee
  // search) needs one whole window after its checks start, or it can never stop the run where it broke.
  for (const t of parseThresholds(def.options.thresholds).thresholds) {
    const w = t.windowMs ?? 0;
    const need = t.abortOnFail && w > 0 ? t.delayAbortEvalMs + w : w;
    if (need > 0)
      needs.push({
        minimumMs: need,
        reason:
          t.abortOnFail && w > 0
            ? `threshold ${t.metric.key} "${t.source}" stops the run where it breaks (abortOnFail) only after delayAbortEval ${formatDuration(t.delayAbortEvalMs)} plus one ${formatDuration(w)} window`
            : `threshold ${t.metric.key} "${t.source}" needs at least one whole ${formatDuration(w)} window`,
      });
  }
  return needs.reduce((a, b) => ((b.minimumMs ?? 0) > (a.minimumMs ?? 0) ? b : a));
}

/**
 * What an accepted --duration changes beyond the length, said out loud: ramps scaled with it climb faster, so a
 * knee found on them is at a faster ramp than the scenario's.
 */
export function durationNotices(def: ScenarioDefinition, ms: number): string[] {
  const out: string[] = [];
  for (const [name, c] of Object.entries(expandShortcuts(def.options).scenarios)) {
    if (!Array.isArray(c.stages)) continue;
    const total = (c.stages as { duration: string }[]).reduce((a, st) => a + durationMs(st.duration), 0);
    if (total <= 0 || total === ms) continue;
    const f = ms / total;
    out.push(
      `--duration ${formatDuration(ms)}: ${name}'s stages are scaled ×${Math.round(f * 1000) / 1000} (${formatDuration(total)} -> ${formatDuration(ms)}): its ramps ${f < 1 ? `climb ${Math.round((1 / f) * 10) / 10}× faster` : `climb ${Math.round(f * 10) / 10}× slower`} than the scenario's`,
    );
  }
  return out;
}

/** Null when --duration `ms` is fine for `def`, else the problem, with the minimum it needs. */
export function durationProblem(def: ScenarioDefinition, ms: number): string | null {
  const need = durationNeed(def);
  const declared = formatDuration(planLoad(def.options).durationMs);
  if (need.minimumMs === null)
    return `--duration cannot be used with ${def.name}: ${need.reason} (leave it out; the scenario declares at most ${declared})`;
  if (ms >= need.minimumMs) return null;
  return `--duration ${formatDuration(ms)} is too short for ${def.name}: ${need.reason}. Use --duration ${formatDuration(need.minimumMs)} or more, or leave it out (${declared}), or compress the whole timeline with --time-scale (scenarios/scale.ts)`;
}
