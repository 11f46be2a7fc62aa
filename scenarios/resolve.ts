import { DEFAULT_MEDIA_CODEC, type MediaCodec } from "../reference/codec/profile.ts";
import { DEFAULT_PAUSE_MS } from "../reference/pipeline/player-actions.ts";
import type { SimOptions } from "../simulator/options.ts";
import { durationNotices, durationProblem } from "./duration-needs.ts";
import type {
  CacheBehaviour,
  LoadOptions,
  MediaTransport,
  MixData,
  ScenarioDefinition,
  VuKind,
} from "./format.ts";
import { durationMs } from "./load/duration.ts";
import { type LoadPlan, planLoad } from "./load/plan.ts";
import { expandShortcuts, type ScenarioConfigs } from "./load/shortcuts.ts";
import { type FaultExpectation, resolveExpectation } from "./run/fault-check.ts";
import { ExecutionTuple, executionTuple } from "./segments/tuple.ts";
import { validateScenario } from "./validate.ts";

// A validated scenario with every default filled in and the load in its long form: what the runner and its
// workers use (plain data, so it crosses to worker threads as is). `--duration` is applied here, and refused
// when the run it would make is too short for the scenario's faults or cases (duration-needs.ts).

export interface ResolvedScenario {
  name: string;
  description: string;
  /** The long form: shortcuts expanded. */
  options: { scenarios: ScenarioConfigs; thresholds: Record<string, unknown> };
  vu: VuKind;
  population: { rooms: number | null; usersPerRoom: number; singersPerRoom: number };
  songs: { charts: string[]; zipf: number; poolSize: number; searchMix: number };
  shareRatio: number;
  cache: CacheBehaviour;
  audio: { shared: boolean; voiceProfiles: number };
  resource: { type: number; quality: number; vendorId: number; billingMode: number };
  singSeconds: number;
  /** Songs a pipeline VU runs on one room login (1: a login per song). */
  songsPerLogin: number;
  media: { codec: MediaCodec; transport: MediaTransport };
  faults: { profile: unknown | null; timeline: { atMs: number; profile: unknown | null }[] };
  /** What the run must show its faults did (run/fault-check.ts), defaults filled in. */
  expect: FaultExpectation;
  /** Hard limit of the run, ms. */
  durationMs: number;
  maxStartDelayMs: number;
  simulator: Partial<SimOptions>;
  extrapolateRooms: number[];
  /** token04 login (ktv.auth); mode "appsign" by default. */
  auth: { mode: "appsign" | "token04"; ttlSeconds: number; staleShare: number };
  /** Lyrics singers fetch and follow (ktv.lyrics), or null. */
  lyrics: "krc" | "lrc" | null;
  /** Vocal scoring of singers (ktv.scoring), or null. */
  scoring: { level: number; pitchValueInterval: number; singers: string[] } | null;
  /** ktv.mix: [value, weight] per field (a field left out is `resource`'s value, weight 1); null without it. */
  mix: ResolvedMix | null;
  /** ktv.player with its defaults; null without it. */
  player: { pauseProb: number; seekProb: number; pauseMs: number; dropProb: number } | null;
  /** What `--duration` changed beyond the length (a ramp scaled), for the user to read; empty without it. */
  notices: string[];
  /**
   * The execution segment this instance runs (`--execution-segment`, `--execution-segment-sequence`) in k6's
   * canonical text, the sequence filled to cover [0, 1]; "0:1" and "0,1" for the whole test. Every plan of
   * the run (planOf, in the workers too) is cut to it.
   */
  segment: { segment: string; sequence: string };
}

export interface ResolvedMix {
  types: [number, number][];
  vendors: [number, number][];
  scenes: [number, number][];
  billingModes: [number, number][];
}

function resolveMix(m: MixData, r: ResolvedScenario["resource"]): ResolvedMix {
  const list = (w: Record<string, number> | undefined, single: number): [number, number][] =>
    w ? Object.entries(w).map(([v, x]) => [Number(v), x]) : [[single, 1]];
  return {
    types: list(m.types, r.type),
    vendors: list(m.vendors, r.vendorId),
    scenes: list(m.scenes, 0),
    billingModes: list(m.billingModes, r.billingMode),
  };
}

export class ScenarioError extends Error {
  constructor(
    readonly scenario: string,
    readonly errors: string[],
  ) {
    super(`scenario ${scenario} is invalid:\n  ${errors.join("\n  ")}`);
    this.name = "ScenarioError";
  }
}

/** `--duration` that would make a run which cannot show what the scenario declares (duration-needs.ts). */
export class DurationError extends ScenarioError {
  constructor(scenario: string, problem: string) {
    super(scenario, [problem]);
    this.message = problem;
    this.name = "DurationError";
  }
}

/** Default charts per vendor: vendors 0/1 "hot picks" (8888), vendor 2 its first list; vendor 4 has none. */
export function defaultCharts(vendorId: number): string[] {
  if (vendorId === 2) return ["22004"];
  if (vendorId === 4) return [];
  return ["8888"];
}

