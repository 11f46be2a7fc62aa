import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, devHeaders, session, testSimulator } from "../../test/sim.ts";
import type { Simulator } from "../app.ts";
import type { SongFacts } from "../catalog/types.ts";
import { DEV_APP } from "../options.ts";

// Integration over real HTTP: every vendor error code of the content center, revocation, prelude end time.

let sim: Simulator;
let h: Record<string, string>;
const post = (body: unknown, headers = h) => call(sim.url, "POST", "/v1/music/extended", { headers, body });
const ext = async (command: string, params: unknown, headers = h) =>
  (await post({ command, params }, headers)).body;
const expectCode = async (command: string, params: unknown, code: number, msg?: RegExp) => {
  const r = await post({ command, params });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  expect(r.body.code, JSON.stringify(r.body)).toBe(code);
  expect(r.body.data).toBeNull();
  expect(typeof r.body.request_id).toBe("string");
  if (msg) expect(r.body.message).toMatch(msg);
};
const songOf = (v: number, pred: (f: SongFacts) => boolean = () => true): SongFacts => {
  for (let i = 0; i < sim.ctx.catalog.size; i++) {
    const f = sim.ctx.catalog.at(i);
    if (f.item.vendor_id === v && pred(f)) return f;
  }
  throw new Error("no such song");
};

beforeAll(async () => {
  sim = await testSimulator();
  h = await session(sim.url, "erring");
});
afterAll(() => sim.close());

describe("envelope-level errors", () => {
  it("1017000 for a missing or empty command, 1017001 for missing or empty params", async () => {
    for (const body of [{ params: { vendor_id: 0 } }, { command: "", params: { vendor_id: 0 } }]) {
      expect((await post(body)).body).toMatchObject({ code: 1017000, data: null });
    }
    for (const body of [
      { command: "/tag/list" },
      { command: "/tag/list", params: null },
      { command: "/tag/list", params: "" },
    ]) {
      expect((await post(body)).body).toMatchObject({ code: 1017001, data: null });
    }
  });

  it("1017040 for an unknown command (named), bad params JSON, and wrong param types (named)", async () => {
    await expectCode("/song/detail", { vendor_id: 0 }, 1017040, /\/song\/detail/);
    const r = await post({ command: "/tag/list", params: "{not json" });
    expect(r.body.code).toBe(1017040);
    expect((await post({ command: "/tag/list", params: "[1]" })).body.code).toBe(1017040);
    await expectCode("/tag/list", { vendor_id: "1" }, 1017040, /vendor_id/);
    await expectCode("/search/song", { keyword: 5 }, 1017040, /keyword/);
    await expectCode("/search/song", { keyword: "a", page: "2" }, 1017040, /page/);
    await expectCode("/search/song", { keyword: "a", page: 0 }, 1017040, /page/);
    await expectCode("/search/song", { keyword: "a", filter: 1 }, 1017040, /filter/);
    await expectCode("/search/song", { keyword: "" }, 1017040, /keyword/);
    await expectCode("/search/song", { keyword: "x".repeat(101) }, 1017040, /keyword/);
    expect((await ext("/search/song", { keyword: "x".repeat(100) })).code).toBe(0);
    await expectCode("/tag/song", { tag_id: "587" }, 1017040, /page/);
    await expectCode("/tag/song", { page: 1 }, 1017040, /tag_id/);
    await expectCode("/tag/song", { tag_id: 587, page: 1 }, 1017040, /tag_id/);
    await expectCode("/tag/song", { tag_id: "999999", page: 1 }, 1017040, /tag_id/);
    await expectCode("/song/infos", { songs_id: "123" }, 1017040, /songs_id/);
    await expectCode("/song/infos", { songs_id: [] }, 1017040, /songs_id/);
    await expectCode("/top/song", { top_id: 8888 }, 1017040, /top_id/);
  });

  it("1017040 for filter codes outside the command's subset", async () => {
    await expectCode("/tag/song", { tag_id: "587", page: 1, filter: [2] }, 1017040, /filter/);
    await expectCode("/top/song", { top_id: "8888", filter: [2] }, 1017040, /filter/);
    await expectCode("/search/song", { keyword: "a", filter: [5] }, 1017040, /filter/);
    await expectCode("/search/plus", { keyword: "a", filter: [0] }, 1017040, /filter/);
  });

  it("a body of the wrong shape is a 400 envelope; no session is a 401 envelope", async () => {
    const r = await post({ command: 17, params: {} });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: 1017040, data: null });
    const extra = await post({ command: "/tag/list", params: {}, evil: 1 });
    expect(extra.status).toBe(400);
    const anon = await call(sim.url, "POST", "/v1/music/extended", {
      headers: devHeaders,
      body: { command: "/tag/list", params: {} },
    });
    expect(anon.status).toBe(401);
    expect(anon.body.data).toBeNull();
  });
});

