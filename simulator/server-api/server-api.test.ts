import { TypeCompiler } from "@sinclair/typebox/compiler";
import fc from "fast-check";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  SERVER_API_ACTIONS,
  type ServerApiAction,
  ServerApiMessage,
  serverApiSignature,
} from "../../protocol/server-api.ts";
import { call, session, testSimulator } from "../../test/sim.ts";
import type { Simulator } from "../app.ts";
import type { SongFacts } from "../catalog/types.ts";
import { manualClock } from "../clock.ts";
import { type AppConfig, DEV_APP } from "../options.ts";
import { ACTIONS } from "./actions.ts";

// The server REST API over a real socket against the whole simulator: the signature rules, every action's
// happy path checked against the Data schema the OpenAPI document lists, the error paths a partner meets,
// the per-action QPS, and that revocations and faults show on this path as on the SDK path.

const LIMITED: AppConfig = {
  app_id: 1000000002,
  app_sign: "fedcba9876543210".repeat(4),
  token_secret: "fedcba9876543210fedcba9876543210",
  server_api_qps: 5,
  vendors: [0, 1],
};
const clock = manualClock(1_765_000_000_000);
let sim: Simulator;

beforeAll(async () => {
  sim = await testSimulator({ apps: [DEV_APP, LIMITED], clock });
});
afterAll(() => sim.close());
beforeEach(async () => {
  // Each test in its own second, so one test's QPS count never spills into the next.
  clock.advance(1000);
  await call(sim.url, "POST", "/admin/faults/reset");
});

type Params = Record<string, string | number | (string | number)[]>;
interface Sign {
  app?: AppConfig;
  secret?: string;
  timestamp?: number;
  nonce?: string;
  drop?: string[];
  extra?: Record<string, string>;
}

/** A signed query: common params (overridable) + action params, lists as Name[]=. */
function query(action: string | undefined, params: Params = {}, s: Sign = {}): string {
  const app = s.app ?? DEV_APP;
  const ts = s.timestamp ?? Math.floor(clock.now() / 1000);
  const nonce = s.nonce ?? `n${Math.random().toString(36).slice(2)}`;
  const q = new URLSearchParams();
  const common: Record<string, string> = {
    AppId: String(app.app_id),
    SignatureNonce: nonce,
    Timestamp: String(ts),
    Signature: serverApiSignature(app.app_id, nonce, s.secret ?? app.token_secret, ts),
    SignatureVersion: "2.0",
    UserId: "backend-1",
    ...s.extra,
  };
  if (action !== undefined) q.append("Action", action);
  for (const [k, v] of Object.entries(common)) if (!s.drop?.includes(k)) q.append(k, v);
  for (const [k, v] of Object.entries(params)) {
    if (Array.isArray(v)) for (const x of v) q.append(`${k}[]`, String(x));
    else q.append(k, String(v));
  }
  return `/?${q}`;
}

async function api(action: string | undefined, params: Params = {}, s: Sign = {}) {
  const r = await call(sim.url, "GET", query(action, params, s));
  expect(r.status).toBe(200);
  expect(Object.keys(r.body)).toEqual(["Code", "Message", "RequestId", "Data"]);
  return r;
}

function song(pred: (f: SongFacts) => boolean): SongFacts {
  for (let i = 0; i < sim.ctx.catalog.size; i++) {
    const f = sim.ctx.catalog.at(i);
    if (!sim.ctx.catalog.isRevoked(f.item.song_id) && pred(f)) return f;
  }
  throw new Error("no such song in the test catalog");
}
const v0 = () =>
  song(
    (f) => f.item.vendor_id === 0 && f.item.has_clip === 1 && f.has_krc && f.item.copyright.song_lyric === 1,
  );

