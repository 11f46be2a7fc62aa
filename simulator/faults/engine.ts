import { Counter, type Registry } from "prom-client";
import type { Catalog, RevocationOverlay } from "../catalog/types.ts";
import { createTokenBucket, type TokenBucket } from "../cdn/token-bucket.ts";
import type { Clock } from "../clock.ts";
import type { ResourceStore } from "../resources/types.ts";
import { createEventLog, DEFAULT_EVENT_CAPACITY, type FaultEffect, type FaultEvent } from "./events.ts";
import type { DownloadEffect, FaultKind, Phase, Withdrawn } from "./kind.ts";
import { createMediaPhase } from "./media-plan.ts";
import { EMPTY_PROFILE, type FaultProfile, type FaultSpec, parseProfile } from "./profile.ts";
import { getKind } from "./registry.ts";
import { counterRng, keyLane, type Lane, type Rng, seededLane } from "./rng.ts";
import {
  type DownloadPlan,
  type ExpirableResource,
  type FaultDecision,
  type FaultRequest,
  type FaultSeam,
  type KeyedDecision,
  NO_PLAN,
  type ResourceSubject,
} from "./seam.ts";
import { compileSelector, type Matcher, routeSelects } from "./selector.ts";

// The fault engine composes the profile's faults in profile order. For a vendor request: latencies add up, the
// first answering fault (error, outage) wins and later ones are skipped. For a resource being issued: the first
// expiry fault that hits sets its validity. For a download: the effects of every hitting fault combine (an
// expiry that expires the resource ends the list). For a media frame (media-plan.ts): the first fault that
// drops it ends the list, delays and duplicates add, the longest hold wins. Revocations and expiry sweeps are
// states that start and end with the fault (profile applied or replaced, fault enabled or disabled, window
// opened or closed); so is the release of media frames a fault held back.
//
// The request key. Each request gets
//     `${app_id}|${user_id}|${route}[|${command}]#${n}`
// where n counts that app+user's requests on that route+command (1, 2, 3...) since start or reset, and "-"
// stands for a missing app or user (requests without a session then share the per-app, per-route count).
// Every random decision about a request is a pure function of (seed, fault id, request key) (rng.ts), so
// concurrent users can interleave in any order and still each get the same faults. A resource being issued or
// downloaded is decided under the key of the request that issues or downloads it. An existing resource swept by
// an expiry fault is decided under `resource:${app_id}|${user_id}|${vendor_id}|${song_id}|${resource_type}`, so
// the same resources expire whatever the order they were issued in. What stays order-dependent by nature: time
// windows (clock time) and count limits with count_scope "global" (the default), which count requests in
// arrival order; count_scope "user" counts per app+user and is order-independent.
// The per-stream counts live until reset(): one small entry per app+user+route+command ever seen.
//
// Media streams (media-plan.ts) are keyed `${app_id}|${user_id}|WS /v1/media|${stream_id}#${n}`, n counting
// that publisher's publications of that stream id; a frame is decided under (stream key, sequence number).

export interface FaultEngineOptions {
  seed: number;
  clock: Clock;
  /** Initial profile (parsed JSON); refused whole with FaultProfileError when invalid. */
  profile?: unknown;
  /** When given, song ids in selectors must exist, and revocation faults apply to it (useRevocations). */
  catalog?: Catalog;
  /** Where expiry faults force-expire resources. */
  resources?: Pick<ResourceStore, "all" | "isExpired">;
  /** Where faults_injected_total is registered (the simulator's metrics registry). */
  registry?: Registry;
  eventCapacity?: number;
}

