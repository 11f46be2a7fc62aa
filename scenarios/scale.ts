import type { LoadOptions, ScenarioDefinition } from "./format.ts";
import { durationMs } from "./load/duration.ts";
import { expandShortcuts, type ScenarioConfigs } from "./load/shortcuts.ts";

// A scenario's short form: the same scenario with its timeline compressed (`time`) and/or fewer users
// (`load`), so a two-minute fault storm can run in CI in a dozen seconds and still show its faults firing.
// Unlike `--duration`, which cuts a run short and is refused when the cut would skip the faults
// (duration-needs.ts), a time scale moves every point of the scenario's timeline together, so the faults still
// happen in their order and the users still meet them.
//
// Scaled by `time` (f < 1 compresses):
//   the load:     durations, stages, startTime, gracefulStop, gracefulRampDown, maxDuration
//   thresholds:   sliding windows ("over 15s", kept >= 2 s) and delayAbortEval (kept >= 5 s: warm-up is real time)
//   the faults:   timeline steps (`at`), every fault's window (`from`, `until`), an expiry fault's `ttl_ms`
//   the users:    singSeconds (the audio an iteration sings), maxStartDelay, ktv.duration
//   the vendor:   simulator.resourceTtlMs, simulator.shareTtlMs
// Not scaled, because they are the system's speed rather than the scenario's timeline: injected latencies and
// CDN stalls, the client's timeouts and backoffs, login/search/download times, arrival rates (a compressed
// arrival-rate run makes proportionally fewer iterations), and count thresholds ("count<10").
//
// Scaled by `load` (f < 1 lightens): vus, startVUs, stage targets, preAllocatedVUs, maxVUs and arrival rates;
// VU counts are rounded to whole rooms (ktv.population.usersPerRoom) and never below one room, rates never
// below 1 per timeUnit. Rooms fixed by ktv.population.rooms are kept.
//
// Every change is said in `notices` (printed by `ktv run`), and the description carries the factors into the
// results (summary.json, the report), so a short form is never mistaken for the scenario itself.

export interface ScaleOptions {
  /** Time factor, 0 < time <= 1 (1: unchanged). */
  time?: number;
  /** Load factor, 0 < load <= 1 (1: unchanged). */
  load?: number;
}

export class ScaleError extends Error {
  override name = "ScaleError";
}

export interface Scaled {
  scenario: ScenarioDefinition;
  notices: string[];
}

const LOAD_TIMES = ["duration", "startTime", "gracefulStop", "gracefulRampDown", "maxDuration"] as const;
const VU_FIELDS = ["vus", "startVUs", "preAllocatedVUs", "maxVUs"] as const;

/** `def` scaled; `def` itself is not changed. Throws ScaleError on a factor out of (0, 1]. */
export function scaleScenario(def: ScenarioDefinition, o: ScaleOptions): Scaled {
  const time = factor(o.time, "time");
  const load = factor(o.load, "load");
  if (time === 1 && load === 1) return { scenario: def, notices: [] };
  const t = (d: unknown) => `${Math.max(1, Math.round(durationMs(d as string) * time))}ms`;
  const k = def.ktv ?? {};
  const room = k.population?.usersPerRoom ?? 2;
  const vus = (n: number) => (n === 0 ? 0 : Math.max(room, Math.round((n * load) / room) * room));

  const { scenarios } = expandShortcuts(def.options);
  const out: ScenarioConfigs = {};
  for (const [name, c] of Object.entries(scenarios)) {
    const next: Record<string, unknown> = { ...c };
    if (time !== 1) for (const f of LOAD_TIMES) if (c[f] !== undefined) next[f] = t(c[f]);
    if (load !== 1) {
      for (const f of VU_FIELDS) if (typeof c[f] === "number") next[f] = vus(c[f] as number);
      if (typeof c.rate === "number") next.rate = Math.max(1, Math.round(c.rate * load));
      if (typeof c.startRate === "number") next.startRate = Math.max(0, Math.round(c.startRate * load));
    }
    if (Array.isArray(c.stages)) {
      const arrival = c.executor === "ramping-arrival-rate";
      next.stages = (c.stages as { duration: string; target: number }[]).map((s) => ({
        duration: time === 1 ? s.duration : t(s.duration),
        target: load === 1 ? s.target : arrival ? Math.max(1, Math.round(s.target * load)) : vus(s.target),
      }));
    }
    out[name] = next;
  }
  const options: LoadOptions = {
    scenarios: out as unknown as LoadOptions["scenarios"],
    ...(def.options.thresholds ? { thresholds: scaleThresholds(def.options.thresholds, time) } : {}),
  };

  const ktv = { ...k };
  if (time !== 1) {
    ktv.singSeconds = Math.round((k.singSeconds ?? 5) * time * 1000) / 1000;
    if (k.maxStartDelay !== undefined) ktv.maxStartDelay = t(k.maxStartDelay);
    if (k.duration !== undefined) ktv.duration = t(k.duration);
    if (k.simulator) {
      ktv.simulator = { ...k.simulator };
      for (const f of ["resourceTtlMs", "shareTtlMs"] as const) {
        const v = k.simulator[f];
        if (v !== undefined) ktv.simulator[f] = Math.max(1, Math.round(v * time));
      }
    }
    if (k.faults) {
      ktv.faults = {
        ...(k.faults.profile !== undefined ? { profile: scaleProfile(k.faults.profile, time) } : {}),
        ...(k.faults.timeline
          ? {
              timeline: k.faults.timeline.map((s) => ({
                at: t(s.at),
                profile: scaleProfile(s.profile, time),
              })),
            }
          : {}),
      };
    }
  }

  const notices: string[] = [];
  if (time !== 1) {
    notices.push(
      `time scale ×${time}: ${def.name}'s timeline (load, fault windows and TTLs, songs of ${k.singSeconds ?? 5} s -> ${ktv.singSeconds} s, threshold windows) runs ${round(1 / time)}× faster; latencies, timeouts and arrival rates are real time`,
    );
  }
  if (load !== 1)
    notices.push(`load scale ×${load}: ${def.name} runs with fewer users (VUs and arrival rates)`);
  const tag = [time !== 1 ? `time scale ×${time}` : "", load !== 1 ? `load scale ×${load}` : ""]
    .filter((x) => x !== "")
    .join(", ");
  return { scenario: { ...def, description: `(${tag}) ${def.description}`, options, ktv }, notices };
}

