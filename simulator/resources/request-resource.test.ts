import { describe, expect, it } from "vitest";
import { audioLayout } from "../cdn/format.ts";
import { VendorError } from "../errors.ts";
import { DEV_APP } from "../options.ts";
import { requestResource } from "./request-resource.ts";
import type { RequestResourceBody } from "./schemas.ts";
import { getSharedResource } from "./shared-resource.ts";
import { caller, fixtureDeps, makeSong } from "./test-fixtures.ts";

// Hand-made songs, one per property a check looks at.
const SONGS = [
  makeSong(0), // vendor 0, singable, single track, has clip
  makeSong(1, { has_original: 1 }), // dual-track
  makeSong(2, { song_lyric: 0 }), // listen only
  makeSong(3, { recording: 0, song_lyric: 0 }), // no rights
  makeSong(4, { has_accompaniment: false }),
  makeSong(5, { has_clip: 0 }),
  makeSong(6, { vendor_id: 2 }),
  makeSong(7, { vendor_id: 2, has_short_segment: 2 }),
  makeSong(8, { vendor_id: 4 }),
  makeSong(9, { recording: 0 }), // sing only: no original
  makeSong(10, { vendor_id: 1 }),
];
const id = (i: number) => SONGS[i]!.item.song_id;
const silentLog = { error: () => {} };

function body(over: Partial<RequestResourceBody> = {}): RequestResourceBody {
  return { song_id: id(0), resource_type: 1, billing_mode: 0, vendor_id: 0, ...over };
}

function codeOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof VendorError) return e.code;
    throw e;
  }
  return 0;
}

describe("requestResource checks", () => {
  const { deps, ledger } = fixtureDeps(SONGS);
  const alice = caller("alice");
  deps.rooms.join(DEV_APP.app_id, "room1", "alice");
  const req =
    (over: Partial<RequestResourceBody>, who = alice) =>
    () =>
      requestResource(deps, who, body(over), "req-1", silentLog);

  const cases: [string, Partial<RequestResourceBody>, number, typeof alice?][] = [
    ["empty song_id", { song_id: "" }, 1017002],
    ["vendor 3", { vendor_id: 3 }, 1017071],
    ["vendor -1", { vendor_id: -1 }, 1017071],
    ["vendor not enabled", { vendor_id: 1 }, 1017052, caller("v0only", { ...DEV_APP, vendors: [0] })],
    ["clip on vendor 2", { song_id: id(6), vendor_id: 2, resource_type: 2 }, 1017053],
    ["segment on vendor 4", { song_id: id(8), vendor_id: 4, resource_type: 3 }, 1017053],
    ["hq song on vendor 4", { song_id: id(8), vendor_id: 4, resource_type: 0, quality: 1 }, 1017053],
    ["sq song on vendor 2", { song_id: id(6), vendor_id: 2, resource_type: 0, quality: 2 }, 1017053],
    ["hq accompaniment on vendor 0", { quality: 1 }, 1017053],
    ["sq accompaniment anywhere", { quality: 2 }, 1017040],
    ["hq clip", { resource_type: 2, quality: 1 }, 1017040],
    ["sq segment", { resource_type: 3, quality: 2 }, 1017040],
    ["billing mode 4", { billing_mode: 4 }, 1017042],
    ["billing mode -1", { billing_mode: -1 }, 1017042],
    ["master without master_id", { billing_mode: 3 }, 1017073],
    ["master with empty master_id", { billing_mode: 3, master_id: "" }, 1017073],
    ["room billing without room", { billing_mode: 2 }, 1017040],
    [
      "user-monthly without plan",
      { billing_mode: 1 },
      1017032,
      caller("c", { ...DEV_APP, monthly_plans: [0, 2] }),
    ],
    [
      "room-monthly without plan",
      { billing_mode: 2, room_id: "room1" },
      1017032,
      caller("c", { ...DEV_APP, monthly_plans: [1] }),
    ],
    [
      "count from monthly-only app",
      { billing_mode: 0 },
      1017043,
      caller("m", { ...DEV_APP, monthly_plans: [1, 2] }),
    ],
    ["scene not enabled", { scene_id: 2 }, 1017076],
    ["negative scene", { scene_id: -1 }, 1017076],
    ["room not logged in", { room_id: "room2" }, 1017054],
    ["unknown song", { song_id: "99999999" }, 1017072],
    ["song of another vendor", { song_id: id(6), vendor_id: 0 }, 1017072],
    ["accompaniment of a listen-only song", { song_id: id(2) }, 1017031],
    ["clip of a listen-only song", { song_id: id(2), resource_type: 2 }, 1017031],
    ["song without any rights", { song_id: id(3), resource_type: 0 }, 1017030],
    ["accompaniment without any rights", { song_id: id(3) }, 1017030],
    ["original without recording right", { song_id: id(9), resource_type: 0 }, 1017030],
    ["song without accompaniment", { song_id: id(4) }, 1017033],
    ["clip of a song without clip", { song_id: id(5), resource_type: 2 }, 1017034],
    ["segment of a song without clip", { song_id: id(5), resource_type: 3 }, 1017034],
    ["vendor-2 segment without short segment", { song_id: id(7), vendor_id: 2, resource_type: 3 }, 1017034],
  ];
  for (const [name, over, code, who] of cases) {
    it(`${name} -> ${code}, nothing billed or issued`, () => {
      const before = { rows: ledger.count(), resources: deps.resources.count };
      expect(codeOf(req(over, who))).toBe(code);
      expect({ rows: ledger.count(), resources: deps.resources.count }).toEqual(before);
    });
  }

  it("a revoked song -> 1017030, restored -> served again", () => {
    deps.catalog.revoke(id(0));
    expect(codeOf(req({}))).toBe(1017030);
    deps.catalog.restore(id(0));
    expect(codeOf(req({}))).toBe(0);
  });

  it("the allowed combinations pass (scene enabled, plans, master, monthly)", () => {
    const planned = caller("p", { ...DEV_APP, monthly_plans: [1, 2], scenes: [2, 4] });
    deps.rooms.join(DEV_APP.app_id, "room1", "p");
    expect(codeOf(req({ billing_mode: 1, scene_id: 4 }, planned))).toBe(0);
    expect(codeOf(req({ billing_mode: 2, room_id: "room1", scene_id: 2 }, planned))).toBe(0);
    expect(codeOf(req({ billing_mode: 3, master_id: "owner" }, planned))).toBe(0);
    expect(
      codeOf(req({ billing_mode: 0, scene_id: 0 }, caller("c0", { ...DEV_APP, monthly_plans: [0, 1] }))),
    ).toBe(0);
    expect(codeOf(req({ song_id: id(9), resource_type: 1 }))).toBe(0);
    expect(codeOf(req({ song_id: id(2), resource_type: 0 }))).toBe(0);
  });
});

