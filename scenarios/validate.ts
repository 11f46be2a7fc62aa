import { isMediaCodec, MEDIA_CODECS } from "../reference/codec/profile.ts";
import { checkPlayerActions } from "../reference/pipeline/player-actions.ts";
import { parseSinger } from "../reference/scoring/singer.ts";
import { checkProfile } from "../simulator/faults/profile.ts";
import type { ScenarioDefinition } from "./format.ts";
import { Checks, show } from "./load/check.ts";
import { planLoad, validateLoad } from "./load/plan.ts";
import { declaredFaultIds, RECOVERY_RULES } from "./run/fault-check.ts";
import { parseThresholds } from "./thresholds/parser.ts";

// validate(): every problem of a scenario at once, as "path: why" (k6's Validate() style): the load options,
// the thresholds, and the KTV data, including the fault profiles, checked by the simulator's own profile
// validator so a scenario cannot carry a profile the simulator would refuse mid-run.

const TOP = ["name", "description", "options", "ktv"];
const OPTIONS = ["vus", "duration", "iterations", "stages", "scenarios", "thresholds"];
const KTV = [
  "vu",
  "population",
  "songs",
  "shareRatio",
  "cache",
  "audio",
  "resource",
  "singSeconds",
  "songsPerLogin",
  "media",
  "faults",
  "expect",
  "duration",
  "maxStartDelay",
  "simulator",
  "extrapolateRooms",
  "auth",
  "lyrics",
  "scoring",
  "mix",
  "player",
];

export function validateScenario(input: unknown): string[] {
  const ch = new Checks("");
  if (!ch.isObject(input, "scenario")) return ch.errors;
  const s = input as Record<string, unknown>;
  ch.onlyKeys(s, TOP);
  if (typeof s.name !== "string" || !/^[A-Za-z0-9_.-]{1,64}$/.test(s.name)) {
    ch.fail("name", `must be 1-64 letters, digits, '.', '-' or '_', got ${show(s.name)}`);
  }
  if (typeof s.description !== "string") ch.fail("description", "must be a string");
  if (ch.isObject(s.options, "options")) {
    const o = s.options as Record<string, unknown>;
    const oc = new Checks("options");
    oc.onlyKeys(o, OPTIONS, {
      summaryTrendStats: "not supported: summary.json always has count, min, p50, p95, p99, p999, max",
    });
    const loadErrors = validateLoad(o as ScenarioDefinition["options"]);
    ch.errors.push(...oc.errors, ...loadErrors);
    ch.errors.push(...parseThresholds(o.thresholds).errors);
    const vu = (s.ktv as { vu?: unknown } | undefined)?.vu;
    if (
      loadErrors.length === 0 &&
      vu === "conformance" &&
      planLoad(o as ScenarioDefinition["options"]).maxVUs > 1
    ) {
      ch.fail("ktv.vu", "conformance cases change the simulator's faults one case at a time: use one VU");
    }
  }
  if (s.ktv !== undefined && ch.isObject(s.ktv, "ktv"))
    ch.errors.push(...validateKtv(s.ktv as Record<string, unknown>));
  return ch.errors;
}