export interface FaultEngine extends FaultSeam {
  /**
   * False when no enabled request fault of the current profile can select `route` (a route id such as
   * "POST /v1/music/extended"), whatever else the request carries: decideWithKey then needs only the fields of
   * the request key (route, command, app_id, user_id). Answered from a per-profile cache, so the fault seam
   * costs a map look-up on routes no fault names.
   */
  mayFault(route: string): boolean;
  /**
   * What decideWithKey does for a request of `stream` (requestStream()) when the profile has no fault at all:
   * the stream's count moves on, and nothing else. For a caller that has checked the profile is empty and keeps
   * the stream's name (its hash then computed once), rather than building two strings per request.
   */
  countRequest(stream: string): void;
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
  /** The songs active revocation faults withdraw, as the catalog asks for them. */
  readonly revocations: RevocationOverlay;
}

interface Counts {
  matched: number;
  injected: number;
}

interface Compiled {
  spec: FaultSpec;
  kind: FaultKind;
  phases: ReadonlySet<Phase>;
  lane: Lane;
  match: Matcher;
  from: number;
  until: number;
  global: Counts;
  perUser: Map<string, Counts>;
  /** Whether the fault is in effect (enabled, inside its window), as of the last refresh. */
  on: boolean;
  /** Aborted when the fault stops being in effect: downloads it shapes let go. */
  release: AbortController;
  /** Shared by the copies setEnabled makes: a global bandwidth cap's bucket. */
  shared: { bucket?: TokenBucket };
}

interface Snapshot {
  profile: FaultProfile;
  faults: readonly Compiled[];
  request: readonly Compiled[];
  issue: readonly Compiled[];
  download: readonly Compiled[];
  media: readonly Compiled[];
  /** Faults whose start or end does something (sweeps, revocations, releasing downloads and frames). */
  stateful: readonly Compiled[];
  /** Clock time that from/until count from. */
  base: number;
  /** mayFault's answers for this snapshot, by route id (a bounded set: the routes faults apply to). */
  routes: Map<string, boolean>;
}

/**
 * Faults apply to the vendor API surfaces (/v1/..., and the server REST API at GET /), never to admin or ops:
 * an outage must stay switchable.
 */
export function isFaultableRoute(route: string): boolean {
  return route.startsWith("/v1/", route.indexOf(" ") + 1) || route === "GET /";
}

/** Phases whose faults do something when they start or end. */
const whoOf = (app: number | undefined, user: string | undefined) => `${app ?? "-"}|${user ?? "-"}`;
const streamOf = (who: string, route: string, command: string | undefined) =>
  command === undefined ? `${who}|${route}` : `${who}|${route}|${command}`;

/** The request stream a request key counts in (the key without its `#n`), for countRequest. */
export function requestStream(req: Pick<FaultRequest, "route" | "command" | "app_id" | "user_id">): string {
  return streamOf(whoOf(req.app_id, req.user_id), req.route, req.command);
}

const STATEFUL: readonly Phase[] = ["sweep", "catalog", "download", "media"];

const ISSUE_ROUTE = "POST /v1/music/resource";
const SHARE_ROUTE = "POST /v1/music/shared-resource";
const DOWNLOAD_ROUTE = "GET /v1/music/download/:resource_id";
const ACTIVATION = "activation";

function toWire(d: FaultDecision): FaultEffect {
  const e: FaultEffect = {};
  if (d.delayMs !== undefined) e.delay_ms = ms(d.delayMs);
  if (d.vendorCode !== undefined) e.code = d.vendorCode;
  if (d.httpStatus !== undefined) e.http_status = d.httpStatus;
  if (d.dropConnection) e.drop = true;
  return e;
}

const ms = (x: number) => Math.round(x * 1000) / 1000;

function downloadWire(d: DownloadEffect): FaultEffect {
  if (d.expire) return { expired: true, code: 1017019, http_status: 410 };
  const e: FaultEffect = {};
  if (d.firstByteDelayMs !== undefined) e.first_byte_ms = ms(d.firstByteDelayMs);
  if (d.stall) {
    e.stall_ms = ms(d.stall.ms);
    e.stall_after_bytes = d.stall.afterBytes;
  }
  if (d.resetAfterBytes !== undefined) e.reset_after_bytes = d.resetAfterBytes;
  if (d.cap) {
    e.bytes_per_sec = d.cap.bytesPerSec;
    e.cap_scope = d.cap.global ? "global" : "connection";
  }
  return e;
}

