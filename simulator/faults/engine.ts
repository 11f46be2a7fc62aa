import { Counter, type Registry } from "prom-client";
import type { Catalog } from "../catalog/types.ts";
import type { Clock } from "../clock.ts";
import { createEventLog, DEFAULT_EVENT_CAPACITY, type FaultEffect, type FaultEvent } from "./events.ts";
import type { FaultKind } from "./kind.ts";
import { EMPTY_PROFILE, type FaultProfile, type FaultSpec, parseProfile } from "./profile.ts";
import { getKind } from "./registry.ts";
import { counterRng, keyLane, type Lane, seededLane } from "./rng.ts";
import type { FaultDecision, FaultRequest, FaultSeam } from "./seam.ts";
import { compileSelector, type Matcher } from "./selector.ts";

// The fault engine composes the profile's faults for each request, in profile order: latencies add up, the
// first answering fault (error, outage) wins and later ones are skipped.
//
// The request key. Each request gets
//     `${app_id}|${user_id}|${route}[|${command}]#${n}`
// where n counts that app+user's requests on that route+command (1, 2, 3...) since start or reset, and "-"
// stands for a missing app or user (requests without a session then share the per-app, per-route count).
// Every random decision about a request is a pure function of (seed, fault id, request key) (rng.ts), so
// concurrent users can interleave in any order and still each get the same faults. What stays order-
// dependent by nature: time windows (clock time) and count limits with count_scope "global" (the default),
// which count requests in arrival order; count_scope "user" counts per app+user and is order-independent.
// The per-stream counts live until reset(): one small entry per app+user+route+command ever seen.

export interface FaultEngineOptions {
  seed: number;
  clock: Clock;
  /** Initial profile (parsed JSON); refused whole with FaultProfileError when invalid. */
  profile?: unknown;
  /** When given, song ids in selectors must exist. */
  catalog?: Catalog;
  /** Where faults_injected_total is registered (the simulator's metrics registry). */
  registry?: Registry;
  eventCapacity?: number;
}

export interface FaultEngine extends FaultSeam {
  getProfile(): FaultProfile;
  /** Validates, then swaps the whole profile in one step; throws FaultProfileError and keeps the old one. */
  replace(input: unknown): FaultProfile;
  /** Enables or disables one fault; undefined when no fault has that id. */
  setEnabled(id: string, enabled: boolean): FaultSpec | undefined;
  /** No faults, no counts, no events, request sequences from 1 again. */
  reset(): void;
  /** Injected-fault events with time >= sinceMs, oldest first. */
  events(sinceMs?: number): FaultEvent[];
  readonly eventsDropped: number;
}

interface Counts {
  matched: number;
  injected: number;
}

interface Compiled {
  spec: FaultSpec;
  kind: FaultKind;
  lane: Lane;
  match: Matcher;
  from: number;
  until: number;
  global: Counts;
  perUser: Map<string, Counts>;
}

interface Snapshot {
  profile: FaultProfile;
  faults: readonly Compiled[];
  /** Clock time that from/until count from. */
  base: number;
}

/** Faults apply to the vendor API surfaces (/v1/...), never to admin or ops: an outage must stay switchable. */
export function isFaultableRoute(route: string): boolean {
  return route.startsWith("/v1/", route.indexOf(" ") + 1);
}

function toWire(d: FaultDecision): FaultEffect {
  const e: FaultEffect = {};
  if (d.delayMs !== undefined) e.delay_ms = Math.round(d.delayMs * 1000) / 1000;
  if (d.vendorCode !== undefined) e.code = d.vendorCode;
  if (d.httpStatus !== undefined) e.http_status = d.httpStatus;
  if (d.dropConnection) e.drop = true;
  return e;
}