function validateKtv(k: Record<string, unknown>): string[] {
  const ch = new Checks("ktv");
  ch.onlyKeys(k, KTV);
  if (k.vu !== undefined && !["pipeline", "music", "conformance", "backend"].includes(k.vu as string)) {
    ch.fail("vu", `must be "pipeline", "music", "conformance" or "backend", got ${show(k.vu)}`);
  }
  const sub = (field: string, keys: string[], check: (c: Checks, o: Record<string, unknown>) => void) => {
    const v = k[field];
    if (v === undefined || !ch.isObject(v, field)) return;
    const c = new Checks(`ktv.${field}`);
    c.onlyKeys(v as Record<string, unknown>, keys);
    check(c, v as Record<string, unknown>);
    ch.errors.push(...c.errors);
  };
  sub("population", ["rooms", "usersPerRoom", "singersPerRoom"], (c, p) => {
    c.int(p, "rooms", 1);
    c.int(p, "usersPerRoom", 1, { max: 50 });
    c.int(p, "singersPerRoom", 0, { max: 50 });
    const upr = (p.usersPerRoom as number | undefined) ?? 2;
    if (typeof p.singersPerRoom === "number" && p.singersPerRoom > upr) {
      c.fail("singersPerRoom", `${p.singersPerRoom} is more than usersPerRoom (${upr})`);
    }
  });
  sub("songs", ["charts", "zipf", "poolSize", "searchMix"], (c, p) => {
    if (p.charts !== undefined) {
      const charts = p.charts;
      const ok =
        Array.isArray(charts) &&
        charts.length > 0 &&
        charts.every((x: unknown) => typeof x === "string" && /^[0-9]{1,10}$/.test(x));
      if (!ok) {
        c.fail(
          "charts",
          `must be a non-empty list of top ids (strings such as "8888"), got ${show(p.charts)}`,
        );
      }
    }
    c.num(p, "zipf", 0, 10);
    c.int(p, "poolSize", 1, { max: 1000 });
    c.num(p, "searchMix", 0, 1);
  });
  ch.num(k, "shareRatio", 0, 1);
  if (k.cache !== undefined && k.cache !== "cold" && k.cache !== "vu" && k.cache !== "memory") {
    ch.fail("cache", `must be "cold", "vu" or "memory", got ${show(k.cache)}`);
  }
  if (k.cache === "memory" && k.vu !== undefined && k.vu !== "pipeline") {
    ch.fail("cache", `"memory" is for pipeline VUs (ktv.vu is ${show(k.vu)})`);
  }
  sub("audio", ["shared", "voiceProfiles"], (c, a) => {
    if (a.shared !== undefined && typeof a.shared !== "boolean") {
      c.fail("shared", `must be true or false, got ${show(a.shared)}`);
    }
    c.int(a, "voiceProfiles", 0, { max: 4096 });
  });
  sub("resource", ["type", "quality", "vendorId", "billingMode"], (c, r) => {
    c.int(r, "type", 0, { max: 3 });
    c.int(r, "quality", 0, { max: 2 });
    if (r.vendorId !== undefined && ![0, 1, 2, 4].includes(r.vendorId as number)) {
      c.fail("vendorId", `must be 0, 1, 2 or 4, got ${show(r.vendorId)}`);
    }
    c.int(r, "billingMode", 0, { max: 3 });
  });
  ch.num(k, "singSeconds", 0.02, 3600);
  ch.int(k, "songsPerLogin", 1, { max: 10_000 });
  sub("media", ["codec", "transport"], (c, m) => {
    if (m.codec !== undefined && !isMediaCodec(m.codec)) {
      c.fail("codec", `must be ${MEDIA_CODECS.map((x) => `"${x}"`).join(", ")}, got ${show(m.codec)}`);
    }
    if (m.transport !== undefined && m.transport !== "unix" && m.transport !== "tcp") {
      c.fail("transport", `must be "unix" or "tcp", got ${show(m.transport)}`);
    }
  });
  ch.duration(k, "duration", { positive: true });
  ch.duration(k, "maxStartDelay");
  sub("simulator", ["catalogSize", "resourceTtlMs", "shareTtlMs", "cdnGlobalBytesPerSec"], (c, o) => {
    c.int(o, "catalogSize", 100, { max: 2_000_000 });
    c.int(o, "resourceTtlMs", 1);
    c.int(o, "shareTtlMs", 1);
    c.int(o, "cdnGlobalBytesPerSec", 0);
  });
  if (k.extrapolateRooms !== undefined) {
    const r = k.extrapolateRooms;
    if (!Array.isArray(r) || r.length > 20 || !r.every((n) => Number.isInteger(n) && n > 0)) {
      ch.fail("extrapolateRooms", `must be a list of at most 20 positive integers, got ${show(r)}`);
    }
  }
  ch.errors.push(...authAndLyricsErrors(k));
  sub("faults", ["profile", "timeline"], (c, f) => {
    if (f.profile !== undefined && f.profile !== null) profileErrors(c, "profile", f.profile);
    if (f.timeline === undefined) return;
    if (!Array.isArray(f.timeline)) {
      c.fail("timeline", "must be a list of {at, profile}");
      return;
    }
    f.timeline.forEach((step: unknown, i: number) => {
      if (!c.isObject(step, `timeline[${i}]`)) return;
      const sc = new Checks(`ktv.faults.timeline[${i}]`);
      const st = step as Record<string, unknown>;
      sc.onlyKeys(st, ["at", "profile"]);
      sc.duration(st, "at", { required: true });
      if (!("profile" in st)) sc.fail("profile", "is required (null removes every fault)");
      else if (st.profile !== null) profileErrors(sc, "profile", st.profile);
      c.errors.push(...sc.errors);
    });
  });
  ch.errors.push(...mixErrors(k));
  if (k.expect !== undefined && ch.isObject(k.expect, "expect")) {
    ch.errors.push(...expectErrors(k.expect as Record<string, unknown>, k.faults));
  }
  return ch.errors;
}

