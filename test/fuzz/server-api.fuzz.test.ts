import fc from "fast-check";
import { Agent, request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SERVER_API_ACTIONS, ServerApiMessage, serverApiSignature } from "../../protocol/server-api.ts";
import type { Simulator } from "../../simulator/app.ts";
import { DEV_APP } from "../../simulator/options.ts";
import { testSimulator } from "../sim.ts";
import {
  answerProblem,
  casesFor,
  cpuSeconds,
  errorLog,
  heapAfterGc,
  heapGrowthProblem,
  runBatches,
  seedFor,
  timeoutFor,
} from "./harness.ts";

// The server REST API (`GET /?Action=...`): random actions (real and made up), each action's own params from
// the OpenAPI document's x-actions with real and junk values, good and broken signatures (wrong secret, stale
// Timestamp, missing, doubled and uppercase params), and methods `/` does not serve. Every answer: HTTP 200 with
// exactly {Code, Message, RequestId, Data} and a documented Code (a method `/` does not serve: HTTP 405 in the
// same envelope), no 5xx, nothing at error level in the log, heap flat after a warm-up, still serving at the end.

const BATCH = 25;
const CASES = casesFor("serverApi", BATCH);

type Doc = {
  paths: Record<string, Record<string, { "x-actions"?: { action: string; params: { name: string }[] }[] }>>;
};

const log = errorLog();
let sim: Simulator;
let agent: Agent;
let paramNames: string[];
let songIds: string[];

beforeAll(async () => {
  sim = await testSimulator({ logLevel: "error", logStream: log.stream });
  const doc = (await (await fetch(`${sim.url}/openapi.json`)).json()) as Doc;
  const actions = doc.paths["/"]!.get!["x-actions"]!;
  paramNames = [...new Set(actions.flatMap((a) => a.params.map((p) => p.name)))];
  songIds = [];
  for (let i = 0; i < sim.ctx.catalog.size && songIds.length < 40; i += 37) {
    songIds.push(sim.ctx.catalog.at(i).item.song_id);
  }
  agent = new Agent({ connections: 8, pipelining: 1, keepAliveTimeout: 30_000 });
});
afterAll(async () => {
  await agent?.close();
  await sim?.close();
});

const junk = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.integer({ min: -3, max: 30 }).map(String),
  fc.constantFrom("", "%", "0", "1", "8888", "a".repeat(300), "\u0000", "1e3", "-0", "[]", "null"),
);

function apiCase() {
  return fc.record({
    action: fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom(...SERVER_API_ACTIONS) },
      { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
      { weight: 1, arbitrary: fc.constant(null) },
    ),
    params: fc.array(
      fc.tuple(
        fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...paramNames) }, fc.string({ maxLength: 12 })),
        fc.oneof(
          fc.constantFrom(...songIds),
          fc.integer({ min: 0, max: 5 }).map(String),
          fc.integer({ min: 1, max: 40 }).map(String),
          junk,
        ),
      ),
      { maxLength: 4 },
    ),
    sign: fc.constantFrom("good", "good", "good", "wrong-secret", "stale", "unsigned", "upper", "no-nonce"),
    doubled: fc.boolean(),
    method: fc.oneof({ weight: 20, arbitrary: fc.constant("GET") }, fc.constantFrom("POST", "PUT", "DELETE")),
  });
}
type ApiCase = ReturnType<typeof apiCase> extends fc.Arbitrary<infer T> ? T : never;

let nonce = 0;
function url(c: ApiCase): string {
  const q = new URLSearchParams();
  if (c.action !== null) q.append("Action", c.action);
  const ts = Math.floor(Date.now() / 1000) - (c.sign === "stale" ? 3600 : 0);
  const n = `fz${++nonce}`;
  const secret = c.sign === "wrong-secret" ? "0".repeat(32) : DEV_APP.token_secret;
  let sig = serverApiSignature(DEV_APP.app_id, n, secret, ts);
  if (c.sign === "upper") sig = sig.toUpperCase();
  if (c.sign !== "unsigned") {
    q.append("AppId", String(DEV_APP.app_id));
    if (c.sign !== "no-nonce") q.append("SignatureNonce", n);
    q.append("Timestamp", String(ts));
    q.append("Signature", sig);
    q.append("SignatureVersion", "2.0");
    q.append("UserId", "fuzz-backend");
  }
  for (const [k, v] of c.params) {
    q.append(k, v);
    if (c.doubled) q.append(k, v);
  }
  return `${sim.url}/?${q}`;
}

describe(`fuzz: ${CASES} random server REST API calls (GET /?Action=...)`, () => {
  it(
    "every answer is a 200 {Code, Message, RequestId, Data} with a documented Code; no 5xx; heap flat",
    async () => {
      const codes = new Map<number, number>();
      const cpu0 = process.cpuUsage();
      const warmCases = BATCH * 8;
      const check = async (c: ApiCase) => {
        const u = url(c);
        const res = await request(u, { method: c.method as "GET", dispatcher: agent });
        const text = await res.body.text();
        const what = `${c.method} ${u.slice(0, 300)} -> ${res.statusCode} ${text.slice(0, 300)}`;
        expect(
          answerProblem({ status: res.statusCode, headers: res.headers, text }, { serverApi: true }),
          what,
        ).toBeNull();
        if (c.method !== "GET") {
          expect(res.statusCode, what).toBe(405);
          expect(JSON.parse(text), what).toMatchObject({ Code: 320000004, Data: null });
          return;
        }
        expect(res.statusCode, what).toBe(200);
        const body = JSON.parse(text);
        expect(Object.keys(body), what).toEqual(["Code", "Message", "RequestId", "Data"]);
        expect(ServerApiMessage[body.Code], what).toBeDefined();
        // An SDK-path failure without a server API meaning would be a translation gap (no fault is active here).
        expect(body.Code, what).not.toBe(320050003);
        codes.set(body.Code, (codes.get(body.Code) ?? 0) + 1);
      };
      await runBatches(apiCase(), { cases: warmCases, batch: BATCH, seed: seedFor(11) }, check);
      const heapWarm = await heapAfterGc();
      await runBatches(apiCase(), { cases: CASES - warmCases, batch: BATCH, seed: seedFor(12) }, check);
      const heapEnd = await heapAfterGc();
      const cpu = cpuSeconds(cpu0);
      console.log(
        `fuzz server-api: ${CASES} cases, ${cpu.toFixed(2)} s CPU (simulator + client), heap after GC ${(heapWarm / 1e6).toFixed(1)} -> ${(heapEnd / 1e6).toFixed(1)} MB, codes ${JSON.stringify(Object.fromEntries(codes))}`,
      );
      expect(
        heapGrowthProblem(heapWarm, heapEnd, CASES - warmCases, { fixed: 4e6, perCase: 200 }),
      ).toBeNull();
      expect(log.lines, log.lines.join("\n")).toEqual([]);
      // Successes, signature refusals and param refusals all reached (the generator is not vacuous).
      for (const code of [0, 100000004, 100000005, 320000004])
        expect(codes.get(code), `Code ${code} never seen`).toBeGreaterThan(0);
      const health = await request(`${sim.url}/healthz`, { dispatcher: agent });
      expect(health.statusCode).toBe(200);
      await health.body.text();
    },
    timeoutFor(120_000),
  );
});
