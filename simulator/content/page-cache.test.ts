import Fastify from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { okEnvelope } from "../../protocol/envelope.ts";
import { call, session, testSimulator } from "../../test/sim.ts";
import type { Simulator } from "../app.ts";
import { createCatalog } from "../catalog/index.ts";
import type { SongItem } from "../catalog/types.ts";
import { DEV_APP } from "../options.ts";
import type { CommandContext } from "./command.ts";
import { COMMANDS } from "./commands/index.ts";
import { appServes, dispatch, dispatchRendered, pageCall, renderPage } from "./dispatch.ts";
import { codesKey, okEnvelopeJson, type PageAnswer, PageCache } from "./page-cache.ts";
import { PlusHistory } from "./plus-history.ts";
import { ExtendedResponse } from "./routes.ts";

// The rendered-page cache of the list commands: answers byte for byte what the uncached path (run + the
// route's response serializer) answers, and a revocation (admin or fault) shows on the very next call.

let sim: Simulator;
let h: Record<string, string>;

beforeAll(async () => {
  sim = await testSimulator();
  h = await session(sim.url, "pager");
});
afterAll(() => sim.close());

/** One extended call over real HTTP: the raw body text and content type. */
async function raw(command: string, params: unknown) {
  const res = await fetch(`${sim.url}/v1/music/extended`, {
    method: "POST",
    headers: { ...h, "content-type": "application/json" },
    body: JSON.stringify({ command, params }),
  });
  return { status: res.status, type: res.headers.get("content-type"), text: await res.text() };
}

/**
 * The uncached path's bytes: command.run's data in okEnvelope, serialized by Fastify with the route's own
 * response schema (the serializer the route used before the cache, and still uses for other commands).
 */
async function reference(requestId: string, command: string, params: Record<string, unknown>) {
  const f = Fastify();
  const s = sim.ctx;
  f.post("/", { schema: { response: { 200: ExtendedResponse } } }, async () => {
    const data = dispatch({ command, params }, { sim: s, session: {} as never, app: DEV_APP, plus });
    return okEnvelope(requestId, data);
  });
  const r = await f.inject({ method: "POST", url: "/" });
  await f.close();
  return { type: r.headers["content-type"], text: r.body };
}
const plus = new PlusHistory();

const CASES: [string, Record<string, unknown>][] = [
  ["/top/song", { vendor_id: 0, top_id: "8888", page: 1 }],
  ["/top/song", { vendor_id: 0, top_id: "8888", page: 2, filter: [1, 3] }],
  ["/top/song", { vendor_id: 1, top_id: "8888", page: 1 }],
  ["/top/song", { vendor_id: 0, top_id: "8888", page: 999 }],
  ["/search/song", { vendor_id: 0, keyword: "love", page: 1 }],
  ["/search/song", { vendor_id: 1, keyword: "a", page: 3, filter: [2] }],
  ["/search/song", { vendor_id: 4, keyword: "爱" }],
  ["/search/song", { vendor_id: 0, keyword: 'x"\\\u0001' }],
  ["/tag/song", { vendor_id: 0, tag_id: "587", page: 1 }],
  ["/tag/song", { vendor_id: 0, tag_id: "587", page: 2, filter: [4] }],
];

