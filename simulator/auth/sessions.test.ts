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

  it("past the cap forgets the oldest session, never more than one per create", () => {
    const st = createSessionStore(3);
    const ids = Array.from({ length: 5 }, (_, i) => st.create(1, `u${i}`, `u${i}`, i).id);
    expect(st.count).toBe(3);
    expect(ids.map((id) => st.get(id) !== undefined)).toEqual([false, false, true, true, true]);
  });
});
