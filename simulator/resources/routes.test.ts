import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isEnvelope } from "../../protocol/envelope.ts";
import { call, devHeaders, testSimulator } from "../../test/sim.ts";
import type { Simulator } from "../app.ts";
import type { SongFacts } from "../catalog/types.ts";
import { audioLayout } from "../cdn/format.ts";
import { manualClock } from "../clock.ts";
import { VendorError } from "../errors.ts";
import { type AppConfig, DEV_APP } from "../options.ts";

// requestResource / getSharedResource over real HTTP against the whole simulator (real catalog, SQLite ledger
// in memory, auth, rooms). Time is a manual clock so expiry is exact and instant.

const TTL = 300_000;
const SHARE_TTL = 60_000;
const PLAN_APP: AppConfig = {
  app_id: 1000000002,
  app_sign: "fedcba9876543210".repeat(4),
  token_secret: "fedcba9876543210fedcba9876543210",
  monthly_plans: [1, 2],
  vendors: [0, 1, 2],
  scenes: [2, 4],
};

let sim: Simulator;
const clock = manualClock();

beforeAll(async () => {
  sim = await testSimulator({
    apps: [DEV_APP, PLAN_APP],
    clock,
    resourceTtlMs: TTL,
    shareTtlMs: SHARE_TTL,
  });
});
afterAll(() => sim.close());

const appHeaders = (a: AppConfig) => ({ "x-app-id": String(a.app_id), "x-app-sign": a.app_sign });

interface User {
  headers: Record<string, string>;
  session: { id: string; app_id: number; user_id: string };
}

async function user(userId: string, app: AppConfig = DEV_APP, rooms: string[] = []): Promise<User> {
  const r = await call(sim.url, "POST", "/v1/music/init", {
    headers: appHeaders(app),
    body: { user_id: userId },
  });
  expect(r.body.code).toBe(0);
  const headers = { ...appHeaders(app), "x-session": r.body.data.session };
  for (const room_id of rooms) {
    const j = await call(sim.url, "POST", "/v1/room/login", { headers, body: { room_id } });
    expect(j.body.code).toBe(0);
  }
  return { headers, session: { id: r.body.data.session, app_id: app.app_id, user_id: userId } };
}

const request = (u: User, body: unknown) =>
  call(sim.url, "POST", "/v1/music/resource", { headers: u.headers, body });
const shared = (u: User, body: unknown) =>
  call(sim.url, "POST", "/v1/music/shared-resource", { headers: u.headers, body });

function find(pred: (s: SongFacts) => boolean, skip: Set<string> = new Set()): SongFacts {
  for (let i = 0; i < sim.ctx.catalog.size; i++) {
    const s = sim.ctx.catalog.at(i);
    if (!skip.has(s.item.song_id) && pred(s)) return s;
  }
  throw new Error("no song in the test catalog has the needed properties");
}

const singable = (s: SongFacts) =>
  s.item.copyright.recording === 1 && s.item.copyright.song_lyric === 1 && s.has_accompaniment;
const clipOk = (s: SongFacts) =>
  singable(s) && (s.item.vendor_id === 2 ? s.item.has_short_segment === 1 : s.item.has_clip === 1);

function useCode(rid: string, u: User, expiredStatus?: number): number | [number, number] {
  try {
    sim.ctx.resources.use(rid, u.session, { expiredStatus });
    return 0;
  } catch (e) {
    if (!(e instanceof VendorError)) throw e;
    return expiredStatus === undefined ? e.code : [e.code, e.httpStatus];
  }
}

