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
// Measured (simulator/limits-memory.ts, heap after full GCs, median of 3 rounds, through the real routes with
// app.inject; Node 20, 2-core VM):
//   session  (/v1/music/init, incl. the app/user indexes):         ~MEASURE_SESSION B
//   resource (/v1/music/resource, one accompaniment, krc_token):   ~MEASURE_RESOURCE B
//   room     (/v1/room/login of a new room, 1 member):             ~MEASURE_ROOM B
//   member   (/v1/room/login of one more user into a room):        ~MEASURE_MEMBER B
//
// Defaults and a load of 10,000 users in one app (rooms-250 shape: one session per VU login, a resource per
// song, one room per 4 VUs; k6 vendor-api: a new member user per iteration):
//   sessionsPerUser 8: a VU holds 1 live session (it re-inits per login; older ones are dead).
//   sessionsPerApp 500,000: 10,000 live; per-iteration users (conformance, k6 members) churn the oldest out.
//   resourcesPerSession 1,000 (session 4): a session requesting one song every 10 s keeps 2 h 45 min of them.
//   resourcesPerApp 1,000,000: 10,000 VUs requesting one song each every 10 s reach it after ~17 min; the
//     resource forgotten then is 17 min old, long past its download and play.
//   roomsPerUser 16: a user is in 1 room (single-room mode) or a few (multi-room mode).
//   roomsPerApp 100,000: 10,000 users each alone in a room use 10,000.
//   roomMembersPerApp 2,000,000: logins held at once, all rooms of the app together (the k6 vendor-api script
//     adds one member per iteration that never logs out: 10,000 VUs x 200 iterations).
// Bounds per app at the defaults: sessions 500,000 x MEASURE_SESSION B = BOUND_SESSIONS; resources
// 1,000,000 x MEASURE_RESOURCE B = BOUND_RESOURCES; rooms 100,000 x MEASURE_ROOM B + 2,000,000 x MEASURE_MEMBER B
// = BOUND_ROOMS. A single user is bounded at 8 sessions x 1,000 resources and 16 rooms.
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
  sessionsPerApp: 500_000,
  resourcesPerSession: 1_000,
  resourcesPerApp: 1_000_000,
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
