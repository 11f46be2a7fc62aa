import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintToken04 } from "../../protocol/token04.ts";
import { type Simulator, startSimulator } from "../app.ts";
import { manualClock } from "../clock.ts";
import { DEV_APP } from "../options.ts";

// One corpus of raw HTTP exchanges against two simulators, the same in all but the fast path (on in `fast`, off
// in `plain`): valid page calls, bad params, bad auth, bad JSON, oversize and chunked bodies, wrong methods,
// pipelining, keep-alive and Connection: close, a request cut mid-body, a quota, faults loaded through the admin
// API, a per-request log level. Every exchange's bytes must be identical (Date and the request ids' random
// prefix aside), and so must the request metrics at the end. The fast path must have served the plain successes
// and handed the rest over (its counts are checked too, so this cannot pass with the fast path idle).

const QUOTA_APP = {
  app_id: 2000000002,
  app_sign: "fedcba9876543210".repeat(4),
  token_secret: "abcdef0123456789abcdef0123456789",
  rate_limit_rps: 1,
};
// An app without vendor 0: a body the memo knows (vendor 0) must still be refused for it (1017052).
const VENDOR_APP = {
  app_id: 2000000003,
  app_sign: "00112233445566778899aabbccddeeff".repeat(2),
  token_secret: "0011223344556677889900aabbccddee",
  vendors: [1, 2],
};
const START = 1_700_000_000_000;
const BODY_LIMIT = 4096;

interface Side {
  sim: Simulator;
  host: string;
  port: number;
  session: string;
  quotaSession: string;
  vendorSession: string;
  /** A second user of the development app. */
  carolSession: string;
  token: string;
}

async function side(fastPath: boolean): Promise<Side> {
  const sim = await startSimulator({
    port: 0,
    dataDir: ":memory:",
    seed: 7,
    catalogSize: 2_000,
    apps: [DEV_APP, QUOTA_APP, VENDOR_APP],
    logLevel: "warn",
    logStream: { write() {} },
    clock: manualClock(START),
    bodyLimit: BODY_LIMIT,
    fastPath,
  });
  const url = new URL(sim.url);
  const s: Side = {
    sim,
    host: url.host,
    port: Number(url.port),
    session: "",
    quotaSession: "",
    vendorSession: "",
    carolSession: "",
    token: "",
  };
  const init = async (app: { app_id: number; app_sign: string }, user: string) => {
    const r = await fetch(`${sim.url}/v1/music/init`, {
      method: "POST",
      headers: {
        "x-app-id": String(app.app_id),
        "x-app-sign": app.app_sign,
        "content-type": "application/json",
      },
      body: JSON.stringify({ user_id: user }),
    });
    return ((await r.json()) as { data: { session: string } }).data.session;
  };
  s.session = await init(DEV_APP, "alice");
  s.quotaSession = await init(QUOTA_APP, "bob");
  s.vendorSession = await init(VENDOR_APP, "dave");
  s.carolSession = await init(DEV_APP, "carol");
  s.token = mintToken04({
    appId: DEV_APP.app_id,
    userId: "alice",
    secret: DEV_APP.token_secret,
    effectiveSeconds: 3600,
    now: START / 1000,
    iv: "0123456789abcdef",
  });
  return s;
}

/** Writes `raw`, reads until the server closes (or 3 s pass), returns what came back. */
function exchange(s: Side, raw: string | Buffer, opts: { halfClose?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(s.port, "127.0.0.1");
    const got: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(`${Buffer.concat(got).toString("latin1")}<open>`);
    }, 3_000);
    socket.on("data", (c: Buffer) => got.push(c));
    socket.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code !== "ECONNRESET") reject(e);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(got).toString("latin1"));
    });
    socket.write(raw, () => {
      if (opts.halfClose) socket.end();
    });
  });
}

