import { describe, expect, it } from "vitest";
import { audioLayout } from "../cdn/format.ts";
import { manualClock } from "../clock.ts";
import { VendorError } from "../errors.ts";
import { DEFAULT_OPTIONS } from "../options.ts";
import { createResourceStore, MAX_RESOURCES_PER_SESSION } from "./store.ts";
import type { ResourceSpec } from "./types.ts";

const TTL = 60_000;
const alice = { id: "s_alice", app_id: 1, user_id: "alice" };

function spec(over: Partial<ResourceSpec> = {}): ResourceSpec {
  return {
    app_id: 1,
    user_id: "alice",
    session_id: "s_alice",
    song_id: "123456",
    vendor_id: 0,
    resource_type: 1,
    quality: 0,
    billing_mode: 0,
    room_id: null,
    span: { begin: 0, end: 180_000 },
    layout: audioLayout(0, 180_000, 1),
    via_share: false,
    krc_token: null,
    ...over,
  };
}

function setup() {
  const clock = manualClock();
  const store = createResourceStore({ clock, options: { ...DEFAULT_OPTIONS, resourceTtlMs: TTL } });
  return { clock, store };
}

function failure(fn: () => unknown): { code: number; status: number } | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof VendorError) return { code: e.code, status: e.httpStatus };
    throw e;
  }
  return undefined;
}