describe("vendor errors", () => {
  it("1017071 for an invalid vendor id", async () => {
    await expectCode("/tag/list", { vendor_id: 3 }, 1017071);
    await expectCode("/search/song", { vendor_id: -1, keyword: "a" }, 1017071);
    await expectCode("/search/plus", { keyword: "a", vendors_id: [0, 3] }, 1017071);
    await expectCode("/search/plus", { keyword: "a", keep_vendor: 7 }, 1017071);
  });

  it("1017053 when the vendor lacks the function", async () => {
    const cases: [string, number, object][] = [
      ["/search/tips", 4, { keyword: "a" }],
      ["/top/song", 4, { top_id: "8888" }],
      ["/song/copyright", 2, { songs_id: ["1"] }],
      ["/song/copyright", 4, { songs_id: ["1"] }],
      ["/song/accompany/krc/segment", 2, { song_id: "1" }],
      ["/song/accompany/clip_url/status", 4, { song_id: "1" }],
      ["/song/extra", 2, { song_id: "1" }],
      ["/song/extra", 4, { song_id: "1" }],
    ];
    for (const [c, v, p] of cases) await expectCode(c, { ...p, vendor_id: v }, 1017053);
  });

  it("1017072 for a song id outside the vendor's library; 1017002 for an empty one", async () => {
    const v1 = songOf(1);
    for (const c of ["/song/accompany/krc/segment", "/song/accompany/clip_info", "/song/extra"]) {
      await expectCode(c, { vendor_id: 0, song_id: v1.item.song_id }, 1017072, new RegExp(v1.item.song_id));
      await expectCode(c, { vendor_id: 0, song_id: "../../etc/passwd" }, 1017072);
      await expectCode(c, { vendor_id: 0, song_id: "" }, 1017002);
      await expectCode(c, { vendor_id: 0 }, 1017002);
    }
    await expectCode(
      "/song/infos",
      { vendor_id: 0, songs_id: [songOf(0).item.song_id, v1.item.song_id] },
      1017072,
    );
    await expectCode("/song/copyright", { vendor_id: 0, songs_id: ["99999999999"] }, 1017072);
  });

  it("1017040 past the id limits: 30 for /song/infos, 20 for /song/copyright", async () => {
    const v0 = Array.from({ length: 31 }, () => songOf(0).item.song_id);
    expect((await ext("/song/infos", { vendor_id: 0, songs_id: v0.slice(0, 30) })).code).toBe(0);
    await expectCode("/song/infos", { vendor_id: 0, songs_id: v0 }, 1017040, /30/);
    expect((await ext("/song/copyright", { vendor_id: 0, songs_id: v0.slice(0, 20) })).code).toBe(0);
    await expectCode("/song/copyright", { vendor_id: 0, songs_id: v0.slice(0, 21) }, 1017040, /20/);
  });

  it("1017077 for an unsupported top_id", async () => {
    await expectCode("/top/song", { vendor_id: 0, top_id: "22004" }, 1017077);
    await expectCode("/top/song", { vendor_id: 2, top_id: "8888" }, 1017077);
    await expectCode("/top/song", { vendor_id: 1, top_id: "1" }, 1017077);
  });

  it("1017074 when a session's first /search/plus call for a keyword is not page 1", async () => {
    await expectCode("/search/plus", { keyword: "夜", page: 2 }, 1017074);
    expect((await ext("/search/plus", { keyword: "夜", page: 1 })).code).toBe(0);
    expect((await ext("/search/plus", { keyword: "夜", page: 2 })).code).toBe(0);
    // State is per session.
    const other = await session(sim.url, "other-user");
    expect((await ext("/search/plus", { keyword: "夜", page: 2 }, other)).code).toBe(1017074);
  });

  it("1017040 for misaligned items or a keep_vendor outside vendors_id", async () => {
    await expectCode("/search/plus", { keyword: "a", vendors_id: [0, 1], items: [1] }, 1017040, /items/);
    await expectCode("/search/plus", { keyword: "a", vendors_id: [0, 1], items: [0, 1] }, 1017040, /items/);
    await expectCode(
      "/search/plus",
      { keyword: "a", vendors_id: [0, 1], keep_vendor: 2 },
      1017040,
      /keep_vendor/,
    );
    await expectCode("/search/plus", { keyword: "a", vendors_id: [] }, 1017040, /vendors_id/);
    await expectCode("/search/plus", { keyword: "a", vendors_id: [1, 1] }, 1017040, /vendors_id/);
  });
});