describe("signature", () => {
  it("a request signed with the app's ServerSecret gets Code 0, dated by the simulator clock", async () => {
    const r = await api("DescribeTags");
    expect(r.body.Code).toBe(0);
    expect(r.body.Message).toBe("succeed");
    expect(r.body.Data.Groups.length).toBeGreaterThan(0);
    expect(Date.parse(r.headers.get("date") ?? "")).toBe(Math.floor(clock.now() / 1000) * 1000);
  });

  it("a wrong secret answers 100000005; uppercase hex is named as the fault", async () => {
    const r = await api("DescribeTags", {}, { secret: LIMITED.token_secret });
    expect(r.body.Code).toBe(100000005);
    expect(r.body.Data).toBeNull();
    const ts = Math.floor(clock.now() / 1000);
    const upper = serverApiSignature(DEV_APP.app_id, "n1", DEV_APP.token_secret, ts).toUpperCase();
    const u = await api("DescribeTags", {}, { nonce: "n1", timestamp: ts, extra: { Signature: upper } });
    expect(u.body).toMatchObject({ Code: 100000005, Message: expect.stringContaining("lowercase") });
    // Signed for another Timestamp than the one sent.
    const sig = serverApiSignature(DEV_APP.app_id, "n2", DEV_APP.token_secret, ts - 1);
    const t = await api("DescribeTags", {}, { nonce: "n2", timestamp: ts, extra: { Signature: sig } });
    expect(t.body.Code).toBe(100000005);
  });

  it("a Timestamp 11 minutes old or ahead answers 100000004; 9 minutes is within the window", async () => {
    const now = Math.floor(clock.now() / 1000);
    expect((await api("DescribeTags", {}, { timestamp: now - 660 })).body.Code).toBe(100000004);
    expect((await api("DescribeTags", {}, { timestamp: now + 660 })).body.Code).toBe(100000004);
    expect((await api("DescribeTags", {}, { timestamp: now - 540 })).body.Code).toBe(0);
    expect((await api("DescribeTags", {}, { timestamp: now + 600 })).body.Code).toBe(0);
  });

  it("each missing common param is named (320000004); bad forms and unknown apps have their codes", async () => {
    for (const p of ["AppId", "SignatureNonce", "Timestamp", "Signature", "UserId"]) {
      const r = await api("DescribeTags", {}, { drop: [p] });
      expect(r.body, p).toMatchObject({
        Code: 320000004,
        Message: expect.stringContaining(`${p} is required`),
      });
    }
    // SignatureVersion may be left out (its documented default), not changed.
    expect((await api("DescribeTags", {}, { drop: ["SignatureVersion"] })).body.Code).toBe(0);
    const v = await api("DescribeTags", {}, { extra: { SignatureVersion: "1.0" } });
    expect(v.body).toMatchObject({ Code: 320000004, Message: expect.stringContaining("SignatureVersion") });
    const ts = await api("DescribeTags", {}, { extra: { Timestamp: "soon" } });
    expect(ts.body).toMatchObject({ Code: 320000004, Message: expect.stringContaining("Timestamp") });
    const ghost = { ...DEV_APP, app_id: 4242 };
    expect((await api("DescribeTags", {}, { app: ghost })).body.Code).toBe(320040002);
    const twice = await call(sim.url, "GET", `${query("DescribeTags")}&UserId=other`);
    expect(twice.body).toMatchObject({ Code: 320000004, Message: expect.stringContaining("UserId") });
    const badUser = await api("DescribeTags", {}, { extra: { UserId: "a b" } });
    expect(badUser.body).toMatchObject({ Code: 320000004, Message: expect.stringContaining("UserId") });
  });

  it("Action missing or unknown answers 320000004 naming Action", async () => {
    expect((await api(undefined)).body).toMatchObject({
      Code: 320000004,
      Message: expect.stringContaining("Action"),
    });
    const r = await api("DescribeEverything");
    expect(r.body).toMatchObject({ Code: 320000004, Message: expect.stringContaining("DescribeTags") });
  });
});

