import fc from "fast-check";
import { Agent, request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Simulator } from "../../simulator/app.ts";
import { DEV_APP } from "../../simulator/options.ts";
import { session, testSimulator } from "../sim.ts";
import {
  answerProblem,
  casesFor,
  cpuSeconds,
  errorLog,
  headerValue,
  heapAfterGc,
  heapGrowthProblem,
  runBatches,
  seedFor,
  timeoutFor,
} from "./harness.ts";

// Every vendor and ops route the served OpenAPI document lists (the server API on `/` and the admin API have
// their own files), under random methods, path fills, queries, headers, content types and bodies, oversized
// headers (431) and bodies (413) included: no 5xx, every answer in the vendor's envelope (or a documented
// non-JSON body), `Connection: close` on the answers after which the server drops the connection, nothing at
// error level in the simulator's log, heap flat after a warm-up, and the simulator still serving at the end.

const BATCH = 25;
const CASES = casesFor("routes", BATCH);
const BODY_LIMIT = 16 * 1024;

type Doc = { paths: Record<string, Record<string, unknown>> };
interface Route {
  template: string;
  methods: string[];
}

const log = errorLog();
let sim: Simulator;
let agent: Agent;
let routes: Route[];
let sessions: Record<string, string>[];

beforeAll(async () => {
  sim = await testSimulator({ logLevel: "error", logStream: log.stream, bodyLimit: BODY_LIMIT });
  const doc = (await (await fetch(`${sim.url}/openapi.json`)).json()) as Doc;
  routes = Object.entries(doc.paths)
    .filter(([t]) => t !== "/" && !t.startsWith("/admin/"))
    .map(([template, ops]) => ({ template, methods: Object.keys(ops).map((m) => m.toUpperCase()) }));
  sessions = [await session(sim.url, "fuzz-a"), await session(sim.url, "fuzz-b")];
  agent = new Agent({ connections: 8, pipelining: 1, keepAliveTimeout: 30_000 });
});
afterAll(async () => {
  await agent?.close();
  await sim?.close();
});

const METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "PROPFIND"];
const FILLS = [
  "x1",
  "..%2F..%2Fetc%2Fpasswd",
  "%00",
  "%E0%A4%A",
  "..",
  "%2e%2e",
  "z_1_1",
  "a".repeat(3000),
  "r_0000000000000000",
];

const OVERSIZED = "<a JSON body over the body limit>";
const oversized = `{"pad":"${"x".repeat(BODY_LIMIT + 10)}"}`;

const token = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.integer().map(String),
  fc.constantFrom("", "0", "-1", "1e400", "null", "[]", "{}", "\u0000", "😀".repeat(20), "9".repeat(40)),
);

const json = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.record(
    {
      user_id: token,
      user_name: token,
      room_id: token,
      command: fc.oneof(
        fc.constantFrom("/tag/list", "/search/song", "/top/song", "/song/infos", "/tag/song", "", "/nope"),
        fc.string(),
      ),
      params: fc.oneof(
        fc.object({ maxDepth: 2 }),
        fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
      ),
      song_id: fc.oneof(token, fc.integer()),
      resource_type: fc.oneof(fc.integer({ min: -2, max: 6 }), token),
      billing_mode: fc.oneof(fc.integer({ min: -2, max: 6 }), fc.constant(null)),
      vendor_id: fc.oneof(fc.integer({ min: -1, max: 6 }), token),
      scene_id: fc.integer({ min: -1, max: 3 }),
      master_id: token,
      quality: fc.integer({ min: -1, max: 4 }),
    },
    { requiredKeys: [] },
  ),
);

const body = fc.oneof(
  { weight: 6, arbitrary: json.map((v) => JSON.stringify(v)) },
  { weight: 2, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 1, arbitrary: fc.constantFrom("", "{", "[]", "null", '{"a":', "\u0000\u0001", "{}".repeat(100)) },
  // Over the body limit (413), made at send time so a counterexample prints short.
  { weight: 1, arbitrary: fc.constant(OVERSIZED) },
);

const QUERY_NAMES = ["song_id", "vendor_id", "krc_token", "resource_id", "limit", "app_id", "x", "song_id"];

function routeCase() {
  return fc.record({
    // The ops routes (/healthz, /metrics, /openapi.json, /docs) take no input: visited, not dwelt on.
    route: fc.oneof(
      { weight: 12, arbitrary: fc.constantFrom(...vendorRoutes()) },
      { weight: 1, arbitrary: fc.nat(routes.length - 1) },
    ),
    methodPick: fc.oneof({ weight: 6, arbitrary: fc.constant(null) }, fc.constantFrom(...METHODS)),
    fill: fc.oneof(fc.constantFrom(...FILLS), fc.string({ maxLength: 30 }).map(encodeURIComponent)),
    query: fc.array(fc.tuple(fc.constantFrom(...QUERY_NAMES), token), { maxLength: 4 }),
    auth: fc.nat(7),
    extra: fc.array(
      fc.tuple(
        fc.constantFrom(
          "range",
          "if-range",
          "if-none-match",
          "x-session",
          "authorization",
          "origin",
          "accept",
        ),
        headerValue,
      ),
      { maxLength: 3 },
    ),
    contentType: fc.constantFrom(
      "application/json",
      "application/json; charset=utf-8",
      "text/plain",
      "application/x-www-form-urlencoded",
      "application/xml",
      "",
    ),
    body,
    // Headers over node's 16 KiB limit: 431 with Connection: close.
    hugeHeader: fc.oneof({ weight: 40, arbitrary: fc.constant(false) }, fc.constant(true)),
  });
}