describe("cached pages over real HTTP", () => {
  it("answer byte for byte what the uncached path answers, on a miss and on a hit", async () => {
    let songs = 0;
    for (const [command, params] of CASES) {
      for (const round of ["miss", "hit"]) {
        const got = await raw(command, params);
        expect(got.status, `${command} ${round}`).toBe(200);
        const id = JSON.parse(got.text).request_id as string;
        const want = await reference(id, command, params);
        expect(got.text, `${command} ${JSON.stringify(params)} ${round}`).toBe(want.text);
        expect(got.type).toBe(want.type);
        songs += JSON.parse(got.text).data.songs.length;
      }
    }
    expect(songs).toBeGreaterThan(100);
  });

  it("keeps the per-request envelope: each answer carries its own request id", async () => {
    const a = JSON.parse((await raw("/top/song", { vendor_id: 0, top_id: "8888" })).text);
    const b = JSON.parse((await raw("/top/song", { vendor_id: 0, top_id: "8888" })).text);
    expect(a.request_id).not.toBe(b.request_id);
    expect({ ...a, request_id: "" }).toEqual({ ...b, request_id: "" });
  });

  it("counts cached answers in the metrics by vendor code, as serialized answers are", async () => {
    const count = async () => {
      const text = await (await fetch(`${sim.url}/metrics`)).text();
      const line = text
        .split("\n")
        .find(
          (l) =>
            l.startsWith("ktv_requests_total{") &&
            l.includes('route="/v1/music/extended"') &&
            l.includes('code="0"'),
        );
      return line ? Number(line.split(" ").at(-1)) : 0;
    };
    const before = await count();
    for (let i = 0; i < 3; i++) await raw("/top/song", { vendor_id: 0, top_id: "8888" });
    expect((await count()) - before).toBe(3);
  });

  it("answers param errors as before (nothing cached for them)", async () => {
    const bad = JSON.parse((await raw("/top/song", { vendor_id: 0, top_id: "8888", page: 0 })).text);
    expect(bad).toMatchObject({ code: 1017040, data: null });
    const unknownChart = JSON.parse((await raw("/top/song", { vendor_id: 0, top_id: "nope" })).text);
    expect(unknownChart.code).toBe(1017077);
  });

  it("drops a song revoked by the admin API from a cached chart page at once, and brings it back", async () => {
    const params = { vendor_id: 0, top_id: "8888", page: 1 };
    const ids = async () =>
      (JSON.parse((await raw("/top/song", params)).text).data.songs as { song_id: string }[]).map(
        (s) => s.song_id,
      );
    const before = await ids();
    expect(await ids()).toEqual(before); // now served from the cache
    const gone = before[3] as string;
    const admin = (action: string) =>
      call(sim.url, "POST", `/admin/songs/${gone}/${action}`, {
        body: {},
        headers: { "x-requested-with": "t" },
      });
    expect((await admin("revoke")).status).toBe(200);
    const after = await ids();
    expect(after).not.toContain(gone);
    expect(after.slice(0, 3)).toEqual(before.slice(0, 3));
    expect(after.slice(3, 19)).toEqual(before.slice(4, 20));
    // Search pages too: the song's own name no longer finds it.
    const name = sim.ctx.catalog.get(gone)!.item.song_name;
    const found = async () =>
      (
        JSON.parse((await raw("/search/song", { vendor_id: 0, keyword: name })).text).data.songs as {
          song_id: string;
        }[]
      ).map((s) => s.song_id);
    expect(await found()).not.toContain(gone);
    expect((await admin("restore")).status).toBe(200);
    expect(await ids()).toEqual(before);
    expect(await found()).toContain(gone);
  });

  it("follows revocation faults: listen-only rights show in a cached page, removal restores it", async () => {
    const params = { vendor_id: 0, top_id: "8888", page: 1 };
    const page = async () => JSON.parse((await raw("/top/song", params)).text).data.songs as SongItem[];
    const before = await page();
    const song = before.find((s) => s.copyright.song_lyric === 1);
    if (!song) throw new Error("no song with lyric rights on the chart's first page");
    const put = (faults: unknown[]) => call(sim.url, "PUT", "/admin/faults", { body: { faults } });
    expect(
      (
        await put([
          { id: "lo", kind: "revocation", listen_only: true, selector: { song_ids: [song.song_id] } },
        ])
      ).status,
    ).toBe(200);
    const listenOnly = await page();
    expect(listenOnly.find((s) => s.song_id === song.song_id)?.copyright.song_lyric).toBe(0);
    expect(
      (await put([{ id: "all", kind: "revocation", selector: { song_ids: [song.song_id] } }])).status,
    ).toBe(200);
    expect((await page()).map((s) => s.song_id)).not.toContain(song.song_id);
    expect((await put([])).status).toBe(200);
    expect(await page()).toEqual(before);
  });
});