describe("methods other than GET", () => {
  it("answer HTTP 405 with Allow in the server API's envelope (Code 320000004), whatever the body", async () => {
    for (const method of ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"]) {
      const r = await fetch(sim.url + query("DescribeTags"), {
        method,
        ...(method === "OPTIONS"
          ? {}
          : { body: "{not json", headers: { "content-type": "application/json" } }),
      });
      expect(r.status, method).toBe(405);
      expect(r.headers.get("allow"), method).toBe("GET, HEAD");
      expect(r.headers.get("content-type")).toMatch(/^application\/json/);
      const body = (await r.json()) as Record<string, unknown>;
      expect(Object.keys(body), method).toEqual(["Code", "Message", "RequestId", "Data"]);
      expect(body).toMatchObject({ Code: 320000004, Data: null, Message: expect.stringContaining(method) });
      expect(body.RequestId).not.toBe("");
    }
    // The SDK path's 405s keep the vendor envelope.
    const sdk = await fetch(`${sim.url}/v1/music/init`, { method: "GET" });
    expect(sdk.status).toBe(405);
    expect(await sdk.json()).toMatchObject({ code: 1017040, data: null });
  });
});

describe("actions", () => {
  it("every action answers Code 0 with Data that fits its schema", async () => {
    const f = v0();
    const tags = (await api("DescribeTags")).body.Data.Groups[0].Tags;
    const happy: Record<ServerApiAction, Params> = {
      DescribeTags: {},
      DescribeTagSongs: { TagId: tags[0].TagId, Page: 1, Filter: [1, 3] },
      DescribeTopSongs: { TopId: "8888", Page: 1 },
      QuerySong: { Keyword: f.item.song_name, Page: 1 },
      QuerySongPlus: { Keyword: f.item.song_name, Page: 1, VendorsId: [0, 1], Items: [2, 1] },
      QueryTips: { Keyword: f.item.song_name.slice(0, 3) },
      QuerySongsInfo: { SongsId: [f.item.song_id] },
      QuerySongsCopyright: { SongsId: [f.item.song_id] },
      DescribeKrcSegment: { SongId: f.item.song_id },
      DescribeAccompanyClipInfo: { SongId: f.item.song_id },
      DescribeAccompanyClipStatus: { SongId: f.item.song_id },
      DescribeSongExtra: { SongId: f.item.song_id },
      DescribeSongLyric: { SongId: f.item.song_id },
    };
    for (const action of SERVER_API_ACTIONS) {
      const r = await api(action, happy[action]);
      expect(r.body.Code, `${action}: ${r.body.Message}`).toBe(0);
      const check = TypeCompiler.Compile(ACTIONS.get(action)!.data);
      expect(
        check.Check(r.body.Data),
        `${action}: ${JSON.stringify([...check.Errors(r.body.Data)][0])}`,
      ).toBe(true);
    }
    const info = (await api("QuerySongsInfo", happy.QuerySongsInfo)).body.Data.Songs[0];
    expect(info).toMatchObject({ SongId: f.item.song_id, SongName: f.item.song_name, VendorId: 0 });
    expect(info.Copyright).toEqual({
      SongLyric: 1,
      Recording: f.item.copyright.recording,
      Channel: f.item.copyright.channel,
    });
    const clip = (await api("DescribeAccompanyClipInfo", happy.DescribeAccompanyClipInfo)).body.Data;
    expect(clip).toEqual({
      SegmentBegin: f.clip.segment_begin,
      SegmentEnd: f.clip.segment_end,
      ShortSegmentBegin: 0,
      ShortSegmentEnd: 0,
    });
    const extra = (await api("DescribeSongExtra", happy.DescribeSongExtra)).body.Data;
    expect(extra).toEqual({ BPM: f.bpm, BPMType: f.bpm_type, Genres: [...f.genres] });
    expect((await api("DescribeKrcSegment", happy.DescribeKrcSegment)).body.Data.Tags.length).toBe(
      f.chorus.length,
    );
    const found = (await api("QuerySong", happy.QuerySong)).body.Data.Songs;
    expect(found.map((s: { SongId: string }) => s.SongId)).toContain(f.item.song_id);
  });

  it("an unknown SongId answers 320040004 and a missing one 320000004, on every single-song action", async () => {
    for (const action of SERVER_API_ACTIONS) {
      const spec = ACTIONS.get(action)!.params;
      if (spec.some((p) => p.name === "SongId")) {
        expect((await api(action, { SongId: "no-such-song" })).body.Code, action).toBe(320040004);
        const r = await api(action);
        expect(r.body, action).toMatchObject({ Code: 320000004, Message: expect.stringContaining("SongId") });
      }
      if (spec.some((p) => p.name === "SongsId")) {
        const r = await api(action, { SongsId: [v0().item.song_id, "no-such-song"] });
        expect(r.body, action).toMatchObject({
          Code: 320040004,
          Message: expect.stringContaining("no-such-song"),
        });
        expect((await api(action, { SongsId: Array(31).fill("x") })).body.Code, action).toBe(320000004);
      }
    }
  });

  it("list params: Page, Filter, TopId, TagId and VendorId errors name what to fix", async () => {
    const miss = await api("QuerySong", { Keyword: "a" });
    expect(miss.body).toMatchObject({
      Code: 320000004,
      Message: expect.stringContaining("Page is required"),
    });
    expect((await api("QuerySong", { Keyword: "a", Page: 0 })).body.Code).toBe(320040005);
    expect((await api("QuerySong", { Keyword: "a", Page: "two" })).body.Code).toBe(320040005);
    const noBrackets = await call(
      sim.url,
      "GET",
      `${query("QuerySong", { Keyword: "a", Page: 1 })}&Filter=1`,
    );
    expect(noBrackets.body).toMatchObject({ Code: 320000004, Message: expect.stringContaining("Filter[]=") });
    const badFilter = await api("DescribeTopSongs", { TopId: "8888", Page: 1, Filter: [2] });
    expect(badFilter.body).toMatchObject({ Code: 320000004, Message: expect.stringContaining("Filter[]") });
    expect((await api("DescribeTopSongs", { TopId: "1", Page: 1 })).body.Code).toBe(320040008);
    const tag = await api("DescribeTagSongs", { TagId: "nope", Page: 1 });
    expect(tag.body).toMatchObject({ Code: 320000004, Message: expect.stringContaining("TagId") });
    expect((await api("DescribeTags", {}, { extra: { VendorId: "3" } })).body.Code).toBe(320040001);
    expect((await api("DescribeTags", {}, { extra: { VendorId: "x" } })).body.Code).toBe(320040001);
    const v3 = await api("DescribeSongLyric", { SongId: "1" }, { extra: { VendorId: "3" } });
    expect(v3.body.Code).toBe(320040001);
    // The action does not exist for the vendor; the vendor is not enabled for the app.
    const v2 = await api("QuerySongsCopyright", { SongsId: ["1"] }, { extra: { VendorId: "2" } });
    expect(v2.body.Code).toBe(320010014);
    expect((await api("DescribeTags", {}, { app: LIMITED, extra: { VendorId: "2" } })).body.Code).toBe(
      320010013,
    );
    expect(
      (await api("DescribeSongLyric", { SongId: "1" }, { app: LIMITED, extra: { VendorId: "4" } })).body.Code,
    ).toBe(320010013);
  });

  it("DescribeSongLyric returns the same LRC as the SDK path's getLrcLyric", async () => {
    const f = v0();
    const headers = await session(sim.url, "lyric-reader");
    const sdk = await call(sim.url, "GET", `/v1/music/lyrics/lrc?song_id=${f.item.song_id}`, { headers });
    expect(sdk.body.code).toBe(0);
    const rest = await api("DescribeSongLyric", { SongId: f.item.song_id });
    expect(rest.body.Data.Lyric).toBe(sdk.body.data.lyrics);
    expect(rest.body.Data.Lyric).toMatch(/^\[id:/);
  });
});

describe("shared state with the SDK path", () => {
  it("revoking a song through the admin API shows in QuerySongsCopyright at once, and its lyric is gone", async () => {
    const f = song(
      (x) => x.item.vendor_id === 0 && x.item.copyright.song_lyric === 1 && x.item.copyright.recording === 1,
    );
    const id = f.item.song_id;
    const before = (await api("QuerySongsCopyright", { SongsId: [id] })).body.Data.Copyright[0];
    expect(before).toMatchObject({ SongId: id, Right: 1, Subright: { SongLyric: 1, Recording: 1 } });
    expect((await call(sim.url, "POST", `/admin/songs/${id}/revoke`)).body.code).toBe(0);
    try {
      const after = (await api("QuerySongsCopyright", { SongsId: [id] })).body.Data.Copyright[0];
      expect(after).toMatchObject({ SongId: id, Right: 0, Subright: { SongLyric: 0, Recording: 0 } });
      expect((await api("DescribeSongLyric", { SongId: id })).body.Code).toBe(320010009);
    } finally {
      await call(sim.url, "POST", `/admin/songs/${id}/restore`);
    }
  });

  it("a fault selecting an SDK command hits the matching action too, answered in the server API's shape", async () => {
    const put = await call(sim.url, "PUT", "/admin/faults", {
      body: { faults: [{ id: "tags-down", kind: "outage", selector: { command: "/tag/list" } }] },
    });
    expect(put.body.code, JSON.stringify(put.body)).toBe(0);
    const rest = await api("DescribeTags");
    expect(rest.body).toEqual({
      Code: 320050002,
      Message: expect.any(String),
      RequestId: expect.any(String),
      Data: null,
    });
    const headers = await session(sim.url, "sdk-user");
    const sdk = await call(sim.url, "POST", "/v1/music/extended", {
      headers,
      body: { command: "/tag/list", params: {} },
    });
    expect(sdk.body.code).toBe(1017098);
    // Other actions are untouched.
    expect((await api("QueryTips", { Keyword: "lo" })).body.Code).toBe(0);
  });

  it("a fault selecting route / takes down the server API only; an HTTP-status fault keeps the shape", async () => {
    await call(sim.url, "PUT", "/admin/faults", {
      body: { faults: [{ id: "rest-503", kind: "outage", http_status: 503, selector: { route: "/" } }] },
    });
    const r = await call(sim.url, "GET", query("QueryTips", { Keyword: "lo" }));
    expect(r.status).toBe(503);
    expect(r.body).toMatchObject({ Code: 320050002, Data: null });
    const headers = await session(sim.url, "sdk-user-2");
    const sdk = await call(sim.url, "POST", "/v1/music/extended", {
      headers,
      body: { command: "/search/tips", params: { keyword: "lo" } },
    });
    expect(sdk.body.code).toBe(0);
  });
});

describe("faults by action, and metrics", () => {
  it("a fault selecting an action hits that action only (DescribeSongLyric has no SDK command)", async () => {
    const f = v0();
    await call(sim.url, "PUT", "/admin/faults", {
      body: {
        faults: [
          { id: "lyric-busy", kind: "error", code: 1017097, selector: { action: "DescribeSongLyric" } },
        ],
      },
    });
    expect((await api("DescribeSongLyric", { SongId: f.item.song_id })).body.Code).toBe(320050002);
    expect((await api("DescribeSongExtra", { SongId: f.item.song_id })).body.Code).toBe(0);
    const events = await call(sim.url, "GET", "/admin/faults/events");
    expect(JSON.stringify(events.body)).toContain("lyric-busy");
  });

  it("/metrics counts the server API's answers by Code", async () => {
    await api("DescribeSongLyric", { SongId: "metrics-probe-missing" });
    const text = (await call(sim.url, "GET", "/metrics")).body as string;
    expect(text).toMatch(/ktv_requests_total\{[^}]*route="\/"[^}]*code="320040004"[^}]*\} [1-9]/);
  });
});