describe("1017052: vendors not enabled for the app", () => {
  it("answers 1017052 for a vendor the app has not enabled", async () => {
    const app = { ...DEV_APP, app_id: 1000000002, vendors: [0, 1] };
    const s2 = await testSimulator({ apps: [app] });
    try {
      const hdr = { "x-app-id": String(app.app_id), "x-app-sign": app.app_sign };
      const init = await call(s2.url, "POST", "/v1/music/init", { headers: hdr, body: { user_id: "u" } });
      const hh = { ...hdr, "x-session": init.body.data.session };
      const x = (command: string, params: unknown) =>
        call(s2.url, "POST", "/v1/music/extended", { headers: hh, body: { command, params } });
      expect((await x("/tag/list", { vendor_id: 2 })).body.code).toBe(1017052);
      expect((await x("/tag/list", { vendor_id: 1 })).body.code).toBe(0);
      expect((await x("/search/plus", { keyword: "a", vendors_id: [0, 4] })).body.code).toBe(1017052);
      const d = await x("/search/plus", { keyword: "a" });
      expect(d.body.data.songs.map((s: { vendor_id: number }) => s.vendor_id)).toEqual([0, 1]);
    } finally {
      await s2.close();
    }
  });
});

describe("revocation over HTTP", () => {
  it("a revoked song leaves lists and search; cached ids report no rights", async () => {
    const chart = sim.ctx.catalog.chart(0, "8888") as readonly number[];
    const f = sim.ctx.catalog.at(chart[0] as number);
    const id = f.item.song_id;
    const inTop = async () =>
      ((await ext("/top/song", { vendor_id: 0, top_id: "8888" })).data.songs as { song_id: string }[]).some(
        (s) => s.song_id === id,
      );
    const inSearch = async () =>
      (
        (await ext("/search/song", { vendor_id: 0, keyword: f.item.song_name })).data.songs as {
          song_id: string;
        }[]
      ).some((s) => s.song_id === id);
    expect(await inTop()).toBe(true);
    expect(await inSearch()).toBe(true);
    expect((await call(sim.url, "POST", `/admin/songs/${id}/revoke`)).body.code).toBe(0);
    try {
      expect(await inTop()).toBe(false);
      expect(await inSearch()).toBe(false);
      const info = await ext("/song/infos", { vendor_id: 0, songs_id: [id] });
      expect(info.data.songs[0].copyright).toEqual({
        song_lyric: 0,
        recording: 0,
        channel: f.item.copyright.channel,
      });
      const cr = await ext("/song/copyright", { vendor_id: 0, songs_id: [id] });
      expect(cr.data.copyright[0]).toMatchObject({
        song_id: id,
        right: 0,
        subright: { song_lyric: 0, recording: 0 },
      });
    } finally {
      await call(sim.url, "POST", `/admin/songs/${id}/restore`);
    }
    expect(await inTop()).toBe(true);
  });
});

describe("/api/get_prelude_end_time", () => {
  it("answers the intro end for accompaniment, the clip prelude for clips, at top level and in data", async () => {
    const f = songOf(
      0,
      (s) => s.item.copyright.song_lyric === 1 && s.has_accompaniment && s.item.has_clip === 1,
    );
    const req = async (resource_type: number) => {
      const r = await call(sim.url, "POST", "/v1/music/resource", {
        headers: h,
        body: { song_id: f.item.song_id, resource_type, billing_mode: 0, vendor_id: 0 },
      });
      expect(r.body.code, JSON.stringify(r.body)).toBe(0);
      return r.body.data.resources[0].resource_id as string;
    };
    const acc = await ext("/api/get_prelude_end_time", { resource_id: await req(1) });
    expect(acc).toMatchObject({
      code: 0,
      prelude_end_time: f.intro_end,
      data: { prelude_end_time: f.intro_end },
    });
    const clipRes = await req(2);
    const clip = await ext("/api/get_prelude_end_time", { vendor_id: 0, resource_id: clipRes });
    expect(clip).toMatchObject({ code: 0, prelude_end_time: f.clip.prelude_duration });

    const other = await session(sim.url, "someone-else");
    expect((await ext("/api/get_prelude_end_time", { resource_id: clipRes }, other)).code).toBe(1017018);
    await expectCode("/api/get_prelude_end_time", { resource_id: "z_1_1_nope" }, 1017018);
    await expectCode("/api/get_prelude_end_time", { resource_id: "" }, 1017004);
    await expectCode("/api/get_prelude_end_time", { vendor_id: 0 }, 1017004);
    await expectCode("/api/get_prelude_end_time", { resource_id: 12 }, 1017040, /resource_id/);
    expect((await call(sim.url, "POST", `/admin/resources/${clipRes}/expire`)).body.code).toBe(0);
    await expectCode("/api/get_prelude_end_time", { resource_id: clipRes }, 1017019);
  });
});