describe("PageCache", () => {
  const catalog = createCatalog(7, 500);
  const ctx = (): Omit<CommandContext, "vendor" | "params"> => ({
    sim: { catalog } as never,
    session: {} as never,
    app: { vendors: [0, 1, 2, 4] } as never,
    plus,
  });

  it("builds a page once per catalog version and answers what run answers", () => {
    const pages = new PageCache();
    const body = { command: "/top/song", params: { vendor_id: 0, top_id: "8888", page: 1 } };
    const first = dispatchRendered(body, ctx(), pages);
    expect(String(first)).toBe(JSON.stringify(dispatch(body, ctx())));
    expect(dispatchRendered(body, ctx(), pages)).toBe(first);
    expect([pages.misses, pages.hits]).toEqual([1, 1]);
    const song = JSON.parse(String(first)).songs[0].song_id as string;
    catalog.revoke(song);
    const after = String(dispatchRendered(body, ctx(), pages));
    expect(after).not.toContain(song);
    expect(after).toBe(JSON.stringify(dispatch(body, ctx())));
    expect(pages.misses).toBe(2);
    catalog.restore(song);
    expect(String(dispatchRendered(body, ctx(), pages))).toBe(String(first));
  });

  it("keys on the params that change the answer: filter order and repeats do not", () => {
    const pages = new PageCache();
    const a = { command: "/top/song", params: { vendor_id: 0, top_id: "8888", filter: [3, 1] } };
    const b = { command: "/top/song", params: { vendor_id: 0, top_id: "8888", filter: [1, 3, 3] } };
    const c = { command: "/top/song", params: { vendor_id: 1, top_id: "8888", filter: [1, 3] } };
    dispatchRendered(a, ctx(), pages);
    dispatchRendered(b, ctx(), pages);
    expect([pages.misses, pages.hits]).toEqual([1, 1]);
    expect(String(dispatchRendered(c, ctx(), pages))).toBe(JSON.stringify(dispatch(c, ctx())));
    expect(pages.misses).toBe(2);
    expect(codesKey([4, 1, 4])).toBe("1,4");
  });

  it("serves commands without a page key uncached, and stays bounded", () => {
    const pages = new PageCache(3);
    const infos = { command: "/tag/list", params: { vendor_id: 0 } };
    expect(dispatchRendered(infos, ctx(), pages)).toEqual(dispatch(infos, ctx()));
    expect(COMMANDS.get("/tag/list")?.pageKey).toBeUndefined();
    for (let p = 1; p <= 10; p++)
      dispatchRendered({ command: "/top/song", params: { top_id: "8888", page: p } }, ctx(), pages);
    expect(pages.size).toBe(3);
  });

  it("evicts the least recently used page, not the oldest built", () => {
    const pages = new PageCache(2);
    const top = (p: number) => ({ command: "/top/song", params: { top_id: "8888", page: p } });
    dispatchRendered(top(1), ctx(), pages);
    dispatchRendered(top(2), ctx(), pages);
    dispatchRendered(top(1), ctx(), pages); // page 1 used last: page 2 goes when page 3 comes
    dispatchRendered(top(3), ctx(), pages);
    expect([pages.misses, pages.hits, pages.size]).toEqual([3, 1, 2]);
    dispatchRendered(top(1), ctx(), pages);
    expect([pages.misses, pages.hits]).toEqual([3, 2]);
    dispatchRendered(top(2), ctx(), pages);
    expect(pages.misses).toBe(4);
  });

  it("pageCall + renderPage answer what dispatchRendered answers; lookup builds and counts nothing on a miss", () => {
    const pages = new PageCache();
    const body = {
      command: "/search/song",
      params: JSON.stringify({ vendor_id: 1, keyword: "love", page: 2 }),
    };
    const call = pageCall(body, ctx())!;
    expect(call.vendor).toBe(1);
    expect(pages.lookup(catalog, call.key)).toBeUndefined();
    expect([pages.misses, pages.hits]).toEqual([0, 0]);
    const page = renderPage(call, ctx(), pages);
    expect(String(page)).toBe(JSON.stringify(dispatch(body, ctx())));
    // Same key as dispatchRendered's: a hit for it.
    expect(dispatchRendered(body, ctx(), pages)).toBe(page);
    expect(pages.lookup(catalog, call.key)).toBe(page);
    expect([pages.misses, pages.hits]).toEqual([1, 2]);
    // What dispatch refuses for the body alone, pageCall refuses; the app's vendors are appServes' to check.
    for (const bad of [
      { command: "/top/song", params: { vendor_id: 0, top_id: "8888", page: 0 } },
      { command: "/top/song", params: { vendor_id: 4, top_id: "8888" } },
      { command: "/tag/list", params: { vendor_id: 0 } },
      { command: "/nope", params: {} },
      { command: "/top/song", params: "{x" },
    ])
      expect(pageCall(bad, ctx()), JSON.stringify(bad)).toBeNull();
    expect(appServes(call, { vendors: [0, 2] } as never)).toBe(false);
    expect(appServes(call, { vendors: [1] } as never)).toBe(true);
    expect(appServes(call, {} as never)).toBe(true);
  });

  it("writes the envelope okEnvelope describes", () => {
    const json = String(okEnvelopeJson('id"é1', Buffer.from('{"songs":["爱"]}')));
    expect(JSON.parse(json)).toEqual(okEnvelope('id"é1', { songs: ["爱"] }));
    expect(Object.keys(JSON.parse(json))).toEqual(["code", "message", "request_id", "data"]);
  });
});