function vendorRoutes(): number[] {
  return routes.flatMap((r, i) => (r.template.startsWith("/v1/") ? [i] : []));
}

type RouteCase = ReturnType<typeof routeCase> extends fc.Arbitrary<infer T> ? T : never;

function authHeaders(n: number): Record<string, string> {
  const dev = { "x-app-id": String(DEV_APP.app_id), "x-app-sign": DEV_APP.app_sign };
  switch (n) {
    case 0:
      return {};
    case 1:
      return dev;
    case 2:
      return sessions[0]!;
    case 3:
      return sessions[1]!;
    case 4:
      return { ...dev, "x-app-sign": "f".repeat(64) };
    case 5:
      return { ...sessions[0]!, authorization: "Bearer 04garbage" };
    case 6:
      return { "x-app-id": "99999999999999999999", "x-session": "s_nope" };
    default:
      return { ...sessions[0]!, origin: "http://evil.example" };
  }
}

describe(`fuzz: ${CASES} random requests to every vendor and ops route of the OpenAPI document`, () => {
  it(
    "no 5xx, every answer in the envelope, Connection: close where the server drops it, heap flat",
    async () => {
      const statuses = new Map<number, number>();
      const problems: string[] = [];
      const cpu0 = process.cpuUsage();
      let heapWarm = 0;
      const warmCases = BATCH * 8;

      const check = async (c: RouteCase) => {
        const r = routes[c.route]!;
        const method = c.methodPick ?? r.methods[c.fill.length % r.methods.length]!;
        const path = r.template.replace(/\{[^}]+\}/g, c.fill);
        const qs = c.query.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("&");
        const url = `${sim.url}${path}${qs ? `?${qs}` : ""}`;
        const headers: Record<string, string> = { ...authHeaders(c.auth) };
        for (const [k, v] of c.extra) headers[k] = v;
        if (c.contentType) headers["content-type"] = c.contentType;
        if (c.hugeHeader) headers["x-pad"] = "p".repeat(20_000);
        const hasBody = method !== "GET" && method !== "HEAD";
        const what = `${method} ${url.slice(0, 200)} ${JSON.stringify(headers).slice(0, 200)}`;
        const res = await request(url, {
          method: method as "GET",
          headers,
          body: hasBody ? (c.body === OVERSIZED ? oversized : c.body) : undefined,
          dispatcher: agent,
        }).catch((e: Error) => {
          throw new Error(`${what}: no answer (${e.message})`);
        });
        const text = await res.body.text();
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        const p = answerProblem({ status: res.statusCode, headers: res.headers, text }, { method });
        expect(p, what).toBeNull();
        // node:http drops the connection after these (clientError path): the answer must say so.
        if (res.statusCode === 431) expect(res.headers.connection, what).toBe("close");
        if (c.hugeHeader) expect(res.statusCode, what).toBe(431);
      };

      await runBatches(routeCase(), { cases: warmCases, batch: BATCH, seed: seedFor(1) }, check);
      heapWarm = await heapAfterGc();
      await runBatches(routeCase(), { cases: CASES - warmCases, batch: BATCH, seed: seedFor(2) }, check);
      const heapEnd = await heapAfterGc();
      const cpu = cpuSeconds(cpu0);

      const growth = heapGrowthProblem(heapWarm, heapEnd, CASES - warmCases, { fixed: 6e6, perCase: 400 });
      if (growth) problems.push(growth);
      console.log(
        `fuzz routes: ${CASES} cases, ${cpu.toFixed(2)} s CPU (simulator + client), heap after GC ${(heapWarm / 1e6).toFixed(1)} -> ${(heapEnd / 1e6).toFixed(1)} MB, statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`,
      );
      expect(problems).toEqual([]);
      expect(log.lines, log.lines.join("\n")).toEqual([]);
      // The generator reaches the answers that matter (else a change to it could make this test vacuous).
      for (const s of [200, 400, 401, 404, 405, 413, 431])
        expect(statuses.get(s), `status ${s} never seen`).toBeGreaterThan(0);
      const health = await request(`${sim.url}/healthz`, { dispatcher: agent });
      expect(health.statusCode).toBe(200);
      await health.body.text();
    },
    timeoutFor(120_000),
  );
});