describe("resource store", () => {
  it("issues unguessable vendor-looking ids and only stores them on add", () => {
    const { store } = setup();
    const ids = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const rec = store.create(spec());
      expect(rec.resource_id).toMatch(/^z_123456_1_[A-Za-z0-9_-]{22}$/);
      ids.add(rec.resource_id);
    }
    expect(ids.size).toBe(500);
    expect(store.count).toBe(0);
    const rec = store.create(spec());
    expect(failure(() => store.use(rec.resource_id, alice))?.code).toBe(1017018);
    store.add(rec);
    expect(store.use(rec.resource_id, alice)).toBe(rec);
    expect(store.get(rec.resource_id)).toBe(rec);
    expect(store.count).toBe(1);
  });

  it("binds a resource to its app, user and session", () => {
    const { store } = setup();
    const rec = store.create(spec());
    store.add(rec);
    const id = rec.resource_id;
    expect(failure(() => store.use(id, { ...alice, user_id: "bob" }))).toEqual({
      code: 1017018,
      status: 200,
    });
    expect(failure(() => store.use(id, { ...alice, app_id: 2 }))?.code).toBe(1017018);
    expect(failure(() => store.use(id, { ...alice, id: "s_alice_again" }))?.code).toBe(1017018);
    expect(failure(() => store.use(`${id}x`, alice))?.code).toBe(1017018);
    expect(failure(() => store.use("", alice))?.code).toBe(1017004);
  });

  it("expires by TTL, with the status the caller asks for", () => {
    const { clock, store } = setup();
    const rec = store.create(spec());
    store.add(rec);
    expect(rec.expires_at - rec.created_at).toBe(TTL);
    clock.advance(TTL - 1);
    expect(store.use(rec.resource_id, alice)).toBe(rec);
    expect(store.isExpired(rec, clock.now())).toBe(false);
    clock.advance(1);
    expect(store.isExpired(rec, clock.now())).toBe(true);
    expect(failure(() => store.use(rec.resource_id, alice))).toEqual({ code: 1017019, status: 200 });
    expect(failure(() => store.use(rec.resource_id, alice, { expiredStatus: 410 }))).toEqual({
      code: 1017019,
      status: 410,
    });
    // Expiry never leaks to another user: they still get "not yours".
    expect(failure(() => store.use(rec.resource_id, { ...alice, user_id: "bob" }))?.code).toBe(1017018);
  });

  it("honours a per-resource TTL override", () => {
    const { clock, store } = setup();
    const rec = store.create(spec({ ttlMs: 10 }));
    store.add(rec);
    expect("ttlMs" in rec).toBe(false);
    clock.advance(10);
    expect(failure(() => store.use(rec.resource_id, alice))?.code).toBe(1017019);
  });

  it("force-expires one resource and leaves the others", () => {
    const { store } = setup();
    const a = store.create(spec());
    const b = store.create(spec());
    store.add(a);
    store.add(b);
    expect(store.expire(a.resource_id)).toBe(true);
    expect(store.expire("z_nope")).toBe(false);
    expect(failure(() => store.use(a.resource_id, alice, { expiredStatus: 410 }))).toEqual({
      code: 1017019,
      status: 410,
    });
    expect(store.use(b.resource_id, alice)).toBe(b);
  });

  it("lists a song's resources and resets everything", () => {
    const { store } = setup();
    const a = store.create(spec({ song_id: "1", room_id: "r" }));
    const b = store.create(spec({ song_id: "1" }));
    const c = store.create(spec({ song_id: "2" }));
    for (const r of [a, b, c]) store.add(r);
    store.shares.offer(a, "t", 0);
    expect(
      store
        .ofSong("1")
        .map((r) => r.resource_id)
        .sort(),
    ).toEqual([a.resource_id, b.resource_id].sort());
    expect(store.ofSong("3")).toEqual([]);
    store.reset();
    expect(store.count).toBe(0);
    expect(store.shares.size).toBe(0);
    expect(store.ofSong("1")).toEqual([]);
  });

  it("forgets long-expired records (then 1017018) so memory stays bounded", () => {
    const { clock, store } = setup();
    const old = store.create(spec({ song_id: "9" }));
    store.add(old);
    // Retention is max(TTL, 10 min) after expiry.
    clock.advance(TTL + 10 * 60_000 - 1);
    store.add(store.create(spec()));
    expect(failure(() => store.use(old.resource_id, alice))?.code).toBe(1017019);
    clock.advance(1);
    store.add(store.create(spec()));
    expect(failure(() => store.use(old.resource_id, alice))?.code).toBe(1017018);
    expect(store.count).toBe(2);
    expect(store.ofSong("9")).toEqual([]);
  });

  it("remembers a session's newest resources only: past the cap its oldest answers 1017018, others untouched", () => {
    const clock = manualClock();
    const store = createResourceStore({
      clock,
      options: { ...DEFAULT_OPTIONS, resourceTtlMs: TTL },
      limits: { resourcesPerSession: 3, resourcesPerApp: 100 },
    });
    const bob = { id: "s_bob", app_id: 1, user_id: "bob" };
    const bobs = [0, 1].map(() => store.create(spec({ user_id: "bob", session_id: "s_bob" })));
    for (const r of bobs) store.add(r);
    const alices = [0, 1, 2, 3, 4].map((i) => store.create(spec({ song_id: String(500 + i) })));
    for (const r of alices) store.add(r);
    // Alice's two oldest are forgotten; her three newest and all of Bob's are usable.
    for (const r of alices.slice(0, 2))
      expect(failure(() => store.use(r.resource_id, alice))?.code).toBe(1017018);
    for (const r of alices.slice(2)) expect(store.use(r.resource_id, alice).resource_id).toBe(r.resource_id);
    for (const r of bobs) expect(store.use(r.resource_id, bob).resource_id).toBe(r.resource_id);
    expect(store.count).toBe(5);
    expect(store.evicted).toBe(2);
    expect(store.ofSong("500")).toEqual([]);
    expect(store.ofSong("504")).toHaveLength(1);
    // A session whose resources were swept after retention starts again from an empty allowance.
    clock.advance(TTL + 10 * 60_000 + 1);
    for (let i = 0; i < 3; i++) store.add(store.create(spec()));
    expect(store.count).toBe(3);
    expect(store.evicted).toBe(2);
  });

  it("past the app's cap forgets that app's oldest resource (any session's), never another app's", () => {
    const clock = manualClock();
    const store = createResourceStore({
      clock,
      options: { ...DEFAULT_OPTIONS, resourceTtlMs: TTL },
      limits: { resourcesPerSession: 100, resourcesPerApp: 4 },
    });
    const other = { id: "s_other", app_id: 2, user_id: "alice" };
    const theirs = store.create(spec({ app_id: 2, session_id: "s_other" }));
    store.add(theirs);
    const mine = [0, 1, 2, 3, 4, 5].map((i) =>
      store.create(spec({ session_id: i % 2 ? "s_bob" : alice.id, user_id: i % 2 ? "bob" : "alice" })),
    );
    for (const r of mine) store.add(r);
    expect(store.count).toBe(5);
    expect(store.evicted).toBe(2);
    expect(failure(() => store.use(mine[0]!.resource_id, alice))?.code).toBe(1017018);
    expect(store.use(mine[4]!.resource_id, alice).resource_id).toBe(mine[4]!.resource_id);
    expect(store.use(theirs.resource_id, other).resource_id).toBe(theirs.resource_id);
  });

  it("bounds one session that requests without end (10,000 requests) at the documented cap", () => {
    const { store } = setup();
    for (let i = 0; i < 10_000; i++) store.add(store.create(spec()));
    expect(store.count).toBe(MAX_RESOURCES_PER_SESSION);
    expect(store.evicted).toBe(10_000 - MAX_RESOURCES_PER_SESSION);
  });
});