/** ktv.auth (token04 login) and ktv.lyrics (issue 11 item 3): pipeline VUs only. */
function authAndLyricsErrors(k: Record<string, unknown>): string[] {
  const ch = new Checks("ktv");
  const pipelineOnly = (field: string) => {
    if (k.vu !== undefined && k.vu !== "pipeline")
      ch.fail(field, `is for pipeline VUs (ktv.vu is ${show(k.vu)})`);
  };
  if (k.auth !== undefined && ch.isObject(k.auth, "auth")) {
    const a = k.auth as Record<string, unknown>;
    const c = new Checks("ktv.auth");
    c.onlyKeys(a, ["mode", "ttlSeconds", "staleShare"]);
    if (a.mode !== "appsign" && a.mode !== "token04") {
      c.fail("mode", `must be "appsign" or "token04", got ${show(a.mode)}`);
    }
    // The vendor warns 30 s ahead: a shorter life is inside the warning at login, and every renewal again.
    c.int(a, "ttlSeconds", 31, { max: 7 * 24 * 3600 });
    c.num(a, "staleShare", 0, 1);
    if (a.mode === "appsign" && (a.ttlSeconds !== undefined || a.staleShare !== undefined)) {
      c.fail("mode", `ttlSeconds and staleShare apply to "token04" only`);
    }
    ch.errors.push(...c.errors);
    if (a.mode === "token04") pipelineOnly("auth");
  }
  if (k.lyrics !== undefined) {
    if (k.lyrics !== "krc" && k.lyrics !== "lrc")
      ch.fail("lyrics", `must be "krc" or "lrc", got ${show(k.lyrics)}`);
    else pipelineOnly("lyrics");
  }
  if (k.scoring !== undefined && ch.isObject(k.scoring, "scoring")) {
    const a = k.scoring as Record<string, unknown>;
    const c = new Checks("ktv.scoring");
    c.onlyKeys(a, ["level", "pitchValueInterval", "singers"]);
    c.int(a, "level", 0, { max: 4 });
    c.int(a, "pitchValueInterval", 10, { max: 60_000 });
    if (a.singers !== undefined) {
      if (!Array.isArray(a.singers) || a.singers.length === 0) c.fail("singers", "must be a non-empty array");
      else
        for (const [i, v] of a.singers.entries()) {
          try {
            parseSinger(v as string);
          } catch (e) {
            c.fail(`singers[${i}]`, (e as Error).message);
          }
        }
    }
    ch.errors.push(...c.errors);
    pipelineOnly("scoring");
  }
  return ch.errors;
}

// ---- ktv.mix and ktv.player (the vendor surface of issue 11) ----

const MIX_VALUES: Record<string, readonly number[]> = {
  types: [0, 1, 2, 3],
  vendors: [0, 1, 2, 4],
  scenes: [0, 1, 2, 3, 4],
  billingModes: [0, 1, 2, 3],
};

function mixErrors(k: Record<string, unknown>): string[] {
  const errors: string[] = [];
  const fail = (path: string, why: string) => errors.push(`ktv.${path}: ${why}`);
  const pipelineOnly = (field: string) => {
    if (k[field] !== undefined && k.vu !== undefined && k.vu !== "pipeline") {
      fail(field, `is for pipeline VUs (ktv.vu is ${show(k.vu)})`);
    }
  };
  if (k.mix !== undefined) {
    pipelineOnly("mix");
    const m = k.mix as Record<string, unknown>;
    if (typeof m !== "object" || m === null || Array.isArray(m)) {
      fail("mix", "must be an object");
    } else {
      for (const key of Object.keys(m)) {
        if (!(key in MIX_VALUES))
          fail(`mix.${key}`, `unknown (allowed: ${Object.keys(MIX_VALUES).join(", ")})`);
      }
      for (const [field, allowed] of Object.entries(MIX_VALUES)) {
        const w = m[field];
        if (w === undefined) continue;
        const entries = typeof w === "object" && w !== null && !Array.isArray(w) ? Object.entries(w) : null;
        if (entries === null || entries.length === 0) {
          fail(`mix.${field}`, `must be an object of weights such as {"${allowed[0]}": 1}, got ${show(w)}`);
          continue;
        }
        for (const [value, weight] of entries) {
          if (!allowed.includes(Number(value)) || String(Number(value)) !== value) {
            fail(`mix.${field}`, `"${value}" is not one of ${allowed.join(", ")}`);
          }
          if (typeof weight !== "number" || !Number.isFinite(weight) || weight < 0) {
            fail(`mix.${field}.${value}`, `weight must be a number >= 0, got ${show(weight)}`);
          }
        }
        if (!entries.some(([, weight]) => typeof weight === "number" && weight > 0)) {
          fail(`mix.${field}`, "needs at least one weight above 0");
        }
      }
      if (errors.length === 0) {
        const r = (k.resource ?? {}) as Record<string, unknown>;
        const problem = mixCoverageProblem(m as MixWeights, r);
        if (problem) fail("mix", problem);
      }
    }
  }
  if (k.player !== undefined) {
    pipelineOnly("player");
    const p = k.player as Record<string, unknown>;
    if (typeof p !== "object" || p === null || Array.isArray(p)) fail("player", "must be an object");
    else {
      for (const key of Object.keys(p)) {
        if (!["pauseProb", "seekProb", "pauseMs", "dropProb"].includes(key)) fail(`player.${key}`, "unknown");
      }
      for (const e of checkPlayerActions(p)) errors.push(`ktv.${e}`);
    }
  }
  return errors;
}

