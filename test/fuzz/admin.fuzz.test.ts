import fc from "fast-check";
import { Agent, request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Simulator } from "../../simulator/app.ts";
import { DEV_APP } from "../../simulator/options.ts";
import { metricSum, testSimulator } from "../sim.ts";
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

// The admin API under random methods, ids, queries, bodies (fault profiles that validate and inject 500/503,
// latency and vendor codes, and junk), with and without the admin marker, cross-site Origins and foreign Host
// headers, interleaved with vendor calls the injected faults hit. No 5xx but injected ones (never more 5xx than
// faults_injected_total moved, and nothing at error level in the log), every answer in the envelope, heap flat,
// still serving at the end.

const BATCH = 20;
const CASES = casesFor("admin", BATCH);

type Doc = { paths: Record<string, Record<string, unknown>> };

const log = errorLog();
let sim: Simulator;
let agent: Agent;
let adminRoutes: { template: string; methods: string[] }[];
let songIds: string[];

beforeAll(async () => {
  sim = await testSimulator({ logLevel: "error", logStream: log.stream });
  const doc = (await (await fetch(`${sim.url}/openapi.json`)).json()) as Doc;
  adminRoutes = Object.entries(doc.paths)
    .filter(([t]) => t.startsWith("/admin/"))
    .map(([template, ops]) => ({ template, methods: Object.keys(ops).map((m) => m.toUpperCase()) }));
  songIds = [];
  for (let i = 0; i < sim.ctx.catalog.size && songIds.length < 20; i += 101) {
    songIds.push(sim.ctx.catalog.at(i).item.song_id);
  }
  agent = new Agent({ connections: 6, pipelining: 1, keepAliveTimeout: 30_000 });
});
afterAll(async () => {
  await agent?.close();
  await sim?.close();
});

// Profiles the engine accepts: each injects something on the vendor routes the vendor cases call.
const PROFILES = [
  { faults: [{ id: "e503", kind: "error", http_status: 503, probability: 0.5 }] },
  { faults: [{ id: "e500", kind: "error", http_status: 500, probability: 0.3 }] },
  { faults: [{ id: "busy", kind: "error", code: 1017097, probability: 0.5 }] },
  { faults: [{ id: "slow", kind: "latency", distribution: { type: "fixed", ms: 5 }, probability: 0.5 }] },
  { faults: [{ id: "down", kind: "outage" }] },
  { description: "none", faults: [] },
];

const junkJson = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.record(
    {
      faults: fc.array(
        fc.record(
          {
            id: fc.oneof(fc.string({ maxLength: 10 }), fc.integer()),
            kind: fc.oneof(fc.constantFrom("error", "latency", "outage", "expiry", "nope"), fc.string()),
            probability: fc.oneof(fc.double({ min: -1, max: 2 }), fc.string()),
            http_status: fc.integer({ min: 100, max: 600 }),
            code: fc.integer(),
            enabled: fc.oneof(fc.boolean(), fc.string()),
          },
          { requiredKeys: [] },
        ),
        { maxLength: 3 },
      ),
      enabled: fc.oneof(fc.boolean(), fc.string(), fc.constant(null)),
      time_base: fc.string(),
    },
    { requiredKeys: [] },
  ),
);

function adminCase() {
  return fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant("admin" as const),
        route: fc.nat(adminRoutes.length - 1),
        method: fc.oneof(
          { weight: 5, arbitrary: fc.constant(null) },
          fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"),
        ),
        fill: fc.oneof(
          fc.constantFrom(...songIds, "e503", "busy", "nope", "r_x", "%E0%A4%A", "a".repeat(400)),
          fc.string({ maxLength: 20 }).map(encodeURIComponent),
        ),
        query: fc.array(fc.tuple(fc.constantFrom("limit", "since_id", "app_id", "since", "x"), headerValue), {
          maxLength: 3,
        }),
        marker: fc.boolean(),
        contentType: fc.constantFrom(
          "application/json",
          "text/plain",
          "application/x-www-form-urlencoded",
          "",
        ),
        origin: fc.constantFrom(null, null, "http://evil.example", "same", "null"),
        host: fc.constantFrom(null, null, null, "evil.example:7400", "localhost", "[::1]"),
        body: fc.oneof(
          fc.constantFrom(...PROFILES).map((p) => JSON.stringify(p)),
          fc.boolean().map((enabled) => JSON.stringify({ enabled })),
          junkJson.map((v) => JSON.stringify(v)),
          fc.string({ maxLength: 60 }),
        ),
      }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("vendor" as const), user: fc.nat(20) }) },
    // A well-formed profile change, so the vendor calls meet the faults it injects.
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant("faults" as const), profile: fc.nat(PROFILES.length - 1) }),
    },
  );
}
type AdminCase = ReturnType<typeof adminCase> extends fc.Arbitrary<infer T> ? T : never;