function factor(v: number | undefined, what: string): number {
  if (v === undefined) return 1;
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0 || v > 1)
    throw new ScaleError(`the ${what} scale must be a number in (0, 1], got ${JSON.stringify(v)}`);
  return v;
}

const round = (x: number) => Math.round(x * 10) / 10;

/** A fault profile with its windows and expiry TTLs scaled; anything else as written. */
function scaleProfile(profile: unknown, time: number): unknown {
  const faults = (profile as { faults?: unknown } | null)?.faults;
  if (!Array.isArray(faults)) return profile;
  const ms = (v: unknown) => (typeof v === "number" ? Math.round(v * time) : v);
  return {
    ...(profile as object),
    faults: faults.map((f: Record<string, unknown>) => {
      const next = { ...f };
      for (const key of ["from", "until"]) if (f[key] !== undefined) next[key] = ms(f[key]);
      if (f.kind === "expiry" && f.ttl_ms !== undefined) next.ttl_ms = Math.max(1, ms(f.ttl_ms) as number);
      return next;
    }),
  };
}

const OVER = /(\s+over\s+)(\S+)\s*$/;

// A run's warm-up is real time, not the scenario's: workers start, code is compiled, the first songs render,
// whatever the time scale. An abort delay compressed below it judged start-up (capacity at x0.04: 20 s -> 0.8 s,
// aborted at 1 s on mix lateness with no iteration done, in CI). So a scaled abort delay stays at least
// WARM_UP_MS (or the original, if shorter), and a window at least one evaluation interval's worth of samples.
const WARM_UP_MS = 5_000;
const MIN_WINDOW_MS = 2_000;
const floorMs = (scaled: number, original: number, floor: number) =>
  Math.max(scaled, Math.min(original, floor));

function scaleThresholds(th: NonNullable<LoadOptions["thresholds"]>, time: number) {
  if (time === 1) return th;
  const expr = (s: string) =>
    s.replace(
      OVER,
      (_m, over: string, d: string) =>
        `${over}${floorMs(Math.max(1, Math.round(durationMs(d) * time)), durationMs(d), MIN_WINDOW_MS)}ms`,
    );
  const out: Record<string, unknown> = {};
  for (const [metric, list] of Object.entries(th as Record<string, unknown>)) {
    out[metric] = Array.isArray(list)
      ? list.map((x: unknown) => {
          if (typeof x === "string") return expr(x);
          const o = x as { threshold: string; delayAbortEval?: string };
          return {
            ...o,
            threshold: expr(o.threshold),
            ...(o.delayAbortEval !== undefined
              ? {
                  delayAbortEval: `${floorMs(
                    Math.round(durationMs(o.delayAbortEval) * time),
                    durationMs(o.delayAbortEval),
                    WARM_UP_MS,
                  )}ms`,
                }
              : {}),
          };
        })
      : list;
  }
  return out as NonNullable<LoadOptions["thresholds"]>;
}
