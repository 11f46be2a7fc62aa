import { randomBytes } from "node:crypto";

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
}

/**
 * Sessions live until reset, like the SDK module until deinit, but at most `maxSessions` of them: past that the
 * oldest is forgotten (its client gets 1017096 and inits again), so an init flood cannot exhaust memory.
 * Measured (issue 12, heap after full GCs, 100,000 sessions, median of 5 rounds): 165 B each in the store
 * (id string, object, Map entry; 189 B before the id was made one flat string), ~460 B per
 * `/v1/music/init` through the route (adding the user id strings the body brings); the default bounds
 * sessions near 230 MB of heap. Each session also holds at most MAX_RESOURCES_PER_SESSION resources.
 */
export const MAX_SESSIONS = 500_000;

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

export function createSessionStore(maxSessions = MAX_SESSIONS): SessionStore {
  const sessions = new Map<string, Session>();
  return {
    create(app_id, user_id, user_name, now) {
      if (sessions.size >= maxSessions) {
        // Map iteration order is insertion order: the first key is the oldest session.
        const oldest = sessions.keys().next();
        if (!oldest.done) sessions.delete(oldest.value);
      }
      const s: Session = {
        id: newSessionId(),
        app_id,
        user_id,
        user_name,
        created_at: now,
      };
      sessions.set(s.id, s);
      return s;
    },
    get: (id) => sessions.get(id),
    reset: () => sessions.clear(),
    get count() {
      return sessions.size;
    },
  };
}