describe(`fuzz: ${CASES} random admin API calls interleaved with vendor calls under the faults they set`, () => {
  it(
    "no 5xx but injected ones, every answer in the envelope, heap flat, still serving",
    async () => {
      const statuses = new Map<number, number>();
      let fiveXX = 0;
      const injected0 = await metricSum(sim.url, /^faults_injected_total\{/);
      const cpu0 = process.cpuUsage();
      const warmCases = BATCH * 8;
      const check = async (c: AdminCase) => {
        let u: string;
        let method: string;
        const headers: Record<string, string> = {};
        let body: string | undefined;
        if (c.kind === "vendor") {
          u = `${sim.url}/v1/music/init`;
          method = "POST";
          headers["x-app-id"] = String(DEV_APP.app_id);
          headers["x-app-sign"] = DEV_APP.app_sign;
          headers["content-type"] = "application/json";
          body = JSON.stringify({ user_id: `fz-${c.user}` });
        } else if (c.kind === "faults") {
          u = `${sim.url}/admin/faults`;
          method = "PUT";
          headers["content-type"] = "application/json";
          body = JSON.stringify(PROFILES[c.profile]);
        } else {
          const r = adminRoutes[c.route]!;
          method = c.method ?? r.methods[c.fill.length % r.methods.length]!;
          const qs = c.query.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("&");
          u = `${sim.url}${r.template.replace(/\{[^}]+\}/g, c.fill)}${qs ? `?${qs}` : ""}`;
          if (c.marker) headers["x-ktv-admin"] = "1";
          if (c.contentType) headers["content-type"] = c.contentType;
          if (c.origin) headers.origin = c.origin === "same" ? sim.url : c.origin;
          if (c.host) headers.host = c.host;
          if (method !== "GET" && method !== "HEAD") body = c.body;
        }
        const what = `${method} ${u.slice(0, 200)} ${JSON.stringify(headers)} ${String(body).slice(0, 200)}`;
        const res = await request(u, { method: method as "GET", headers, body, dispatcher: agent });
        const text = await res.body.text();
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        if (res.statusCode >= 500) {
          // Only the faults this fuzzer sets answer 5xx, and only on the vendor surface (admin is never faulted).
          expect(c.kind, `${what} -> ${res.statusCode} ${text}`).toBe("vendor");
          expect([500, 503], what).toContain(res.statusCode);
          fiveXX++;
          expect(answerProblem({ status: 200, headers: res.headers, text }), what).toBeNull();
          return;
        }
        expect(
          answerProblem({ status: res.statusCode, headers: res.headers, text }, { method }),
          `${what} -> ${text}`,
        ).toBeNull();
        if (c.kind === "faults") expect(res.statusCode, `${what} -> ${text}`).toBe(200);
      };
      await runBatches(adminCase(), { cases: warmCases, batch: BATCH, seed: seedFor(21) }, check);
      const heapWarm = await heapAfterGc();
      await runBatches(adminCase(), { cases: CASES - warmCases, batch: BATCH, seed: seedFor(22) }, check);
      const heapEnd = await heapAfterGc();
      const cpu = cpuSeconds(cpu0);
      const injected = (await metricSum(sim.url, /^faults_injected_total\{/)) - injected0;
      console.log(
        `fuzz admin: ${CASES} cases, ${cpu.toFixed(2)} s CPU (simulator + client), heap after GC ${(heapWarm / 1e6).toFixed(1)} -> ${(heapEnd / 1e6).toFixed(1)} MB, ${fiveXX} injected 5xx of ${injected} injections, statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`,
      );
      expect(fiveXX).toBeLessThanOrEqual(injected);
      expect(log.lines, log.lines.join("\n")).toEqual([]);
      expect(
        heapGrowthProblem(heapWarm, heapEnd, CASES - warmCases, { fixed: 4e6, perCase: 600 }),
      ).toBeNull();
      // Refusals (cross-site, no marker), not-found ids, and injected faults were all reached.
      for (const s of [200, 400, 403, 404, 405])
        expect(statuses.get(s), `status ${s} never seen`).toBeGreaterThan(0);
      expect(fiveXX).toBeGreaterThan(0);
      await request(`${sim.url}/admin/faults/reset`, {
        method: "POST",
        headers: { "x-ktv-admin": "1" },
        dispatcher: agent,
      }).then((r) => r.body.text());
      const health = await request(`${sim.url}/healthz`, { dispatcher: agent });
      expect(health.statusCode).toBe(200);
      await health.body.text();
    },
    timeoutFor(120_000),
  );
});