const normalize = (text: string) =>
  text.replace(/\r\nDate: [^\r]*/gi, "\r\nDate: -").replace(/"request_id":"[0-9a-f]{8}-/g, '"request_id":"-');

interface Req {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Omit these default headers. */
  without?: string[];
  close?: boolean;
  version?: string;
}

function build(s: Side, r: Req): Buffer {
  const body = r.body === undefined ? undefined : Buffer.from(r.body);
  const h: Record<string, string> = {
    host: s.host,
    "x-app-id": String(DEV_APP.app_id),
    "x-app-sign": DEV_APP.app_sign,
    "x-session": s.session,
    "content-type": "application/json",
    ...(body ? { "content-length": String(body.length) } : {}),
    ...(r.close ? { connection: "close" } : {}),
    ...r.headers,
  };
  for (const k of r.without ?? []) delete h[k];
  const head = `${r.method ?? "POST"} ${r.path ?? "/v1/music/extended"} ${r.version ?? "HTTP/1.1"}\r\n${Object.entries(
    h,
  )
    .map(([k, v]) => `${k}: ${v}`)
    .join("\r\n")}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, "latin1"), body ?? Buffer.alloc(0)]);
}

const cmd = (command: string, params: unknown) => JSON.stringify({ command, params });
const TOP = cmd("/top/song", { vendor_id: 0, top_id: "8888", page: 1 });
const SEARCH = cmd("/search/song", JSON.stringify({ vendor_id: 0, keyword: "love", page: 1 }));

/** The corpus: each case is one connection; the last request on it asks to close unless the case says otherwise. */
type Case = { name: string; reqs: (s: Side) => Buffer; halfClose?: boolean };
const one = (name: string, r: Req | ((s: Side) => Req)): Case => ({
  name,
  reqs: (s) => build(s, { close: true, ...(typeof r === "function" ? r(s) : r) }),
});

const CASES: Case[] = [
  one("top/song", { body: TOP }),
  one("top/song again (cached)", { body: TOP }),
  one("top/song page 2, filter", {
    body: cmd("/top/song", { vendor_id: 0, top_id: "8888", page: 2, filter: [1] }),
  }),
  one("search/song, SDK string params", { body: SEARCH }),
  one("search/song, CJK keyword", { body: cmd("/search/song", { vendor_id: 0, keyword: "天空", page: 1 }) }),
  one("tag/song", { body: cmd("/tag/song", { vendor_id: 0, tag_id: "1", page: 1 }) }),
  one("charset in content-type", {
    body: TOP,
    headers: { "content-type": "application/json; charset=utf-8" },
  }),
  one("HTTP/1.0, no Host", { body: TOP, version: "HTTP/1.0", without: ["host"] }),
  one("token auth", (s) => ({
    body: TOP,
    without: ["x-app-sign"],
    headers: { authorization: `Bearer ${s.token}` },
  })),
  one("token auth, no app id", (s) => ({
    body: TOP,
    without: ["x-app-sign", "x-app-id"],
    headers: { authorization: `Bearer ${s.token}` },
  })),
  one("token and sign together", (s) => ({ body: TOP, headers: { authorization: `Bearer ${s.token}` } })),
  one("Expect: 100-continue", { body: TOP, headers: { expect: "100-continue" } }),
  one("x-app-id twice", { body: TOP, headers: { "x-app-id": "1000000001\r\nx-app-id: 1000000001" } }),
  one("bad token", { body: TOP, without: ["x-app-sign"], headers: { authorization: "Bearer 04AAAA" } }),
  one("unknown top_id", { body: cmd("/top/song", { vendor_id: 0, top_id: "nope", page: 1 }) }),
  one("page 0", { body: cmd("/top/song", { vendor_id: 0, top_id: "8888", page: 0 }) }),
  one("vendor 4 lacks /top/song", { body: cmd("/top/song", { vendor_id: 4, top_id: "8888", page: 1 }) }),
  one("vendor_id a string", { body: cmd("/top/song", { vendor_id: "x", top_id: "8888", page: 1 }) }),
  one("empty keyword", { body: cmd("/search/song", { vendor_id: 0, keyword: "", page: 1 }) }),
  one("unknown command", { body: cmd("/nope", { vendor_id: 0 }) }),
  one("empty command", { body: cmd("", { vendor_id: 0 }) }),
  one("no params", { body: JSON.stringify({ command: "/top/song" }) }),
  one("params not JSON", { body: JSON.stringify({ command: "/top/song", params: "{x" }) }),
  one("params an array", { body: JSON.stringify({ command: "/top/song", params: "[1]" }) }),
  one("extra body field", { body: JSON.stringify({ command: "/top/song", params: {}, x: 1 }) }),
  one("command a number", { body: JSON.stringify({ command: 1, params: {} }) }),
  one("command too long", { body: JSON.stringify({ command: "x".repeat(300), params: {} }) }),
  one("body an array", { body: "[]" }),
  one("non-page command", { body: cmd("/tag/list", { vendor_id: 0 }) }),
  one("prelude end time", { body: cmd("/api/get_prelude_end_time", { vendor_id: 0, song_id: "1" }) }),
  one("no auth at all", { body: TOP, without: ["x-app-id", "x-app-sign"] }),
  one("wrong sign", { body: TOP, headers: { "x-app-sign": "ab".repeat(32) } }),
  one("short sign", { body: TOP, headers: { "x-app-sign": "ab" } }),
  one("bad app id", { body: TOP, headers: { "x-app-id": "12x" } }),
  one("unknown app", { body: TOP, headers: { "x-app-id": "42" } }),
  one("no session", { body: TOP, without: ["x-session"] }),
  one("unknown session", { body: TOP, headers: { "x-session": "nope" } }),
  one("other app's session", (s) => ({ body: TOP, headers: { "x-session": s.quotaSession } })),
  one("an app without vendor 0, a body already seen", (s) => ({
    body: TOP,
    headers: {
      "x-app-id": String(VENDOR_APP.app_id),
      "x-app-sign": VENDOR_APP.app_sign,
      "x-session": s.vendorSession,
    },
  })),
  one("another user, a body already seen", (s) => ({ body: TOP, headers: { "x-session": s.carolSession } })),
  one("bad JSON", { body: "{" }),
  one("empty body", { body: "" }),
  one("BOM", { body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(TOP)]) }),
  one("__proto__ key", { body: '{"command":"/top/song","params":{"__proto__":{"x":1}}}' }),
  one("constructor.prototype", { body: '{"command":"/top/song","params":{"constructor":{"prototype":{}}}}' }),
  one("escaped key", {
    body: '{"comm\\u0061nd":"/top/song","params":{"vendor_id":0,"top_id":"8888","page":1}}',
  }),
  one("invalid UTF-8", { body: Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]) }),
  one("text/plain", { body: TOP, headers: { "content-type": "text/plain" } }),
  one("no content-type", { body: TOP, without: ["content-type"] }),
  one("oversize", { body: JSON.stringify({ command: "/top/song", params: { k: "x".repeat(BODY_LIMIT) } }) }),
  one("chunked, small", {
    body: `${Buffer.byteLength(TOP).toString(16)}\r\n${TOP}\r\n0\r\n\r\n`,
    without: ["content-length"],
    headers: { "transfer-encoding": "chunked" },
  }),
  one("chunked, over the limit", {
    body: `${(BODY_LIMIT + 10).toString(16)}\r\n${"x".repeat(BODY_LIMIT + 10)}\r\n0\r\n\r\n`,
    without: ["content-length"],
    headers: { "transfer-encoding": "chunked" },
  }),
  one("GET", { method: "GET" }),
  one("PUT", { method: "PUT", body: TOP }),
  one("query string", { body: TOP, path: "/v1/music/extended?x=1" }),
  one("trailing slash", { body: TOP, path: "/v1/music/extended/" }),
  one("no Host on HTTP/1.1", { body: TOP, without: ["host"] }),
  one("quota app", (s) => ({
    body: TOP,
    headers: {
      "x-app-id": String(QUOTA_APP.app_id),
      "x-app-sign": QUOTA_APP.app_sign,
      "x-session": s.quotaSession,
    },
  })),
  {
    name: "quota app, over its quota",
    reqs: (s) => {
      const h = {
        "x-app-id": String(QUOTA_APP.app_id),
        "x-app-sign": QUOTA_APP.app_sign,
        "x-session": s.quotaSession,
      };
      return Buffer.concat([
        build(s, { body: TOP, headers: h }),
        build(s, { body: TOP, headers: h, close: true }),
      ]);
    },
  },
  {
    name: "pipelined: valid, invalid, valid, keep-alive then close",
    reqs: (s) =>
      Buffer.concat([
        build(s, { body: TOP }),
        build(s, { body: "{" }),
        build(s, { body: SEARCH }),
        build(s, { method: "GET", path: "/healthz", close: true }),
      ]),
  },
  {
    name: "cut mid-body",
    reqs: (s) => build(s, { body: TOP, headers: { "content-length": String(TOP.length + 20) } }),
    halfClose: true,
  },
];

const byName = (name: string): Case => {
  const c = CASES.find((x) => x.name === name);
  if (!c) throw new Error(`no case ${name}`);
  return c;
};

let fast: Side;
let plain: Side;

beforeAll(async () => {
  [fast, plain] = await Promise.all([side(true), side(false)]);
}, 60_000);

afterAll(async () => {
  await Promise.all([fast?.sim.close(), plain?.sim.close()]);
});

async function same(c: Case): Promise<string> {
  const [a, b] = await Promise.all([
    exchange(fast, c.reqs(fast), { halfClose: c.halfClose }),
    exchange(plain, c.reqs(plain), { halfClose: c.halfClose }),
  ]);
  expect(normalize(a), c.name).toBe(normalize(b));
  return normalize(a);
}

const admin = (s: Side, method: string, path: string, body?: unknown) =>
  build(s, {
    method,
    path,
    body: body === undefined ? undefined : JSON.stringify(body),
    without: ["x-app-id", "x-app-sign", "x-session", ...(body === undefined ? ["content-type"] : [])],
    headers: { "x-ktv-admin": "1" },
    close: true,
  });

async function adminOk(name: string, reqs: (s: Side) => Buffer): Promise<void> {
  expect(await same({ name, reqs }), name).toMatch(/^HTTP\/1\.1 200 /);
}

describe("the fast path answers exactly what Fastify answers", () => {
  it("the whole corpus, byte for byte, and the fast path served the successes and handed the rest over", async () => {
    const served0 = fast.sim.fastPath!.served;
    // Sequential: request ids and fault sequences then advance alike on both sides.
    for (const c of CASES) await same(c);
    expect(plain.sim.fastPath).toBeNull();
    // The plain successes of page commands: 10 single cases (tag/song, token x2, HTTP/1.0, charset, ...) and the
    // two valid calls of the pipelined case.
    expect(fast.sim.fastPath!.served - served0).toBeGreaterThanOrEqual(10);
    expect(fast.sim.fastPath!.handedOver).toBeGreaterThanOrEqual(25);
  });

  it("with faults loaded through the admin API (latency, errors, outage, disabled), then reset", async () => {
    const served0 = fast.sim.fastPath!.served;
    const profiles = [
      { faults: [{ id: "slow", kind: "latency", distribution: { type: "fixed", ms: 5 } }] },
      { faults: [{ id: "busy", kind: "error", code: 1017097, selector: { command: "/top/song" } }] },
      { faults: [{ id: "down", kind: "outage" }] },
      { faults: [{ id: "http503", kind: "error", http_status: 503 }] },
    ];
    for (const p of profiles) {
      await adminOk("load profile", (s) => admin(s, "PUT", "/admin/faults", p));
      for (const c of ["top/song", "search/song, SDK string params", "unknown top_id"].map(byName))
        await same({ ...c, name: `${p.faults[0]!.id}: ${c.name}` });
    }
    await adminOk("disable", (s) => admin(s, "PATCH", "/admin/faults/http503", { enabled: false }));
    await same({ ...CASES[0]!, name: "disabled fault: top/song" });
    expect(fast.sim.fastPath!.served).toBe(served0);
    await adminOk("reset", (s) => admin(s, "POST", "/admin/faults/reset"));
    await same({ ...CASES[0]!, name: "after reset: top/song" });
    expect(fast.sim.fastPath!.served).toBe(served0 + 1);
  });

  it("a log level that writes per-request lines: everything through Fastify", async () => {
    const served0 = fast.sim.fastPath!.served;
    for (const s of [fast, plain]) s.sim.app.log.level = "info";
    try {
      await same({ ...CASES[0]!, name: "info: top/song" });
    } finally {
      for (const s of [fast, plain]) s.sim.app.log.level = "warn";
    }
    expect(fast.sim.fastPath!.served).toBe(served0);
  });

  it("the route runs exactly the hooks the fast path mirrors (a new one must be mirrored, or handed over)", () => {
    const routes = fast.sim.app.printRoutes({ includeHooks: true, commonPrefix: false, method: "POST" });
    const at = routes.indexOf("/v1/music/extended (POST)");
    const block = routes.slice(at, routes.indexOf("\n├──", at));
    expect(block).toBe(
      [
        "/v1/music/extended (POST)",
        '│   • (onRequest) ["refuseHostless()","anonymous()"]',
        '│   • (preParsing) ["replayPreread()"]',
        '│   • (preHandler) ["faultHook()","requireSession()"]',
        '│   • (onSend) ["anonymous()"]',
        '│   • (onResponse) ["anonymous()","onResponse()"]',
      ].join("\n"),
    );
  });

  it("a body seen before (memoized) still counts in its own user's fault stream: same request keys", async () => {
    const hits0 = fast.sim.fastPath!.memoHits;
    const served0 = fast.sim.fastPath!.served;
    await adminOk("reset", (s) => admin(s, "POST", "/admin/faults/reset"));
    const asCarol = (name: string, body: string): Case =>
      one(`carol: ${name}`, (s) => ({ body, headers: { "x-session": s.carolSession } }));
    const top = byName("top/song");
    const search = byName("search/song, SDK string params");
    const carolTop = asCarol("top/song", TOP);
    const carolSearch = asCarol("search/song", SEARCH);
    // Interleaved users and commands on the same few body texts, served by the fast path from the memo.
    const before = [top, carolTop, top, carolSearch, search];
    for (const c of before) await same(c);
    expect(fast.sim.fastPath!.served - served0).toBe(before.length);
    expect(fast.sim.fastPath!.memoHits - hits0).toBeGreaterThanOrEqual(before.length);
    // Then a fault that hits every request: its events name each request's key, with its stream's count.
    const slow = { faults: [{ id: "slow", kind: "latency", distribution: { type: "fixed", ms: 1 } }] };
    await adminOk("load profile", (s) => admin(s, "PUT", "/admin/faults", slow));
    for (const c of [top, carolTop, carolSearch]) await same({ ...c, name: `slow: ${c.name}` });
    const keys = (s: Side) => s.sim.ctx.faults.events().map((e) => e.request_key);
    expect(keys(fast)).toEqual(keys(plain));
    expect(keys(fast)).toEqual([
      "1000000001|alice|POST /v1/music/extended|/top/song#3",
      "1000000001|carol|POST /v1/music/extended|/top/song#2",
      "1000000001|carol|POST /v1/music/extended|/search/song#2",
    ]);
    await adminOk("reset", (s) => admin(s, "POST", "/admin/faults/reset"));
  });

  it("the request metrics agree", async () => {
    const lines = async (s: Side) => {
      const text = await (await fetch(`http://${s.host}/metrics`)).text();
      return text
        .split("\n")
        .filter((l) =>
          /^(ktv_requests_total|ktv_vendor_requests_total|ktv_request_duration_seconds_count)\{/.test(l),
        );
    };
    const [a, b] = await Promise.all([lines(fast), lines(plain)]);
    expect(a.length).toBeGreaterThan(5);
    expect(a).toEqual(b);
  });
});
