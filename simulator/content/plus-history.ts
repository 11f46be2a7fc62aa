import { Lru } from "../catalog/lru.ts";

/**
 * Per-session memory of the keywords a session has opened with page 1 of /search/plus: a later page for a
 * keyword it never opened answers 1017074. Bounded in sessions and keywords per session.
 */
export class PlusHistory {
  private readonly sessions: Lru<string, Lru<string, true>>;
  constructor(
    maxSessions = 20_000,
    private readonly maxKeywords = 64,
  ) {
    this.sessions = new Lru(maxSessions);
  }
  opened(sessionId: string, keyword: string): void {
    let s = this.sessions.get(sessionId);
    if (!s) {
      s = new Lru(this.maxKeywords);
      this.sessions.set(sessionId, s);
    }
    s.set(keyword, true);
  }
  hasOpened(sessionId: string, keyword: string): boolean {
    return this.sessions.get(sessionId)?.get(keyword) === true;
  }
  clear(): void {
    this.sessions.clear();
  }
}
