// Caps on what one app and one user can make the simulator hold: sessions, resources, rooms. Without them one
// client (a leak or a flood) grows the heap until the process dies and takes every other tenant's run with it.
//
// Refuse or forget? Rooms are refused at the cap, with the vendor's own codes (1002001 "too many rooms", the
// single/multi-room login limit; 1002035 "room limit", the vendor's per-app room count limit of its test
// environment: zego-copyrighted-music.md §5). Sessions and resources are never refused: the vendor documents
// no cap on initCopyrightedMusic or requestResource, this API has no deinit, and a client that crashed and
// inits again must not be locked out by its own dead sessions. Past their cap the OLDEST is forgotten instead
// (a forgotten session answers 1017096 "module not initialized" and the SDK inits again; a forgotten resource
// answers 1017018 like one past retention). Either way memory is bounded by cap x size below.
//
// Measured: `node --expose-gc --import tsx simulator/limits-memory.ts --n 10000 --rounds 3` (heap after full
// GCs, 10,000 creations through the real routes with app.inject after a warm-up, each round a fresh process,
// median of 3; Node 20.20, load average 12-17 on the 2-core VM):
//   session  (/v1/music/init: record, id, app and user indexes):          737 B  (rounds 713-737)
//   resource (/v1/music/resource, one accompaniment, krc_token, indexes):  1,139 B (1,137-1,142)
//   room     (/v1/room/login into a new room: its Set, key, counts):       576 B  (575-588)
//   member   (one more user in an existing room; registry alone, the
//            route's own garbage of +-40 B per call hides it):             101 B  (77-125)
// (The ledger row is in SQLite, outside the JS heap; the session comment of issue 12 said ~1.5 KB, the old
// code comment 165 B for the store alone.)
//
// Defaults against a load of 10,000 users in one app (rooms-250 shape: a session per VU login, a resource per
// song, rooms of 4; the k6 vendor-api script: a new member user per iteration), checked by limits.test.ts:
//   sessionsPerUser 8: a VU holds 1 live session (it re-inits per login; the older ones are dead).
//   sessionsPerApp 200,000: 10,000 live (80,000 if every user kept 8); per-iteration users (conformance, k6
//     members) churn the oldest, long-dead ones out.
//   resourcesPerSession 1,000 (session 4): one song every 10 s keeps 2 h 45 min of them.
//   resourcesPerApp 500,000: 10,000 VUs requesting one song every 10 s each (1,000/s) reach it after 8 min;
//     the resource forgotten then is 8 min old, past its download and its song.
//   roomsPerUser 16: a user is in 1 room (single-room mode) or a few (multi-room mode).
//   roomsPerApp 100,000: 10,000 users each alone in a room use 10,000.
//   roomMembersPerApp 2,000,000: all rooms of the app together (the k6 vendor-api script adds a member per
//     iteration that never logs out: 10,000 VUs x 200 iterations).
// Bound per app at the defaults: sessions 200,000 x 737 B = 147 MB; resources 500,000 x 1,139 B = 570 MB;
// rooms 100,000 x 576 B + 2,000,000 x 101 B = 58 + 202 MB; about 1 GB in all for an app that hits every cap.
// One user alone: 8 sessions x 1,000 resources = 8,000 resources (9.1 MB) and 16 rooms.
export interface Limits {
  /** Sessions one user of an app holds; past it the user's oldest is forgotten. */
  sessionsPerUser: number;
  /** Sessions one app holds; past it the app's oldest is forgotten. */
  sessionsPerApp: number;
  /** Resources one session holds; past it the session's oldest is forgotten. */
  resourcesPerSession: number;
  /** Resources one app holds; past it the app's oldest is forgotten. */
  resourcesPerApp: number;
  /** Rooms one user is logged in to at once; one more login answers 1002001. */
  roomsPerUser: number;
  /** Rooms one app has at once (a room exists while it has a member); a login to a new one answers 1002035. */
  roomsPerApp: number;
  /** Room logins (room x user) one app holds at once, all rooms together; one more answers 1002035. */
  roomMembersPerApp: number;
}

export const DEFAULT_LIMITS: Limits = {
  sessionsPerUser: 8,
  sessionsPerApp: 200_000,
  resourcesPerSession: 1_000,
  resourcesPerApp: 500_000,
  roomsPerUser: 16,
  roomsPerApp: 100_000,
  roomMembersPerApp: 2_000_000,
};

/** Defaults + overrides; throws RangeError naming the first cap that is not a positive integer or is unknown. */
export function resolveLimits(partial: Partial<Limits> = {}): Limits {
  for (const k of Object.keys(partial)) {
    if (!(k in DEFAULT_LIMITS)) {
      throw new RangeError(`unknown limit ${k} (known: ${Object.keys(DEFAULT_LIMITS).join(", ")})`);
    }
  }
  const o: Limits = { ...DEFAULT_LIMITS, ...partial };
  for (const [k, v] of Object.entries(o)) {
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1) {
      throw new RangeError(`limit ${k} must be a positive integer, got ${JSON.stringify(v)}`);
    }
  }
  return o;
}