describe("POST /v1/music/resource", () => {
  it("issues every resource type of vendor 0 with the spec's fields and real sizes", async () => {
    const u = await user("types-user");
    const s = find((x) => x.item.vendor_id === 0 && clipOk(x) && x.has_original === 1);
    const base = { song_id: s.item.song_id, vendor_id: 0, billing_mode: 0 };
    const clipLen = s.clip.segment_end - s.clip.segment_begin;

    const song = await request(u, { ...base, resource_type: 0, quality: 2 });
    expect(song.status).toBe(200);
    expect(song.body).toMatchObject({ code: 0, message: "succeed", request_id: expect.any(String) });
    expect(song.body.data).toMatchObject({
      is_accompany: 0,
      song_name: s.item.song_name,
      singer_name: s.item.singer_name,
      song_id: s.item.song_id,
      duration: s.item.duration,
      token_ttl: SHARE_TTL,
      resources_size: 1,
    });
    expect(song.body.data.resources[0]).toEqual({
      resource_id: expect.stringMatching(new RegExp(`^z_${s.item.song_id}_0_[A-Za-z0-9_-]{22}$`)),
      size: audioLayout(2, s.item.duration, 1).size,
      quality: "sq",
      share_token: expect.any(String),
      resource_ttl: TTL,
    });

    const acc = await request(u, { ...base, resource_type: 1 });
    expect(acc.body.data).toMatchObject({
      has_original: 1,
      is_accompany: 1,
      song_id: s.item.song_id,
      duration: s.item.accompany_duration,
      token_ttl: SHARE_TTL,
      krc_token: expect.any(String),
      krc_token_ttl: sim.ctx.options.krcTokenTtlMs,
      share_token: expect.any(String),
    });
    // Dual-track accompaniment: twice the channels of the normal tier.
    expect(acc.body.data.resources[0].size).toBe(audioLayout(0, s.item.accompany_duration, 2).size);
    expect(sim.ctx.resources.krc.verify(acc.body.data.krc_token, clock.now())).toMatchObject({
      song_id: s.item.song_id,
      vendor_id: 0,
      app_id: DEV_APP.app_id,
      user_id: "types-user",
    });

    const clip = await request(u, { ...base, resource_type: 2 });
    expect(clip.body.data).toMatchObject({
      is_clip: 1,
      is_accompany: 1,
      krc_token: expect.any(String),
      share_token_ttl: SHARE_TTL,
      token_ttl: SHARE_TTL,
      segment_begin: s.clip.segment_begin,
      segment_end: s.clip.segment_end,
      prelude_duration: s.clip.prelude_duration,
    });
    expect(clip.body.data.resources[0].size).toBe(audioLayout(0, clipLen, 2).size);

    const seg = await request(u, { ...base, resource_type: 3 });
    expect(seg.body.data).toMatchObject({
      is_clip: 1,
      segment_begin: s.segment.begin,
      segment_end: s.segment.end,
      prelude_duration: s.clip.prelude_duration,
      other_segments: s.segment.other_segments,
    });
    for (const o of seg.body.data.other_segments) {
      expect(o.begin).toBeGreaterThanOrEqual(0);
      expect(o.end).toBeLessThanOrEqual(clipLen);
    }
    const segRec = sim.ctx.resources.use(seg.body.data.resources[0].resource_id, u.session);
    expect(segRec.span).toEqual({ begin: s.clip.segment_begin, end: s.clip.segment_end });
  });

  it("serves the other vendors within their limits (vendor 2 hq accompaniment and segment, vendor 4 song)", async () => {
    const u = await user("vendors-user");
    const v2 = find((x) => x.item.vendor_id === 2 && clipOk(x));
    const hq = await request(u, {
      song_id: v2.item.song_id,
      vendor_id: 2,
      billing_mode: 0,
      resource_type: 1,
      quality: 1,
    });
    expect(hq.body.code).toBe(0);
    expect(hq.body.data.resources[0].quality).toBe("hq");
    const seg = await request(u, {
      song_id: v2.item.song_id,
      vendor_id: 2,
      billing_mode: 0,
      resource_type: 3,
    });
    expect(seg.body.code).toBe(0);
    expect(seg.body.data.other_segments).toBeUndefined();
    const v4 = find((x) => x.item.vendor_id === 4 && x.item.copyright.recording === 1);
    const song = await request(u, {
      song_id: v4.item.song_id,
      vendor_id: 4,
      billing_mode: 0,
      resource_type: 0,
    });
    expect(song.body.code).toBe(0);
    expect(song.body.data.krc_token).toBeUndefined();
  });

  it("bills exactly one ledger row per success, with every field, and none per failure", async () => {
    const u = await user("billing-user", PLAN_APP, ["bill-room"]);
    const s = find((x) => x.item.vendor_id === 0 && singable(x));
    const before = sim.ctx.ledger.count();
    const ok = [
      { billing_mode: 1, resource_type: 1, scene_id: 2 },
      { billing_mode: 2, resource_type: 0, room_id: "bill-room", quality: 1 },
      { billing_mode: 3, resource_type: 1, master_id: "owner-7", room_id: "bill-room", scene_id: 4 },
      { billing_mode: 1, resource_type: 2 },
    ];
    const bad = [
      { billing_mode: 0, resource_type: 1 }, // count from a monthly-only app: 1017043
      { billing_mode: 7, resource_type: 1 },
      { billing_mode: 1, resource_type: 1, scene_id: 3 },
      { billing_mode: 1, resource_type: 1, vendor_id: 4 },
    ];
    const ids: string[] = [];
    for (const b of [...ok, ...bad]) {
      const r = await request(u, { song_id: s.item.song_id, vendor_id: 0, ...b });
      if (r.body.code === 0) ids.push(r.body.data.resources[0].resource_id);
    }
    expect(ids).toHaveLength(ok.length);
    const rows = sim.ctx.ledger.rows({ app_id: PLAN_APP.app_id, since_id: 0, limit: 1000 });
    expect(sim.ctx.ledger.count()).toBe(before + ok.length);
    expect(rows).toHaveLength(ok.length);
    rows.forEach((row, i) => {
      const b = ok[i]!;
      expect(row).toMatchObject({
        app_id: PLAN_APP.app_id,
        user_id: "billing-user",
        song_id: s.item.song_id,
        vendor_id: 0,
        resource_type: b.resource_type,
        billing_mode: b.billing_mode,
        quality: b.quality ?? 0,
        scene_id: b.scene_id ?? 0,
        room_id: b.room_id ?? null,
        master_id: b.master_id ?? null,
        resource_id: ids[i],
        time: clock.now(),
      });
    });
    const admin = await call(sim.url, "GET", `/admin/ledger?app_id=${PLAN_APP.app_id}`);
    expect(admin.body.data.rows).toHaveLength(ok.length);
    expect(admin.body.data.totals.by_mode).toMatchObject({ "1": 2, "2": 1, "3": 1 });
  });

  it("answers each vendor error code with an envelope, billing nothing", async () => {
    const u = await user("errors-user", DEV_APP, ["err-room"]);
    const limited = await user("limited-user", PLAN_APP);
    const s = find((x) => x.item.vendor_id === 0 && clipOk(x));
    const listenOnly = find(
      (x) => x.item.vendor_id === 0 && x.item.copyright.recording === 1 && x.item.copyright.song_lyric === 0,
    );
    const noRights = find((x) => x.item.copyright.recording === 0 && x.item.copyright.song_lyric === 0);
    const noAcc = find(
      (x) => x.item.vendor_id === 0 && x.item.copyright.song_lyric === 1 && !x.has_accompaniment,
    );
    const noClip = find((x) => x.item.vendor_id === 0 && singable(x) && x.item.has_clip === 0);
    const noShort = find((x) => x.item.vendor_id === 2 && singable(x) && x.item.has_short_segment === 2);
    const v2 = find((x) => x.item.vendor_id === 2 && singable(x));
    const v4 = find((x) => x.item.vendor_id === 4 && singable(x));
    const base = { song_id: s.item.song_id, vendor_id: 0, billing_mode: 0, resource_type: 1 };
    const cases: [number, Record<string, unknown>, User?][] = [
      [1017002, { song_id: "" }],
      [1017071, { vendor_id: 3 }],
      [1017052, { song_id: v4.item.song_id, vendor_id: 4, billing_mode: 1 }, limited],
      [1017053, { song_id: v2.item.song_id, vendor_id: 2, resource_type: 2 }],
      [1017053, { resource_type: 0, song_id: v4.item.song_id, vendor_id: 4, quality: 1 }],
      [1017040, { quality: 2 }],
      [1017042, { billing_mode: 9 }],
      [1017073, { billing_mode: 3 }],
      [1017040, { billing_mode: 2 }],
      [1017043, { billing_mode: 0 }, limited],
      [1017076, { scene_id: 1 }],
      [1017054, { room_id: "someone-elses-room" }],
      [1017072, { song_id: "not-a-song" }],
      [1017072, { song_id: v2.item.song_id }],
      [1017031, { song_id: listenOnly.item.song_id }],
      [1017030, { song_id: noRights.item.song_id, vendor_id: noRights.item.vendor_id, resource_type: 0 }],
      [1017033, { song_id: noAcc.item.song_id }],
      [1017034, { song_id: noClip.item.song_id, resource_type: 2 }],
      [1017034, { song_id: noShort.item.song_id, vendor_id: 2, resource_type: 3 }],
    ];
    const rowsBefore = sim.ctx.ledger.count();
    const resBefore = sim.ctx.resources.count;
    for (const [code, over, who] of cases) {
      const r = await request(who ?? u, { ...base, ...over });
      expect({ over, status: r.status, code: r.body.code, data: r.body.data }).toEqual({
        over,
        status: 200,
        code,
        data: null,
      });
      expect(r.body.message).toEqual(expect.any(String));
    }
    expect(sim.ctx.ledger.count()).toBe(rowsBefore);
    expect(sim.ctx.resources.count).toBe(resBefore);
  });

  it("a song revoked via admin answers 1017030 until restored", async () => {
    const u = await user("revoke-user");
    const s = find((x) => x.item.vendor_id === 1 && singable(x));
    const body = { song_id: s.item.song_id, vendor_id: 1, billing_mode: 0, resource_type: 1 };
    expect((await call(sim.url, "POST", `/admin/songs/${s.item.song_id}/revoke`)).body.code).toBe(0);
    expect((await request(u, body)).body.code).toBe(1017030);
    expect((await call(sim.url, "POST", `/admin/songs/${s.item.song_id}/restore`)).body.code).toBe(0);
    expect((await request(u, body)).body.code).toBe(0);
  });

  it("refuses malformed requests with 400 + 1017040 and unauthenticated ones with 401", async () => {
    const u = await user("malformed-user");
    const good = { song_id: "1", vendor_id: 0, billing_mode: 0, resource_type: 0 };
    const bodies: unknown[] = [
      { ...good, resource_type: 4 },
      { ...good, quality: 3 },
      { ...good, vendor_id: "0" },
      { ...good, billing_mode: 0.5 },
      { ...good, extra: 1 },
      { vendor_id: 0, billing_mode: 0, resource_type: 0 },
      [],
    ];
    for (const b of bodies) {
      const r = await request(u, b);
      expect({ b, status: r.status, code: r.body.code }).toEqual({ b, status: 400, code: 1017040 });
    }
    const raw = await call(sim.url, "POST", "/v1/music/resource", { headers: u.headers, raw: "{not json" });
    expect([raw.status, raw.body.code]).toEqual([400, 1017040]);
    const noSession = await call(sim.url, "POST", "/v1/music/resource", { headers: devHeaders, body: good });
    expect(noSession.status).toBe(401);
  });
});