describe("requestResource results and billing", () => {
  it("bills one row with every field before issuing, and the resource is usable by its owner only", () => {
    const { deps, ledger, clock } = fixtureDeps(SONGS);
    const alice = caller("alice");
    deps.rooms.join(DEV_APP.app_id, "room1", "alice");
    const data = requestResource(
      deps,
      alice,
      body({
        billing_mode: 3,
        master_id: "boss",
        room_id: "room1",
        scene_id: 0,
        resource_type: 0,
        quality: 2,
      }),
      "req-42",
      silentLog,
    );
    expect(ledger.all).toHaveLength(1);
    const rid = data.resources[0]!.resource_id;
    expect(ledger.all[0]).toEqual({
      id: 1,
      time: clock.now(),
      app_id: DEV_APP.app_id,
      user_id: "alice",
      room_id: "room1",
      song_id: id(0),
      resource_type: 0,
      billing_mode: 3,
      vendor_id: 0,
      quality: 2,
      scene_id: 0,
      master_id: "boss",
      resource_id: rid,
      request_id: "req-42",
    });
    expect(deps.resources.use(rid, alice.session).billing_mode).toBe(3);
    expect(codeOf(() => deps.resources.use(rid, caller("bob").session))).toBe(1017018);
  });

  it("a failing ledger answers 1017099 and issues nothing; the next request works", async () => {
    const { deps, ledger } = fixtureDeps(SONGS);
    const alice = caller("alice");
    ledger.failNext = true;
    const errors: object[] = [];
    expect(codeOf(() => requestResource(deps, alice, body(), "r", { error: (o) => errors.push(o) }))).toBe(
      1017099,
    );
    expect(errors).toHaveLength(1);
    expect(deps.resources.count).toBe(0);
    expect(ledger.count()).toBe(0);
    const rows = await deps.metrics.ledgerRows.get();
    expect(rows.values.reduce((n, v) => n + v.value, 0)).toBe(0);
    requestResource(deps, alice, body(), "r2", silentLog);
    expect(ledger.count()).toBe(1);
    expect(deps.resources.count).toBe(1);
  });

  it("shapes a Song result field for field", () => {
    const { deps } = fixtureDeps(SONGS, { resourceTtlMs: 300_000, shareTtlMs: 3_600_000 });
    const s = SONGS[0]!;
    const data = requestResource(deps, caller("a"), body({ resource_type: 0, quality: 1 }), "r", silentLog);
    expect(Object.keys(data).sort()).toEqual(
      [
        "is_accompany",
        "song_name",
        "singer_name",
        "song_id",
        "duration",
        "token_ttl",
        "resources_size",
        "resources",
      ].sort(),
    );
    expect(data).toMatchObject({
      is_accompany: 0,
      song_name: s.item.song_name,
      singer_name: s.item.singer_name,
      song_id: s.item.song_id,
      duration: s.item.duration,
      token_ttl: 3_600_000,
      resources_size: 1,
    });
    const r = data.resources[0]!;
    expect(Object.keys(r).sort()).toEqual(["quality", "resource_id", "resource_ttl", "share_token", "size"]);
    expect(r).toMatchObject({
      quality: "hq",
      resource_ttl: 300_000,
      size: audioLayout(1, s.item.duration, 1).size,
    });
  });

  it("shapes an Accompaniment result: dual track doubles the size, krc_token verifies", () => {
    const { deps, clock } = fixtureDeps(SONGS);
    const s = SONGS[1]!;
    const data = requestResource(deps, caller("a"), body({ song_id: s.item.song_id }), "r", silentLog);
    expect(Object.keys(data).sort()).toEqual(
      [
        "has_original",
        "is_accompany",
        "song_id",
        "duration",
        "token_ttl",
        "krc_token",
        "krc_token_ttl",
        "resources_size",
        "resources",
        "share_token",
      ].sort(),
    );
    expect(data).toMatchObject({ has_original: 1, is_accompany: 1, duration: s.item.accompany_duration });
    expect(data.resources[0]!.size).toBe(audioLayout(0, s.item.accompany_duration, 2).size);
    expect(data.krc_token_ttl).toBe(deps.options.krcTokenTtlMs);
    expect(deps.resources.krc.verify(data.krc_token, clock.now())).toMatchObject({
      song_id: s.item.song_id,
      vendor_id: 0,
      user_id: "a",
    });
  });

  it("shapes Clip and Segment results with the catalog's times, other_segments for vendors 0/1 only", () => {
    const { deps } = fixtureDeps(SONGS);
    const s = SONGS[0]!;
    const clip = requestResource(deps, caller("a"), body({ resource_type: 2 }), "r", silentLog);
    expect(Object.keys(clip).sort()).toEqual(
      [
        "is_clip",
        "is_accompany",
        "krc_token",
        "krc_token_ttl",
        "song_id",
        "share_token_ttl",
        "token_ttl",
        "segment_begin",
        "segment_end",
        "prelude_duration",
        "resources_size",
        "resources",
      ].sort(),
    );
    expect(clip).toMatchObject({
      is_clip: 1,
      is_accompany: 1,
      segment_begin: s.clip.segment_begin,
      segment_end: s.clip.segment_end,
      prelude_duration: s.clip.prelude_duration,
      share_token_ttl: deps.options.shareTtlMs,
      token_ttl: deps.options.shareTtlMs,
    });
    const clipLen = s.clip.segment_end - s.clip.segment_begin;
    expect(clip.resources[0]!.size).toBe(audioLayout(0, clipLen, 1).size);

    const seg = requestResource(deps, caller("a"), body({ resource_type: 3 }), "r", silentLog);
    expect(seg).toMatchObject({
      is_clip: 1,
      segment_begin: s.segment.begin,
      segment_end: s.segment.end,
      other_segments: s.segment.other_segments,
    });
    const segRec = deps.resources.get(seg.resources[0]!.resource_id)!;
    expect(segRec.span).toEqual({ begin: s.clip.segment_begin, end: s.clip.segment_end });

    const v1 = requestResource(
      deps,
      caller("a"),
      body({ song_id: id(10), vendor_id: 1, resource_type: 3 }),
      "r",
      silentLog,
    );
    expect(v1.other_segments).toHaveLength(2);
    const v2 = requestResource(
      deps,
      caller("a"),
      body({ song_id: id(6), vendor_id: 2, resource_type: 3 }),
      "r",
      silentLog,
    );
    expect(v2.other_segments).toBeUndefined();
    expect(v2.segment_begin).toBe(SONGS[6]!.segment.begin);
  });
});