const subjectOf = (r: ResourceSubject, route: string): FaultRequest => ({
  route,
  app_id: r.app_id,
  user_id: r.user_id,
  vendor_id: r.vendor_id,
  song_id: r.song_id,
  resource_type: r.resource_type,
  room_id: r.room_id ?? undefined,
});

export function createFaultEngine(o: FaultEngineOptions): FaultEngine {
  const { seed, clock, catalog, resources } = o;
  const log = createEventLog(o.eventCapacity ?? DEFAULT_EVENT_CAPACITY);
  const injectedTotal = new Counter({
    name: "faults_injected_total",
    help: "Faults injected into requests, resources, downloads and media frames, by fault id and kind",
    labelNames: ["fault_id", "kind"],
    registers: o.registry ? [o.registry] : [],
    // Media frames are counted in plain numbers and added here at scrape time (no label hashing per frame).
    collect: () => media.collect(),
  });
  const sequences = new Map<string, number>();
  /** Which fault force-expired a resource, so a download cut later is blamed on it. */
  const expiredBy = new WeakMap<object, { id: string; kind: string }>();

  function compile(profile: FaultProfile): Snapshot {
    const now = clock.now();
    const faults = profile.faults.map((spec): Compiled => {
      const lane = seededLane(seed, spec.id);
      const kind = getKind(spec.kind)!;
      return {
        spec,
        kind,
        phases: new Set(kind.phases?.(spec) ?? ["request"]),
        lane,
        match: compileSelector(spec.selector, lane),
        from: spec.from ?? 0,
        until: spec.until ?? Number.POSITIVE_INFINITY,
        global: { matched: 0, injected: 0 },
        perUser: new Map(),
        on: false,
        release: new AbortController(),
        shared: {},
      };
    });
    return snapshotOf(profile, faults, profile.time_base === "profile" ? now : clock.startedAt);
  }

  function snapshotOf(profile: FaultProfile, faults: readonly Compiled[], base: number): Snapshot {
    const having = (p: Phase) => faults.filter((f) => f.phases.has(p));
    return {
      profile,
      faults,
      request: having("request"),
      issue: having("issue"),
      download: having("download"),
      media: having("media"),
      stateful: faults.filter((f) => STATEFUL.some((p) => f.phases.has(p))),
      base,
      routes: new Map(),
    };
  }

  // The one mutable reference: a decision reads it once, so it sees one whole profile, old or new.
  let active = compile(o.profile === undefined ? EMPTY_PROFILE : parseProfile(o.profile, { catalog }));

  // ---- state: which stateful faults are in effect, refreshed lazily (O(1) until a window edge passes) ----

  let refreshedFor: Snapshot | null = null;
  let refreshedAt = Number.NEGATIVE_INFINITY;
  let nextEdge = Number.NEGATIVE_INFINITY;
  let revoking: readonly Compiled[] = [];
  let revocationVersion = 0;

  function refresh(now: number): void {
    const snap = active;
    // A clock set back (tests, scenario clocks) may cross an edge backwards: look again then too.
    if (snap === refreshedFor && now < nextEdge && now >= refreshedAt) return;
    refreshedFor = snap;
    refreshedAt = now;
    const t = now - snap.base;
    let next = Number.POSITIVE_INFINITY;
    let revocationsChanged = false;
    for (const f of snap.stateful) {
      if (t < f.from) next = Math.min(next, f.from);
      else if (t < f.until) next = Math.min(next, f.until);
      const on = f.spec.enabled && t >= f.from && t < f.until;
      if (on === f.on) continue;
      f.on = on;
      if (f.phases.has("catalog")) revocationsChanged = true;
      if (!on) {
        f.release.abort(new Error(`fault ${f.spec.id} ended`));
        if (f.phases.has("media")) media.released(f.global);
        continue;
      }
      if (f.release.signal.aborted) f.release = new AbortController();
      if (f.phases.has("sweep")) sweep(f, now, t);
      if (f.phases.has("catalog")) {
        // A revocation has no per-request counts: `injected` counts its activations.
        f.global.injected++;
        record(f.spec, now, ACTIVATION, `${ACTIVATION}#${f.global.injected}`, {
          revoked: f.kind.revokes!(f.spec),
        });
      }
    }
    nextEdge = snap.base + next;
    const nowRevoking = snap.stateful.filter((f) => f.on && f.phases.has("catalog"));
    if (
      revocationsChanged ||
      nowRevoking.length !== revoking.length ||
      nowRevoking.some((f, i) => f !== revoking[i])
    ) {
      revoking = nowRevoking;
      revocationVersion++;
    }
  }

  const revocations: RevocationOverlay = {
    version() {
      // No time-windowed fault loaded and none revoking (refresh could only confirm both): no clock read. The
      // catalog asks this on every cached page answer.
      if (active.stateful.length === 0 && revoking.length === 0) return 0;
      refresh(clock.now());
      return revoking.length === 0 ? 0 : revocationVersion;
    },
    level(songId, vendorId) {
      let out: Withdrawn | "none" = "none";
      const subject: FaultRequest = { route: "", song_id: songId, vendor_id: vendorId };
      for (const f of revoking) {
        if (!f.match(subject)) continue;
        out = f.kind.revokes!(f.spec);
        if (out === "all") break;
      }
      return out;
    },
  };

  /** The active revocation fault that withdraws what a resource of `type` needs, if any. */
  function revokedBy(res: ResourceSubject): Compiled | undefined {
    const subject: FaultRequest = { route: "", song_id: res.song_id, vendor_id: res.vendor_id };
    return revoking.find(
      (f) => f.match(subject) && (res.resource_type !== 0 || f.kind.revokes!(f.spec) === "all"),
    );
  }

  // ---- the generic knobs, applied once per candidate with the seeded RNG ----

  function countsFor(f: Compiled, who: string): Counts {
    if (f.spec.count_scope !== "user") return f.global;
    let c = f.perUser.get(who);
    if (!c) {
      c = { matched: 0, injected: 0 };
      f.perUser.set(who, c);
    }
    return c;
  }

  /**
   * Enabled, inside the window, selected, within first/every, not `skip`ped, under max, and the probability
   * roll won: the candidate's RNG (draw 0 spent on the roll), else undefined. Counts as injected when hit.
   */
  function hit(
    f: Compiled,
    req: FaultRequest,
    who: string,
    key: Lane,
    t: number,
    skip = false,
  ): Rng | undefined {
    if (!f.spec.enabled || t < f.from || t >= f.until) return undefined;
    return admit(f, req, who, key, skip);
  }

  /** hit() without `enabled` and the window: media streams are picked once, then switched per frame. */
  function admit(f: Compiled, req: FaultRequest, who: string, key: Lane, skip = false): Rng | undefined {
    if (!f.match(req)) return undefined;
    const counts = countsFor(f, who);
    const m = ++counts.matched;
    if (
      (f.spec.first !== undefined && m > f.spec.first) ||
      (f.spec.every !== undefined && m % f.spec.every !== 0)
    ) {
      return undefined;
    }
    if (skip || (f.spec.max !== undefined && counts.injected >= f.spec.max)) return undefined;
    const rng = counterRng(f.lane, key);
    // Draw 0 is always the probability roll, so the kind's own draws do not shift when probability changes.
    if (!(rng.next() < f.spec.probability)) return undefined;
    counts.injected++;
    return rng;
  }

  function record(
    spec: { id: string; kind: string },
    now: number,
    route: string,
    key: string,
    effect: FaultEffect,
  ) {
    injectedTotal.inc({ fault_id: spec.id, kind: spec.kind });
    log.push({ time: now, fault_id: spec.id, kind: spec.kind, route, request_key: key, effect });
  }

  /** The next key of a request stream (app+user+route[+command]). */
  function nextKey(stream: string): string {
    const n = (sequences.get(stream) ?? 0) + 1;
    sequences.set(stream, n);
    return `${stream}#${n}`;
  }

  // ---- phases ----

  function decideWithKey(req: FaultRequest): KeyedDecision {
    if (!isFaultableRoute(req.route)) return { decision: {}, key: undefined };
    const snap = active;
    const who = whoOf(req.app_id, req.user_id);
    const requestKey = nextKey(streamOf(who, req.route, req.command));
    // No fault at all (the common case): nothing below reads the time.
    if (snap.stateful.length === 0 && snap.request.length === 0) return { decision: {}, key: requestKey };
    const now = clock.now();
    if (snap.stateful.length > 0) refresh(now);
    const out: FaultDecision = {};
    if (snap.request.length === 0) return { decision: out, key: requestKey };
    const key = keyLane(requestKey);
    const t = now - snap.base;
    let answered = false;
    for (const f of snap.request) {
      const rng = hit(f, req, who, key, t, f.kind.terminal === true && answered);
      if (!rng) continue;
      const effect = f.kind.apply!({ fault: f.spec, request: req, now }, rng);
      if (effect.delayMs !== undefined) out.delayMs = (out.delayMs ?? 0) + effect.delayMs;
      if (f.kind.terminal) {
        answered = true;
        if (effect.vendorCode !== undefined) out.vendorCode = effect.vendorCode;
        if (effect.httpStatus !== undefined) out.httpStatus = effect.httpStatus;
        if (effect.dropConnection) out.dropConnection = true;
      }
      const route = req.command === undefined ? req.route : `${req.route} ${req.command}`;
      record(f.spec, now, route, requestKey, toWire(effect));
    }
    return { decision: out, key: requestKey };
  }

  function issueTtl(key: string | undefined, route: string, res: ResourceSubject): number | undefined {
    const now = clock.now();
    refresh(now);
    const snap = active;
    const who = whoOf(res.app_id, res.user_id);
    const k = key ?? nextKey(`${who}|${route}`);
    if (snap.issue.length === 0) return undefined;
    const lane = keyLane(k);
    const subject = subjectOf(res, route);
    for (const f of snap.issue) {
      const rng = hit(f, subject, who, lane, now - snap.base);
      if (!rng) continue;
      const ttlMs = f.kind.issue!({ fault: f.spec, request: subject, now }, rng);
      record(f.spec, now, route, k, { ttl_ms: ttlMs });
      return ttlMs;
    }
    return undefined;
  }

  /** Force-expires, once, the existing resources an expiry fault hits as it becomes active. */
  function sweep(f: Compiled, now: number, t: number): void {
    if (!resources) return;
    for (const rec of resources.all()) {
      if (resources.isExpired(rec, now)) continue;
      const resourceKey = `resource:${rec.app_id}|${rec.user_id}|${rec.vendor_id}|${rec.song_id}|${rec.resource_type}`;
      const subject = subjectOf(rec, rec.via_share ? SHARE_ROUTE : ISSUE_ROUTE);
      if (!hit(f, subject, whoOf(rec.app_id, rec.user_id), keyLane(resourceKey), t)) continue;
      rec.forced_expired = true;
      expiredBy.set(rec, f.spec);
      record(f.spec, now, ACTIVATION, resourceKey, { expired: true });
    }
  }

  function decideDownload(key: string | undefined, route: string, res: ExpirableResource): DownloadPlan {
    const now = clock.now();
    refresh(now);
    const snap = active;
    const who = whoOf(res.app_id, res.user_id);
    const k = key ?? nextKey(`${who}|${route}`);
    if (snap.download.length === 0) return NO_PLAN;
    const lane = keyLane(k);
    const subject = subjectOf(res, route);
    const t = now - snap.base;
    let expired = false;
    let firstByteDelayMs = 0;
    let resetAfterBytes = Number.POSITIVE_INFINITY;
    const stalls: { afterBytes: number; ms: number }[] = [];
    const buckets: TokenBucket[] = [];
    const signals: AbortSignal[] = [];
    for (const f of snap.download) {
      const rng = hit(f, subject, who, lane, t);
      if (!rng) continue;
      const e = f.kind.download!({ fault: f.spec, request: subject, now }, rng);
      record(f.spec, now, route, k, downloadWire(e));
      signals.push(f.release.signal);
      firstByteDelayMs += e.firstByteDelayMs ?? 0;
      if (e.stall) stalls.push(e.stall);
      if (e.resetAfterBytes !== undefined) resetAfterBytes = Math.min(resetAfterBytes, e.resetAfterBytes);
      if (e.cap) {
        if (!e.cap.global) buckets.push(createTokenBucket(e.cap.bytesPerSec));
        else {
          f.shared.bucket ??= createTokenBucket(e.cap.bytesPerSec);
          buckets.push(f.shared.bucket);
        }
      }
      if (e.expire) {
        res.forced_expired = true;
        expiredBy.set(res, f.spec);
        expired = true;
        break;
      }
    }
    if (signals.length === 0) return NO_PLAN;
    stalls.sort((a, b) => a.afterBytes - b.afterBytes);
    const signal = signals.length === 1 ? signals[0]! : AbortSignal.any(signals);
    return { expired, firstByteDelayMs, stalls, resetAfterBytes, buckets, signal };
  }

  function downloadCut(key: string | undefined, res: ExpirableResource, code: number): void {
    const now = clock.now();
    refresh(now);
    const culprit = code === 1017019 ? expiredBy.get(res) : revokedBy(res)?.spec;
    if (!culprit) return;
    record(culprit, now, DOWNLOAD_ROUTE, key ?? `${whoOf(res.app_id, res.user_id)}|${DOWNLOAD_ROUTE}`, {
      cut: true,
      code,
    });
  }

  /** Lets go of every download and media frame the old snapshot's faults were shaping. */
  function releaseAll(snap: Snapshot): void {
    for (const f of snap.faults) f.release.abort(new Error(`fault ${f.spec.id} removed`));
    media.releasedAll();
  }

  const media = createMediaPhase({
    clock,
    snapshot: () => active,
    refresh,
    admit: (f, req, who, key) => admit(f as Compiled, req, who, key),
    nextKey,
    log,
    injected: injectedTotal,
  });

  function mayFault(route: string): boolean {
    const snap = active;
    let may = snap.routes.get(route);
    if (may === undefined) {
      may =
        isFaultableRoute(route) &&
        snap.request.some(
          (f) =>
            f.spec.enabled &&
            (f.spec.selector?.route === undefined || routeSelects(f.spec.selector.route, route)),
        );
      // Route ids come from the router (registered routes only), so this map stays as small as the route table.
      snap.routes.set(route, may);
    }
    return may;
  }

  const engine: FaultEngine = {
    decide: (req) => decideWithKey(req).decision,
    decideWithKey,
    mayFault,
    countRequest(stream) {
      sequences.set(stream, (sequences.get(stream) ?? 0) + 1);
    },
    issueTtl,
    decideDownload,
    downloadCut,
    mediaStream: (subject, release) => media.open(subject, release),
    getProfile: () => active.profile,
    replace(input) {
      const profile = parseProfile(input, { catalog });
      const old = active;
      active = compile(profile);
      releaseAll(old);
      refresh(clock.now());
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
      active = snapshotOf(profile, faults, snap.base);
      refresh(clock.now());
      return spec;
    },
    reset() {
      const old = active;
      active = compile(EMPTY_PROFILE);
      releaseAll(old);
      sequences.clear();
      log.clear();
      refresh(clock.now());
    },
    events(sinceMs) {
      media.flushDue(clock.now());
      return log.since(sinceMs);
    },
    get eventsDropped() {
      return log.dropped;
    },
    revocations,
  };
  catalog?.useRevocations?.(revocations);
  refresh(clock.now());
  return engine;
}
