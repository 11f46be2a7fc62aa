import { describe, expect, it } from "vitest";
import { createSessionStore } from "./sessions.ts";

describe("createSessionStore", () => {
  it("creates unguessable ids bound to app and user", () => {
    const st = createSessionStore();
    const a = st.create(1, "alice", "Alice", 5);
    const b = st.create(1, "alice", "Alice", 6);
    expect(a.id).toMatch(/^s_[A-Za-z0-9_-]{24}$/);
    expect(a.id).not.toBe(b.id);
    expect(st.get(a.id)).toEqual({
      id: a.id,
      app_id: 1,
      user_id: "alice",
      user_name: "Alice",
      created_at: 5,
    });
    expect(st.get("s_unknown")).toBeUndefined();
    expect(st.count).toBe(2);
    st.reset();
    expect(st.count).toBe(0);
    expect(st.get(a.id)).toBeUndefined();
  });

  it("past the app's cap forgets that app's oldest session, never another app's, one per create", () => {
    const st = createSessionStore({ sessionsPerApp: 3, sessionsPerUser: 8 });
    const other = st.create(2, "bob", "bob", 0).id;
    const ids = Array.from({ length: 5 }, (_, i) => st.create(1, `u${i}`, `u${i}`, i).id);
    expect(st.count).toBe(4);
    expect(ids.map((id) => st.get(id) !== undefined)).toEqual([false, false, true, true, true]);
    expect(st.get(other)?.user_id).toBe("bob");
    expect(st.evicted).toBe(2);
  });

  it("past the user's cap forgets that user's oldest session only (an init loop cannot grow the store)", () => {
    const st = createSessionStore({ sessionsPerApp: 1000, sessionsPerUser: 2 });
    const carol = st.create(1, "carol", "carol", 0).id;
    const sameNameOtherApp = st.create(2, "alice", "alice", 0).id;
    const alice = Array.from({ length: 500 }, (_, i) => st.create(1, "alice", "alice", i).id);
    expect(st.count).toBe(4);
    expect(alice.slice(-3).map((id) => st.get(id) !== undefined)).toEqual([false, true, true]);
    expect(st.get(carol)?.user_id).toBe("carol");
    expect(st.get(sameNameOtherApp)?.app_id).toBe(2);
    // Forgetting through the user's cap also leaves the app's index: the app cap is never hit by one user.
    for (let i = 0; i < 997; i++) st.create(1, `x${i}`, "x", 0);
    expect(st.get(carol)?.user_id).toBe("carol");
  });
});