type MixWeights = { [K in keyof typeof MIX_VALUES]?: Record<string, number> };

/** A vendor in the mix that offers none of the mix's types, or a quality the mix cannot serve; else null. */
function mixCoverageProblem(m: MixWeights, r: Record<string, unknown>): string | null {
  const positive = (w: Record<string, number> | undefined, fallback: number) =>
    w
      ? Object.entries(w)
          .filter(([, x]) => x > 0)
          .map(([v]) => Number(v))
      : [fallback];
  const vendors = positive(m.vendors, (r.vendorId as number | undefined) ?? 0);
  const types = positive(m.types, (r.type as number | undefined) ?? 1);
  for (const v of vendors) {
    if (!types.some((t) => vendorOffers(v, t))) {
      return `vendor ${v} offers none of the resource types ${types.join(", ")} (spec §2: clips on vendors 0/1, segments on 0/1/2)`;
    }
  }
  if ((m.types || m.vendors) && ((r.quality as number | undefined) ?? 0) !== 0) {
    return "a mix of types or vendors requests quality 0 (normal), the one every type and vendor offers";
  }
  return null;
}

/** Spec §2: songs and accompaniments from every vendor, long clips from 0/1, short segments from 0/1/2. */
export function vendorOffers(vendor: number, type: number): boolean {
  if (type === 2) return vendor === 0 || vendor === 1;
  if (type === 3) return vendor === 0 || vendor === 1 || vendor === 2;
  return true;
}

/** ktv.expect (run/fault-check.ts): fault ids the scenario declares, known rules, counts and codes. */
function expectErrors(e: Record<string, unknown>, faults: unknown): string[] {
  const c = new Checks("ktv.expect");
  c.onlyKeys(e, ["faultsFired", "recoveries", "surfaced"]);
  const declared =
    typeof faults === "object" && faults !== null
      ? declaredFaultIds(faults as Parameters<typeof declaredFaultIds>[0])
      : [];
  if (e.faultsFired !== undefined) {
    if (!Array.isArray(e.faultsFired))
      c.fail("faultsFired", `must be a list of fault ids, got ${show(e.faultsFired)}`);
    else
      e.faultsFired.forEach((id: unknown, i: number) => {
        if (typeof id !== "string" || !declared.includes(id)) {
          c.fail(
            `faultsFired[${i}]`,
            `${show(id)} is no fault of ktv.faults (${declared.length > 0 ? `its faults: ${declared.join(", ")}` : "it declares none"})`,
          );
        }
      });
  }
  if (e.recoveries !== undefined && c.isObject(e.recoveries, "recoveries")) {
    for (const [rule, r] of Object.entries(e.recoveries as Record<string, unknown>)) {
      const rc = new Checks(`ktv.expect.recoveries.${rule}`);
      if (!(RECOVERY_RULES as readonly string[]).includes(rule)) {
        c.fail(`recoveries.${rule}`, `unknown recovery rule (expected one of ${RECOVERY_RULES.join(", ")})`);
        continue;
      }
      if (!c.isObject(r, `recoveries.${rule}`)) continue;
      const o = r as Record<string, unknown>;
      rc.onlyKeys(o, ["atLeast", "hides"]);
      rc.int(o, "atLeast", 0);
      const hides = o.hides;
      if (
        hides !== undefined &&
        !(Array.isArray(hides) && hides.every((x: unknown) => Number.isInteger(x) && (x as number) > 0))
      ) {
        rc.fail("hides", `must be a list of error codes (positive integers), got ${show(hides)}`);
      }
      c.errors.push(...rc.errors);
    }
  }
  if (e.surfaced !== undefined && c.isObject(e.surfaced, "surfaced")) {
    const sc = new Checks("ktv.expect.surfaced");
    for (const code of Object.keys(e.surfaced as Record<string, unknown>)) {
      if (!/^[1-9][0-9]{0,9}$/.test(code)) sc.fail(code, "must be an error code (a positive integer)");
      else sc.int(e.surfaced as Record<string, unknown>, code, 1);
    }
    c.errors.push(...sc.errors);
  }
  return c.errors;
}

function profileErrors(c: Checks, field: string, profile: unknown): void {
  const r = checkProfile(profile);
  if (!r.ok) for (const e of r.errors) c.fail(field, e);
}
