import { randomBytes } from "node:crypto";
import type { Clock } from "../clock.ts";
import { VendorError } from "../errors.ts";
import { DEFAULT_LIMITS, type Limits } from "../limits.ts";
import type { SimOptions } from "../options.ts";
import { createKrcTokens } from "./krc-token.ts";
import { createShareRegistry } from "./shares.ts";
import type { ResourceRecord, ResourceStore } from "./types.ts";

// An expired id keeps answering 1017019 ("request it again") for a while before it is forgotten and answers
// 1017018 like any unknown id; forgetting bounds memory in long load tests. Measured (issue 12, heap after
// full GCs, `requestResource` over app.inject, 10,000 accompaniments on one session): ~1.2 KB of heap per
// stored resource (record, id, span, layout, krc_token, index entries); the billing row lives in SQLite.
const MIN_RETENTION_MS = 10 * 60_000;

/**
 * At most this many resources per session (SDK lifetime) are remembered: past it, issuing one more forgets
 * the session's oldest, which from then on answers 1017018 like an id past retention. The vendor documents no
 * cap and refuses no paid request for holding too many, so nothing is refused; and a resource expires anyway
 * (resource_ttl, 1 h by default). One session hoarding resources is bounded near 1.2 MB of heap; a client
 * requesting one song every 10 s keeps ~2 h 45 min of them, longer than TTL + retention (default 70 min).
 */
export const MAX_RESOURCES_PER_SESSION = DEFAULT_LIMITS.resourcesPerSession;

export interface ResourceStoreDeps {
  clock: Clock;
  options: Pick<SimOptions, "resourceTtlMs" | "shareTtlMs" | "krcTokenTtlMs">;
  /** krc_token HMAC key; defaults to the per-process key (so `verifyKrcToken(token, now)` works unbound). */
  krcKey?: Buffer;
  /** Resources remembered per session, and per app, before the oldest is forgotten (limits.ts). */
  limits?: Pick<Limits, "resourcesPerSession" | "resourcesPerApp">;
}

/**
 * Ids look like the vendor's (`z_<song_id>_<type>`) plus 128 random bits: unguessable, so holding an id is
 * never enough; `use` also checks the id was issued to this app, user and session (the SDK lifetime).
 */
function newResourceId(songId: string, type: number): string {
  return `z_${songId}_${type}_${randomBytes(16).toString("base64url")}`;
}

export function createResourceStore(deps: ResourceStoreDeps): ResourceStore {
  const { clock, options } = deps;
  const retentionMs = Math.max(options.resourceTtlMs, MIN_RETENTION_MS);
  // Insertion order = issue order, so with a constant TTL the longest-expired records sit at the head.
  const byId = new Map<string, ResourceRecord>();
  const bySong = new Map<string, Set<string>>();
  // session id -> its resource ids in issue order (a Set iterates in insertion order: the first is the oldest).
  const bySession = new Map<string, Set<string>>();
  // app id -> its resource ids in issue order: one app's flood forgets its own oldest, never another app's.
  const byApp = new Map<number, Set<string>>();
  const { resourcesPerSession: maxPerSession, resourcesPerApp: maxPerApp } = deps.limits ?? DEFAULT_LIMITS;
  let evicted = 0;
  const shares = createShareRegistry(options.shareTtlMs);
  const krc = createKrcTokens(options.krcTokenTtlMs, deps.krcKey);

  function forget(rec: ResourceRecord): void {
    byId.delete(rec.resource_id);
    const ids = bySong.get(rec.song_id);
    ids?.delete(rec.resource_id);
    if (ids?.size === 0) bySong.delete(rec.song_id);
    const own = bySession.get(rec.session_id);
    own?.delete(rec.resource_id);
    if (own?.size === 0) bySession.delete(rec.session_id);
    const app = byApp.get(rec.app_id);
    app?.delete(rec.resource_id);
    if (app?.size === 0) byApp.delete(rec.app_id);
  }

  /** Forgets the oldest of `ids` (a session's or an app's, oldest first) while it holds `max`. */
  function capTo(ids: Set<string> | undefined, max: number): void {
    while (ids && ids.size >= max) {
      const oldest = ids.values().next().value as string;
      const rec = byId.get(oldest);
      if (rec) forget(rec);
      else ids.delete(oldest);
      evicted++;
    }
  }

  /** Indexes `id` under `key`, creating the index entry on first use. */
  function indexUnder<K>(index: Map<K, Set<string>>, key: K, id: string): void {
    const ids = index.get(key);
    if (ids) ids.add(id);
    else index.set(key, new Set([id]));
  }

  function sweep(now: number): void {
    for (const rec of byId.values()) {
      if (rec.expires_at + retentionMs > now) return;
      forget(rec);
    }
  }

  const isExpired = (rec: ResourceRecord, now: number) => rec.forced_expired || now >= rec.expires_at;

  return {
    get: (id) => byId.get(id),

    use(resourceId, session, opts) {
      if (typeof resourceId !== "string" || resourceId === "") throw new VendorError(1017004);
      const rec = byId.get(resourceId);
      // One answer for "no such id" and "not yours", so ids of other users cannot be probed.
      if (
        !rec ||
        rec.app_id !== session.app_id ||
        rec.user_id !== session.user_id ||
        rec.session_id !== session.id
      ) {
        throw new VendorError(1017018);
      }
      if (isExpired(rec, clock.now())) throw new VendorError(1017019, undefined, opts?.expiredStatus ?? 200);
      return rec;
    },

    create(spec) {
      const now = clock.now();
      const { ttlMs, ...fields } = spec;
      return {
        ...fields,
        resource_id: newResourceId(spec.song_id, spec.resource_type),
        created_at: now,
        expires_at: now + (ttlMs ?? options.resourceTtlMs),
        forced_expired: false,
      };
    },

    add(rec) {
      sweep(clock.now());
      capTo(bySession.get(rec.session_id), maxPerSession);
      capTo(byApp.get(rec.app_id), maxPerApp);
      byId.set(rec.resource_id, rec);
      indexUnder(bySession, rec.session_id, rec.resource_id);
      indexUnder(byApp, rec.app_id, rec.resource_id);
      indexUnder(bySong, rec.song_id, rec.resource_id);
    },

    expire(resourceId) {
      const rec = byId.get(resourceId);
      if (!rec) return false;
      rec.forced_expired = true;
      return true;
    },

    isExpired,

    ofSong(songId) {
      const ids = bySong.get(songId);
      if (!ids) return [];
      const out: ResourceRecord[] = [];
      for (const id of ids) {
        const rec = byId.get(id);
        if (rec) out.push(rec);
      }
      return out;
    },

    all: () => byId.values(),

    reset() {
      byId.clear();
      bySong.clear();
      bySession.clear();
      byApp.clear();
      shares.reset();
    },

    get count() {
      return byId.size;
    },
    get evicted() {
      return evicted;
    },
    shares,
    krc,
  };
}
