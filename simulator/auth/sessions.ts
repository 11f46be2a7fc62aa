import { randomBytes } from "node:crypto";
import { DEFAULT_LIMITS, type Limits } from "../limits.ts";

/** A copyrighted-music session (`/v1/music/init`): one app + one user, like the SDK module's lifetime. */
export interface Session {
  id: string;
  app_id: number;
  user_id: string;
  user_name: string;
  created_at: number;
}

export interface SessionStore {
  create(appId: number, userId: string, userName: string, now: number): Session;
  get(id: string): Session | undefined;
  reset(): void;
  readonly count: number;
  /** Sessions forgotten because their user or app held its cap of newer ones (since start). */
  readonly evicted: number;
}

/**
 * Opaque and unguessable (144 random bits): a session id is a bearer credential for the user's resources.
 * Written into one buffer so the string is flat: `s_${...}` makes a ConsString, 24 B more per session.
 */
function newSessionId(): string {
  const b = Buffer.allocUnsafe(26);
  b.write("s_", 0, "latin1");
  b.write(randomBytes(18).toString("base64url"), 2, "latin1");
  return b.toString("latin1");
}

/**
 * Sessions live until reset, like the SDK module until deinit, but each user of an app holds at most
 * `sessionsPerUser` and each app at most `sessionsPerApp`: past either, that user's or app's oldest is forgotten
 * (its client gets 1017096 and inits again), so an init flood cannot exhaust memory and one app's flood never
 * forgets another app's sessions. Why forget rather than refuse, the measured size and the bound: limits.ts.
 */
export function createSessionStore(
  limits: Pick<Limits, "sessionsPerApp" | "sessionsPerUser"> = DEFAULT_LIMITS,
): SessionStore {
  const sessions = new Map<string, Session>();
  // app id -> its session ids, oldest first (a Set iterates in insertion order).
  const byApp = new Map<number, Set<string>>();
  // app + user -> that user's session ids, oldest first; a handful at most, so an array.
  const byUser = new Map<string, string[]>();
  const userKey = (appId: number, userId: string) => `${appId}\u0000${userId}`;
  let evicted = 0;

  function forget(id: string): void {
    const s = sessions.get(id);
    if (!s) return;
    sessions.delete(id);
    evicted++;
    const app = byApp.get(s.app_id);
    app?.delete(id);
    if (app?.size === 0) byApp.delete(s.app_id);
    const key = userKey(s.app_id, s.user_id);
    const own = byUser.get(key);
    if (!own) return;
    const i = own.indexOf(id);
    if (i >= 0) own.splice(i, 1);
    if (own.length === 0) byUser.delete(key);
  }

  return {
    create(app_id, user_id, user_name, now) {
      const key = userKey(app_id, user_id);
      const own = byUser.get(key);
      while (own && own.length >= limits.sessionsPerUser) forget(own[0]!);
      const app = byApp.get(app_id);
      while (app && app.size >= limits.sessionsPerApp) forget(app.values().next().value!);
      const s: Session = {
        id: newSessionId(),
        app_id,
        user_id,
        user_name,
        created_at: now,
      };
      sessions.set(s.id, s);
      // Re-read: forget() drops an emptied index entry.
      const appIds = byApp.get(app_id);
      if (appIds) appIds.add(s.id);
      else byApp.set(app_id, new Set([s.id]));
      const userIds = byUser.get(key);
      if (userIds) userIds.push(s.id);
      else byUser.set(key, [s.id]);
      return s;
    },
    get: (id) => sessions.get(id),
    reset: () => {
      sessions.clear();
      byApp.clear();
      byUser.clear();
    },
    get count() {
      return sessions.size;
    },
    get evicted() {
      return evicted;
    },
  };
}