export function createFaultEngine(o: FaultEngineOptions): FaultEngine {
  const { seed, clock, catalog } = o;
  const log = createEventLog(o.eventCapacity ?? DEFAULT_EVENT_CAPACITY);
  const injectedTotal = new Counter({
    name: "faults_injected_total",
    help: "Faults injected into requests, by fault id and kind",
    labelNames: ["fault_id", "kind"],
    registers: o.registry ? [o.registry] : [],
  });
  const sequences = new Map<string, number>();

  function compile(profile: FaultProfile): Snapshot {
    const now = clock.now();
    const faults = profile.faults.map((spec): Compiled => {
      const lane = seededLane(seed, spec.id);
      return {
        spec,
        kind: getKind(spec.kind)!,
        lane,
        match: compileSelector(spec.selector, lane),
        from: spec.from ?? 0,
        until: spec.until ?? Number.POSITIVE_INFINITY,
        global: { matched: 0, injected: 0 },
        perUser: new Map(),
      };
    });
    return { profile, faults, base: profile.time_base === "profile" ? now : clock.startedAt };
  }

  // The one mutable reference: a decision reads it once, so it sees one whole profile, old or new.
  let active = compile(o.profile === undefined ? EMPTY_PROFILE : parseProfile(o.profile, { catalog }));

  function countsFor(f: Compiled, who: string): Counts {
    if (f.spec.count_scope !== "user") return f.global;
    let c = f.perUser.get(who);
    if (!c) {
      c = { matched: 0, injected: 0 };
      f.perUser.set(who, c);
    }
    return c;
  }

  function decide(req: FaultRequest): FaultDecision {
    if (!isFaultableRoute(req.route)) return {};
    const snap = active;
    const who = `${req.app_id ?? "-"}|${req.user_id ?? "-"}`;
    const stream = req.command === undefined ? `${who}|${req.route}` : `${who}|${req.route}|${req.command}`;
    const n = (sequences.get(stream) ?? 0) + 1;
    sequences.set(stream, n);
    if (snap.faults.length === 0) return {};
    const requestKey = `${stream}#${n}`;
    const key = keyLane(requestKey);
    const now = clock.now();
    const t = now - snap.base;
    const out: FaultDecision = {};
    let answered = false;
    for (const f of snap.faults) {
      if (!f.spec.enabled || t < f.from || t >= f.until || !f.match(req)) continue;
      const counts = countsFor(f, who);
      const m = ++counts.matched;
      if (
        (f.spec.first !== undefined && m > f.spec.first) ||
        (f.spec.every !== undefined && m % f.spec.every !== 0)
      ) {
        continue;
      }
      if ((f.kind.terminal && answered) || (f.spec.max !== undefined && counts.injected >= f.spec.max)) {
        continue;
      }
      const rng = counterRng(f.lane, key);
      // Draw 0 is always the probability roll, so the kind's own draws do not shift when probability changes.
      if (!(rng.next() < f.spec.probability)) continue;
      const effect = f.kind.apply({ fault: f.spec, request: req, now }, rng);
      counts.injected++;
      if (effect.delayMs !== undefined) out.delayMs = (out.delayMs ?? 0) + effect.delayMs;
      if (f.kind.terminal) {
        answered = true;
        if (effect.vendorCode !== undefined) out.vendorCode = effect.vendorCode;
        if (effect.httpStatus !== undefined) out.httpStatus = effect.httpStatus;
        if (effect.dropConnection) out.dropConnection = true;
      }
      injectedTotal.inc({ fault_id: f.spec.id, kind: f.spec.kind });
      log.push({
        time: now,
        fault_id: f.spec.id,
        kind: f.spec.kind,
        route: req.command === undefined ? req.route : `${req.route} ${req.command}`,
        request_key: requestKey,
        effect: toWire(effect),
      });
    }
    return out;
  }

  return {
    decide,
    getProfile: () => active.profile,
    replace(input) {
      const profile = parseProfile(input, { catalog });
      active = compile(profile);
      return profile;
    },
    setEnabled(id, enabled) {
      const snap = active;
      const i = snap.faults.findIndex((f) => f.spec.id === id);
      if (i < 0) return undefined;
      const spec: FaultSpec = Object.freeze({ ...snap.faults[i]!.spec, enabled });
      // Copy on write: counts carry over, and no snapshot a decision may be reading is mutated.
      const faults = snap.faults.map((f, j) => (j === i ? { ...f, spec } : f));
      const profile = Object.freeze({
        ...snap.profile,
        faults: Object.freeze(faults.map((f) => f.spec)) as FaultSpec[],
      });
      active = { ...snap, profile, faults };
      return spec;
    },
    reset() {
      active = compile(EMPTY_PROFILE);
      sequences.clear();
      log.clear();
    },
    events: (sinceMs) => log.since(sinceMs),
    get eventsDropped() {
      return log.dropped;
    },
  };
}