describe("rate limit", () => {
  it("over the app's QPS answers 320000002, per action, until the second turns", async () => {
    for (let i = 0; i < 5; i++) expect((await api("DescribeTags", {}, { app: LIMITED })).body.Code).toBe(0);
    const over = await api("DescribeTags", {}, { app: LIMITED });
    expect(over.body).toMatchObject({ Code: 320000002, Message: expect.stringContaining("5") });
    // Another action has its own count; a badly signed request spends nothing.
    expect((await api("QueryTips", { Keyword: "a" }, { app: LIMITED })).body.Code).toBe(0);
    clock.advance(1000);
    expect((await api("DescribeTags", {}, { app: LIMITED })).body.Code).toBe(0);
  });

  it("the default is the vendor's 200 per second", async () => {
    clock.set(Math.ceil(clock.now() / 1000) * 1000 + 1000);
    const codes: number[] = [];
    for (let batch = 0; batch < 4; batch++) {
      const rs = await Promise.all(Array.from({ length: 50 }, () => api("DescribeTags")));
      codes.push(...rs.map((r) => r.body.Code));
    }
    codes.push((await api("DescribeTags")).body.Code);
    expect(codes.slice(0, 200).every((c) => c === 0)).toBe(true);
    expect(codes[200]).toBe(320000002);
  });
});