describe("resource ids are bound to app, user and session, and expire", () => {
  it("another user, another app's user and a later session of the same user get 1017018", async () => {
    const alice = await user("alice-bind");
    const bob = await user("bob-bind");
    const aliceOtherApp = await user("alice-bind", PLAN_APP);
    const aliceLater = await user("alice-bind");
    const s = find((x) => x.item.vendor_id === 0 && singable(x));
    const r = await request(alice, {
      song_id: s.item.song_id,
      vendor_id: 0,
      billing_mode: 0,
      resource_type: 1,
    });
    const rid = r.body.data.resources[0].resource_id;
    expect(useCode(rid, alice)).toBe(0);
    expect(useCode(rid, bob)).toBe(1017018);
    expect(useCode(rid, aliceOtherApp)).toBe(1017018);
    expect(useCode(rid, aliceLater)).toBe(1017018);
    expect(useCode("", alice)).toBe(1017004);
  });

  it("expires after the TTL (410 where the caller asks) and after admin expire", async () => {
    const u = await user("expiry-user");
    const s = find((x) => x.item.vendor_id === 0 && singable(x));
    const body = { song_id: s.item.song_id, vendor_id: 0, billing_mode: 0, resource_type: 1 };
    const a = (await request(u, body)).body.data.resources[0].resource_id;
    const b = (await request(u, body)).body.data.resources[0].resource_id;
    const x = await call(sim.url, "POST", `/admin/resources/${encodeURIComponent(a)}/expire`);
    expect(x.body).toMatchObject({ code: 0, data: { resource_id: a, expired: true } });
    expect(useCode(a, u, 410)).toEqual([1017019, 410]);
    expect(useCode(b, u)).toBe(0);
    clock.advance(TTL - 1);
    expect(useCode(b, u)).toBe(0);
    clock.advance(1);
    expect(useCode(b, u, 410)).toEqual([1017019, 410]);
    expect(useCode(b, u)).toBe(1017019);
    // A fresh request after expiry works (and is billed again).
    const rows = sim.ctx.ledger.count();
    expect((await request(u, body)).body.code).toBe(0);
    expect(sim.ctx.ledger.count()).toBe(rows + 1);
  });
});