describe("okEnvelopeJson's slab", () => {
  it("answers carved one after another never share bytes, across slab boundaries", () => {
    const page = Buffer.from(JSON.stringify({ songs: "x".repeat(13_000) }));
    // ~13 KB each: 200 of them cross at least two 1 MB slabs.
    const answers = Array.from({ length: 200 }, (_, i) => okEnvelopeJson(`req-${i}`, page));
    answers.forEach((a, i) => {
      expect(JSON.parse(a.toString())).toEqual(okEnvelope(`req-${i}`, { songs: "x".repeat(13_000) }));
    });
    // Writing into one answer leaves the others as they were.
    answers[0]!.fill(0x20);
    expect(JSON.parse(answers[1]!.toString()).request_id).toBe("req-1");
    // An answer larger than a slab's eighth is its own buffer, still exact.
    const big = Buffer.from(JSON.stringify({ songs: "y".repeat(300_000) }));
    expect(JSON.parse(okEnvelopeJson("big", big).toString()).data.songs).toHaveLength(300_000);
  });
});

describe("a cached page's lent answers (envelope / release)", () => {
  const catalog = createCatalog(7, 2000);
  const pageOf = (pages: PageCache, p = 1) =>
    pages.render(catalog, `top|${p}`, () => ({ songs: [`page ${p}`, "爱"] }));

  it("are okEnvelopeJson byte for byte, never lent twice before release, reused after it", () => {
    const pages = new PageCache();
    const json = pageOf(pages);
    const a = pages.envelope("req-a1", json);
    expect(a.bytes.equals(okEnvelopeJson("req-a1", json))).toBe(true);
    const b = pages.envelope("req-b2", pageOf(pages));
    expect(b.bytes).not.toBe(a.bytes);
    // Lending b did not touch a (still in flight).
    expect(a.bytes.equals(okEnvelopeJson("req-a1", json))).toBe(true);
    pages.release(a);
    const c = pages.envelope("req-c3", pageOf(pages));
    expect(c.bytes).toBe(a.bytes);
    expect(c.bytes.equals(okEnvelopeJson("req-c3", json))).toBe(true);
    expect(b.bytes.equals(okEnvelopeJson("req-b2", json))).toBe(true);
    // A request id of another length gets a buffer of its own size.
    pages.release(c);
    const d = pages.envelope("req-d4-longer", pageOf(pages));
    expect(d.bytes.equals(okEnvelopeJson("req-d4-longer", json))).toBe(true);
    expect(pages.spareAnswerBytes).toBe(0);
  });

  it("rewrite only the id when it is plain, and stay exact when a reused buffer last held an escaped id", () => {
    const pages = new PageCache();
    const json = pageOf(pages);
    // `a"b\` is 4 characters and 6 bytes as JSON text inside its quotes: the same size as a plain 6-character
    // id, so the same spare buffer goes from an escaped id to a plain one and back.
    const ids = ['a"b\\', "abcdef", "x\u0001yz", "abc-12", "é", "ab"];
    let prev: PageAnswer | undefined;
    for (const id of ids) {
      if (prev) pages.release(prev);
      const a = pages.envelope(id, pageOf(pages));
      expect(a.bytes.equals(okEnvelopeJson(id, json)), id).toBe(true);
      expect(JSON.parse(a.bytes.toString()).request_id).toBe(id);
      prev = a;
    }
    // A plain id after a plain id of the same length reuses the buffer: only the id changed.
    pages.release(prev!);
    const p1 = pages.envelope("id-aaaa", pageOf(pages));
    pages.release(p1);
    const p2 = pages.envelope("id-bbbb", pageOf(pages));
    expect(p2.bytes).toBe(p1.bytes);
    expect(p2.bytes.equals(okEnvelopeJson("id-bbbb", json))).toBe(true);
  });

  it("are not kept once their page left the cache, and the spares stay bounded", () => {
    const pages = new PageCache(1);
    const a = pages.envelope("r1", pageOf(pages, 1));
    pageOf(pages, 2); // evicts page 1
    pages.release(a);
    expect(pages.spareAnswerBytes).toBe(0);
    const lent = Array.from({ length: 70 }, (_, i) =>
      pages.envelope(`r${String(i).padStart(3, "0")}`, pageOf(pages, 2)),
    );
    expect(new Set(lent.map((x) => x.bytes)).size).toBe(70);
    for (const x of lent) pages.release(x);
    expect(pages.spareAnswerBytes).toBe(64 * lent[0]!.bytes.length);
    pages.clear();
    expect(pages.spareAnswerBytes).toBe(0);
  });

  it("over real sockets: many concurrent calls of one page each get their own intact answer", async () => {
    const body = { command: "/top/song", params: { vendor_id: 0, top_id: "8888", page: 2 } };
    const expected = (await raw(body.command, body.params)).text;
    const data = JSON.parse(expected).data;
    const ids = new Set<string>();
    // 32 at once, 8 rounds: answers are lent, written out, given back and lent again meanwhile.
    for (let round = 0; round < 8; round++) {
      const texts = await Promise.all(
        Array.from({ length: 32 }, () => raw(body.command, body.params).then((r) => r.text)),
      );
      for (const t of texts) {
        const env = JSON.parse(t);
        expect(env.data).toEqual(data);
        expect(t).toBe(okEnvelopeJson(env.request_id, Buffer.from(JSON.stringify(data))).toString("utf8"));
        ids.add(env.request_id);
      }
    }
    expect(ids.size).toBe(8 * 32);
  });
});