describe("property: random queries never break it", () => {
  it("answers every query, signed or not, with HTTP 200 and a known Code in the envelope", async () => {
    const names = [
      "SongId",
      "SongsId[]",
      "Page",
      "Filter[]",
      "Keyword",
      "TopId",
      "TagId",
      "VendorId",
      "Items[]",
      "VendorsId[]",
      "KeepVendor",
      "Filter",
      "SongsId",
      "Page[]",
    ];
    const value = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.integer({ min: -3, max: 30 }).map(String),
      fc.constantFrom("", "%", "0", "1", "8888", "a".repeat(300), "\u0000", "1e3", "-0"),
    );
    const arb = fc.record({
      action: fc.oneof(fc.constantFrom(...SERVER_API_ACTIONS), fc.string({ maxLength: 20 })),
      params: fc.array(fc.tuple(fc.constantFrom(...names), value), { maxLength: 6 }),
      signed: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(arb, async ({ action, params, signed }) => {
        clock.advance(10);
        const path = signed ? query(action) : `/?Action=${encodeURIComponent(action)}`;
        const extra = params.map(([k, v]) => `&${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("");
        const r = await call(sim.url, "GET", path + extra);
        expect(r.status).toBe(200);
        expect(Object.keys(r.body)).toEqual(["Code", "Message", "RequestId", "Data"]);
        expect(ServerApiMessage[r.body.Code], JSON.stringify(r.body)).toBeDefined();
        // An SDK code without a server API meaning would be a translation gap (no fault is active here).
        expect(r.body.Code, JSON.stringify(r.body)).not.toBe(320050003);
        expect(r.body.Code === 0 ? r.body.Data !== null : r.body.Data === null).toBe(true);
      }),
      { numRuns: 150, seed: 14 },
    );
    // Still serving.
    expect((await api("DescribeTags")).body.Code).toBe(0);
  });
});

describe("openapi", () => {
  it("lists every action with its params and a Data schema", async () => {
    const doc = (await call(sim.url, "GET", "/openapi.json")).body;
    const op = doc.paths["/"].get;
    expect(op["x-actions"].map((a: { action: string }) => a.action)).toEqual([...SERVER_API_ACTIONS]);
    for (const a of SERVER_API_ACTIONS) expect(doc.components.schemas[`ServerApiData_${a}`], a).toBeDefined();
    const tagSongs = op["x-actions"].find((a: { action: string }) => a.action === "DescribeTagSongs");
    expect(tagSongs.params.map((p: { name: string }) => p.name)).toEqual(["TagId", "Page", "Filter[]"]);
    expect(doc.components.schemas.ServerApiData_DescribeSongExtra.properties).toHaveProperty("BPMType");
  });
});
