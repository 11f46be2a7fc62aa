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
 * ~250 bytes each, so the default bounds the store near 125 MB.
 */
export const MAX_SESSIONS = 500_000;

export function createSessionStore(maxSessions = MAX_SESSIONS): SessionStore {
  const sessions = new Map<string, Session>();
  return {
    create(app_id, user_id, user_name, now) {
      if (sessions.size >= maxSessions) {
        // Map iteration order is insertion order: the first key is the oldest session.
        const oldest = sessions.keys().next();
        if (!oldest.done) sessions.delete(oldest.value);
      }
      // Opaque and unguessable: a session id is a bearer credential for the user's resources.
      const s: Session = {
        id: `s_${randomBytes(18).toString("base64url")}`,
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