describe("a lent answer held by a client that does not read", () => {
  it("is not lent again until written out: a stalled pipelining reader gets its own request ids intact", async () => {
    const CALLS = 1500;
    const { connect } = await import("node:net");
    const body = JSON.stringify({ command: "/top/song", params: { vendor_id: 0, top_id: "8888", page: 3 } });
    const u = new URL(sim.url);
    const head =
      `POST /v1/music/extended HTTP/1.1\r\nhost: ${u.host}\r\ncontent-type: application/json\r\n` +
      Object.entries(h)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join("") +
      `content-length: ${Buffer.byteLength(body)}\r\n\r\n`;
    // 1,500 pipelined calls (~20 MB of answers) on a socket nobody reads yet: past what the kernel buffers, the
    // rest wait in the process (in libuv's write queue, then unparsed).
    const socket = connect(Number(u.port), u.hostname);
    socket.pause();
    await new Promise<void>((resolve) => socket.once("connect", resolve));
    socket.write((head + body).repeat(CALLS));
    await new Promise((r) => setTimeout(r, 300));
    // Meanwhile other calls of the same page are answered (and would reuse any answer given back too early).
    const others = new Set<string>();
    for (let i = 0; i < 40; i++)
      others.add(JSON.parse((await raw("/top/song", { top_id: "8888", page: 3 })).text).request_id);
    // Now read the stalled answers: each must be a whole envelope with an id of its own, none of the others'.
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.resume();
    const bodies: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${bodies.length} answers read`)), 20_000);
      const scan = () => {
        let buf = Buffer.concat(chunks);
        for (;;) {
          const end = buf.indexOf("\r\n\r\n");
          if (end < 0) break;
          const len = Number(/content-length: (\d+)/i.exec(buf.subarray(0, end).toString("latin1"))?.[1]);
          if (buf.length < end + 4 + len) break;
          bodies.push(buf.subarray(end + 4, end + 4 + len).toString("utf8"));
          buf = buf.subarray(end + 4 + len);
        }
        chunks.length = 0;
        chunks.push(buf);
        if (bodies.length === CALLS) {
          clearTimeout(timer);
          resolve();
        }
      };
      socket.on("data", scan);
    });
    socket.destroy();
    const ids = bodies.map((b) => JSON.parse(b).request_id as string);
    expect(new Set(ids).size).toBe(CALLS);
    expect(ids.filter((id) => others.has(id))).toEqual([]);
    const data = JSON.parse(bodies[0]!).data;
    for (const b of bodies) expect(JSON.parse(b).data).toEqual(data);
  });
});