describe("getSharedResource", () => {
  function room() {
    const f = fixtureDeps(SONGS, { shareTtlMs: 10_000 });
    const [alice, bob, carol] = [caller("alice"), caller("bob"), caller("carol")];
    for (const u of ["alice", "bob", "carol"]) f.deps.rooms.join(DEV_APP.app_id, "r1", u);
    const shared = (
      who: typeof bob,
      over: Partial<{ song_id: string; resource_type: number; vendor_id: number; room_id: string }> = {},
    ) =>
      getSharedResource(f.deps, who, {
        song_id: id(0),
        resource_type: 1,
        vendor_id: 0,
        room_id: "r1",
        ...over,
      });
    return { ...f, alice, bob, carol, shared };
  }

  it("hands each other member one free copy of what a member requested in the room", () => {
    const { deps, ledger, alice, bob, carol, shared, clock } = room();
    expect(codeOf(() => shared(bob))).toBe(1017050);
    const orig = requestResource(deps, alice, body({ room_id: "r1", quality: 0 }), "r", silentLog);
    expect(ledger.count()).toBe(1);
    clock.advance(4000);
    const got = shared(bob);
    expect(ledger.count()).toBe(1);
    const rid = got.resources[0]!.resource_id;
    expect(rid).not.toBe(orig.resources[0]!.resource_id);
    expect(deps.resources.use(rid, bob.session)).toMatchObject({
      via_share: true,
      user_id: "bob",
      quality: 0,
    });
    expect(codeOf(() => deps.resources.use(rid, alice.session))).toBe(1017018);
    // Shared accompaniment: no token_ttl, no resources[].share_token (spec §2).
    expect(got.token_ttl).toBeUndefined();
    expect(got.resources[0]!.share_token).toBeUndefined();
    expect(got.resources[0]!.size).toBe(orig.resources[0]!.size);
    expect(got.krc_token).toBeTypeOf("string");
    expect(codeOf(() => shared(bob))).toBe(1017051);
    expect(codeOf(() => shared(carol))).toBe(0);
    // The requester cannot "share" with themselves.
    expect(codeOf(() => shared(alice))).toBe(1017050);
  });

  it("expires the share after shareTtlMs, and a new request opens a new one", () => {
    const { deps, alice, bob, shared, clock } = room();
    requestResource(deps, alice, body({ room_id: "r1" }), "r", silentLog);
    clock.advance(10_000);
    expect(codeOf(() => shared(bob))).toBe(1017050);
    requestResource(deps, alice, body({ room_id: "r1" }), "r", silentLog);
    expect(codeOf(() => shared(bob))).toBe(0);
  });

  it("matches room, song, type and vendor exactly; requests without room_id share nothing", () => {
    const { deps, alice, bob, shared } = room();
    deps.rooms.join(DEV_APP.app_id, "r2", "bob");
    requestResource(deps, alice, body({}), "r", silentLog);
    expect(deps.resources.shares.size).toBe(0);
    expect(codeOf(() => shared(bob))).toBe(1017050);
    requestResource(deps, alice, body({ room_id: "r1" }), "r", silentLog);
    expect(codeOf(() => shared(bob, { room_id: "r2" }))).toBe(1017050);
    expect(codeOf(() => shared(bob, { resource_type: 0 }))).toBe(1017050);
    expect(codeOf(() => shared(bob, { song_id: id(1) }))).toBe(1017050);
  });

  it("checks song id, vendor, room membership and revocation", () => {
    const { deps, alice, bob, shared } = room();
    requestResource(deps, alice, body({ room_id: "r1" }), "r", silentLog);
    expect(codeOf(() => shared(bob, { song_id: "" }))).toBe(1017002);
    expect(codeOf(() => shared(bob, { vendor_id: 3 }))).toBe(1017071);
    expect(codeOf(() => shared(caller("v", { ...DEV_APP, vendors: [1] })))).toBe(1017052);
    expect(codeOf(() => shared(bob, { resource_type: 2, vendor_id: 4 }))).toBe(1017053);
    expect(codeOf(() => shared(caller("dave")))).toBe(1017054);
    expect(codeOf(() => shared(bob, { song_id: "424242" }))).toBe(1017072);
    deps.catalog.revoke(id(0));
    expect(codeOf(() => shared(bob))).toBe(1017030);
    deps.catalog.restore(id(0));
    expect(codeOf(() => shared(bob))).toBe(0);
  });

  it("shared Clip and Segment results keep token_ttl and share tokens", () => {
    const { deps, alice, bob, shared, clock } = room();
    const orig = requestResource(deps, alice, body({ room_id: "r1", resource_type: 3 }), "r", silentLog);
    clock.advance(1000);
    const got = shared(bob, { resource_type: 3 });
    expect(got.token_ttl).toBe(9000);
    expect(got.share_token_ttl).toBe(9000);
    expect(got.resources[0]!.share_token).toBe(orig.resources[0]!.share_token);
    expect(got.other_segments).toEqual(orig.other_segments);
  });
});