export function resolveScenario(
  def: ScenarioDefinition,
  o: { durationOverrideMs?: number; segment?: ExecutionTuple } = {},
): ResolvedScenario {
  const errors = validateScenario(def);
  if (errors.length > 0) throw new ScenarioError(String(def?.name ?? "?"), errors);
  if (o.durationOverrideMs !== undefined) {
    const problem = durationProblem(def, o.durationOverrideMs);
    if (problem !== null) throw new DurationError(def.name, problem);
  }
  const options =
    o.durationOverrideMs === undefined ? def.options : withDuration(def.options, o.durationOverrideMs);
  const tuple = o.segment ?? ExecutionTuple.FULL;
  const plan = planLoad(options, tuple);
  const k = def.ktv ?? {};
  const resource = {
    type: k.resource?.type ?? 1,
    quality: k.resource?.quality ?? 0,
    vendorId: k.resource?.vendorId ?? 0,
    billingMode: k.resource?.billingMode ?? 0,
  };
  const limit =
    k.duration !== undefined && o.durationOverrideMs === undefined ? durationMs(k.duration) : null;
  return {
    name: def.name,
    description: def.description,
    options: {
      scenarios: expandShortcuts(options).scenarios,
      thresholds: (options.thresholds ?? {}) as Record<string, unknown>,
    },
    vu: k.vu ?? "pipeline",
    population: {
      rooms: k.population?.rooms ?? null,
      usersPerRoom: k.population?.usersPerRoom ?? 2,
      singersPerRoom: k.population?.singersPerRoom ?? 1,
    },
    songs: {
      charts: k.songs?.charts ?? defaultCharts(resource.vendorId),
      zipf: k.songs?.zipf ?? 1,
      poolSize: k.songs?.poolSize ?? 50,
      searchMix: k.songs?.searchMix ?? 0.2,
    },
    shareRatio: k.shareRatio ?? 1,
    cache: k.cache ?? "cold",
    audio: { shared: k.audio?.shared ?? false, voiceProfiles: k.audio?.voiceProfiles ?? 0 },
    resource,
    singSeconds: k.singSeconds ?? 5,
    songsPerLogin: k.songsPerLogin ?? 1,
    media: { codec: k.media?.codec ?? DEFAULT_MEDIA_CODEC, transport: k.media?.transport ?? "unix" },
    faults: {
      profile: k.faults?.profile ?? null,
      timeline: (k.faults?.timeline ?? [])
        .map((s) => ({ atMs: durationMs(s.at), profile: s.profile }))
        .sort((a, b) => a.atMs - b.atMs),
    },
    expect: resolveExpectation(k.expect, k.faults ?? {}),
    durationMs: limit ?? plan.maxDurationMs,
    maxStartDelayMs: durationMs(k.maxStartDelay ?? "5s"),
    simulator: { ...k.simulator },
    extrapolateRooms: k.extrapolateRooms ?? [],
    auth: {
      mode: k.auth?.mode ?? "appsign",
      ttlSeconds: k.auth?.ttlSeconds ?? 3600,
      staleShare: k.auth?.staleShare ?? 0,
    },
    lyrics: k.lyrics ?? null,
    scoring: k.scoring
      ? {
          level: k.scoring.level ?? 4,
          pitchValueInterval: k.scoring.pitchValueInterval ?? 50,
          singers: k.scoring.singers ?? ["in-tune"],
        }
      : null,
    mix: k.mix ? resolveMix(k.mix, resource) : null,
    player: k.player
      ? {
          pauseProb: k.player.pauseProb ?? 0,
          seekProb: k.player.seekProb ?? 0,
          pauseMs: k.player.pauseMs ?? DEFAULT_PAUSE_MS,
          dropProb: k.player.dropProb ?? 0,
        }
      : null,
    notices: o.durationOverrideMs === undefined ? [] : durationNotices(def, o.durationOverrideMs),
    segment: tuple.describe(),
  };
}

/** The scenario's plan, cut to its execution segment. */
export function planOf(r: ResolvedScenario): LoadPlan {
  const t = r.segment ? executionTuple(r.segment.segment, r.segment.sequence) : ExecutionTuple.FULL;
  return planLoad({ scenarios: r.options.scenarios } as unknown as LoadOptions, t);
}

/**
 * `--duration D`: every executor's length becomes D (duration; maxDuration of the iteration executors; stages
 * scaled in proportion), startTimes are kept. Returns new options; the input is not changed.
 */
export function withDuration(options: LoadOptions, ms: number): LoadOptions {
  const { scenarios } = expandShortcuts(options);
  const out: ScenarioConfigs = {};
  for (const [name, c] of Object.entries(scenarios)) {
    const next: Record<string, unknown> = { ...c };
    if ("duration" in c) next.duration = `${ms}ms`;
    if (c.executor === "shared-iterations" || c.executor === "per-vu-iterations")
      next.maxDuration = `${ms}ms`;
    if (Array.isArray(c.stages)) {
      const stages = c.stages as { duration: string; target: number }[];
      const total = stages.reduce((a, s) => a + durationMs(s.duration), 0);
      next.stages = stages.map((s) => ({ ...s, duration: `${(durationMs(s.duration) / total) * ms}ms` }));
    }
    out[name] = next;
  }
  return { scenarios: out as unknown as LoadOptions["scenarios"], thresholds: options.thresholds };
}