describe("issued resources work end to end with the other surfaces", () => {
  it("downloads for the owner only, 410 once expired; the krc_token opens the KRC lyrics", async () => {
    const u = await user("e2e-user");
    const bob = await user("e2e-bob");
    const s = find((x) => x.item.vendor_id === 0 && singable(x) && x.has_krc && !x.pure_music);
    const r = await request(u, { song_id: s.item.song_id, vendor_id: 0, billing_mode: 0, resource_type: 1 });
    const { resource_id, size } = r.body.data.resources[0];
    const path = `/v1/music/download/${encodeURIComponent(resource_id)}`;
    const part = await fetch(sim.url + path, { headers: { ...u.headers, range: "bytes=0-43" } });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes 0-43/${size}`);
    expect((await part.arrayBuffer()).byteLength).toBe(44);
    const other = await call(sim.url, "GET", path, { headers: bob.headers });
    expect(other.body.code).toBe(1017018);

    const krc = await call(
      sim.url,
      "GET",
      `/v1/music/lyrics/krc?krc_token=${encodeURIComponent(r.body.data.krc_token)}`,
      {
        headers: u.headers,
      },
    );
    expect(krc.body.code).toBe(0);
    const forged = `${r.body.data.krc_token.slice(0, -4)}AAAA`;
    const bad = await call(sim.url, "GET", `/v1/music/lyrics/krc?krc_token=${encodeURIComponent(forged)}`, {
      headers: u.headers,
    });
    expect(bad.body.code).toBe(1017046);

    sim.ctx.resources.expire(resource_id);
    const gone = await call(sim.url, "GET", path, { headers: u.headers });
    expect([gone.status, gone.body.code]).toEqual([410, 1017019]);
  });
});

describe("POST /v1/music/shared-resource", () => {
  it("shares a song without word-timed lyrics without a krc_token, as the request answered", async () => {
    const room = "share-room-nokrc";
    const alice = await user("alice-nokrc", DEV_APP, [room]);
    const bob = await user("bob-nokrc", DEV_APP, [room]);
    const s = find((x) => x.item.vendor_id === 0 && singable(x) && !x.has_krc);
    const key = { song_id: s.item.song_id, resource_type: 1, vendor_id: 0, room_id: room };
    const orig = await request(alice, { ...key, billing_mode: 0 });
    expect(orig.body.code).toBe(0);
    expect(orig.body.data).not.toHaveProperty("krc_token");
    const got = await shared(bob, key);
    expect(got.body.code).toBe(0);
    expect(got.body.data).not.toHaveProperty("krc_token");
  });

  it("gives each other room member one free copy; 1017050 / 1017051 / 1017054 otherwise", async () => {
    const room = "share-room";
    const alice = await user("alice-share", DEV_APP, [room]);
    const bob = await user("bob-share", DEV_APP, [room]);
    const carol = await user("carol-share", DEV_APP, [room]);
    const outsider = await user("dave-share");
    const s = find((x) => x.item.vendor_id === 0 && singable(x) && x.has_krc);
    const key = { song_id: s.item.song_id, resource_type: 1, vendor_id: 0, room_id: room };

    expect((await shared(bob, key)).body.code).toBe(1017050);
    const rows = sim.ctx.ledger.count();
    const orig = await request(alice, { ...key, billing_mode: 0 });
    expect(orig.body.code).toBe(0);
    expect(sim.ctx.ledger.count()).toBe(rows + 1);

    const got = await shared(bob, key);
    expect(got.body.code).toBe(0);
    expect(got.body.data).toMatchObject({
      is_accompany: 1,
      song_id: s.item.song_id,
      krc_token: expect.any(String),
    });
    expect(got.body.data.token_ttl).toBeUndefined();
    expect(got.body.data.resources[0].share_token).toBeUndefined();
    expect(got.body.data.resources[0].size).toBe(orig.body.data.resources[0].size);
    const rid = got.body.data.resources[0].resource_id;
    expect(useCode(rid, bob)).toBe(0);
    expect(useCode(rid, alice)).toBe(1017018);
    // The shared copy's krc_token is the fetcher's own, not the requester's.
    expect(sim.ctx.resources.krc.verify(got.body.data.krc_token, clock.now()).user_id).toBe("bob-share");

    expect((await shared(bob, key)).body.code).toBe(1017051);
    expect((await shared(alice, key)).body.code).toBe(1017050);
    expect((await shared(outsider, key)).body.code).toBe(1017054);
    expect((await shared(carol, { ...key, resource_type: 0 })).body.code).toBe(1017050);
    expect((await shared(carol, key)).body.code).toBe(0);
    expect(sim.ctx.ledger.count()).toBe(rows + 1);

    clock.advance(SHARE_TTL);
    const erin = await user("erin-share", DEV_APP, [room]);
    expect((await shared(erin, key)).body.code).toBe(1017050);
  });

  it("shared clips keep token_ttl and share tokens; a revoked song answers 1017030", async () => {
    const room = "clip-room";
    const alice = await user("alice-clip", DEV_APP, [room]);
    const bob = await user("bob-clip", DEV_APP, [room]);
    const s = find((x) => x.item.vendor_id === 1 && clipOk(x));
    const key = { song_id: s.item.song_id, resource_type: 2, vendor_id: 1, room_id: room };
    const orig = await request(alice, { ...key, billing_mode: 0 });
    expect(orig.body.code).toBe(0);
    clock.advance(1000);
    sim.ctx.catalog.revoke(s.item.song_id);
    expect((await shared(bob, key)).body.code).toBe(1017030);
    sim.ctx.catalog.restore(s.item.song_id);
    const got = await shared(bob, key);
    expect(got.body.data).toMatchObject({
      is_clip: 1,
      token_ttl: SHARE_TTL - 1000,
      share_token_ttl: SHARE_TTL - 1000,
      segment_begin: s.clip.segment_begin,
    });
    expect(got.body.data.resources[0].share_token).toBe(orig.body.data.resources[0].share_token);
  });

  it("validates its body: 400 for a missing room_id, vendor codes for bad values", async () => {
    const u = await user("shared-bad", DEV_APP, ["r"]);
    const missing = await shared(u, { song_id: "1", resource_type: 0, vendor_id: 0 });
    expect([missing.status, missing.body.code]).toEqual([400, 1017040]);
    expect((await shared(u, { song_id: "", resource_type: 0, vendor_id: 0, room_id: "r" })).body.code).toBe(
      1017002,
    );
    expect((await shared(u, { song_id: "1", resource_type: 0, vendor_id: 5, room_id: "r" })).body.code).toBe(
      1017071,
    );
  });
});

describe("property: random requests", () => {
  it("always answer an envelope (200 or 400), and the ledger grows by exactly the successes", async () => {
    const u = await user("prop-user", DEV_APP, ["p1"]);
    const v = await user("prop-peer", DEV_APP, ["p1"]);
    const songs = Array.from({ length: 40 }, (_, i) => sim.ctx.catalog.at(i * 47).item);
    // Mostly valid values (the song's own id and vendor, the room the users are in), so the success path is
    // exercised as much as each failure.
    const mostly = <T>(good: fc.Arbitrary<T>, any: fc.Arbitrary<T>) =>
      fc.oneof({ arbitrary: good, weight: 4 }, { arbitrary: any, weight: 1 });
    const body = fc
      .record({
        song: fc.constantFrom(...songs),
        other_song_id: mostly(fc.constant(null), fc.string({ maxLength: 12 })),
        other_vendor: mostly(fc.constant(null), fc.integer({ min: -1, max: 5 })),
        resource_type: mostly(fc.integer({ min: 0, max: 3 }), fc.integer({ min: -2, max: 6 })),
        billing_mode: mostly(fc.constantFrom(0, 0, 1, 3), fc.integer({ min: -1, max: 5 })),
        scene_id: mostly(fc.constant(0), fc.integer({ min: -1, max: 5 })),
        room_id: mostly(fc.constant("p1"), fc.constantFrom("p2", "")),
        master_id: fc.constantFrom("", "m"),
        quality: mostly(fc.constant(0), fc.integer({ min: -1, max: 3 })),
      })
      .map(({ song, other_song_id, other_vendor, ...rest }) => ({
        ...rest,
        song_id: other_song_id ?? song.song_id,
        vendor_id: other_vendor ?? song.vendor_id,
      }));
    const tally = { requested: 0, shared: 0 };
    let lastInRoom: Record<string, unknown> | undefined;
    await fc.assert(
      fc.asyncProperty(body, fc.boolean(), fc.boolean(), async (b, viaShare, reuse) => {
        const rows = sim.ctx.ledger.count();
        const key = {
          song_id: b.song_id,
          resource_type: b.resource_type,
          vendor_id: b.vendor_id,
          room_id: b.room_id,
        };
        const r = viaShare ? await shared(v, reuse && lastInRoom ? lastInRoom : key) : await request(u, b);
        expect([200, 400]).toContain(r.status);
        expect(isEnvelope(r.body)).toBe(true);
        expect(r.body.code === 0).toBe(r.body.data !== null);
        if (r.body.code === 0) tally[viaShare ? "shared" : "requested"]++;
        if (!viaShare && r.body.code === 0 && b.room_id === "p1") lastInRoom = key;
        expect(sim.ctx.ledger.count()).toBe(rows + (!viaShare && r.body.code === 0 ? 1 : 0));
      }),
      { numRuns: 200, seed: 7 },
    );
    expect(tally.requested).toBeGreaterThan(10);
    expect(tally.shared).toBeGreaterThan(3);
  });
});

describe("metrics", () => {
  it("counts ledger rows and issued resources", async () => {
    const text = await (await fetch(`${sim.url}/metrics`)).text();
    const sum = (name: string) =>
      text
        .split("\n")
        .filter((l) => l.startsWith(name))
        .reduce((n, l) => n + Number(l.split(" ").at(-1)), 0);
    expect(sum("ktv_ledger_rows_total{")).toBe(sim.ctx.ledger.count());
    expect(sum('ktv_resources_issued_total{resource_type="1",via="share"}')).toBeGreaterThanOrEqual(2);
  });
});
