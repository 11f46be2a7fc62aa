import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isEnvelope } from "../protocol/envelope.ts";
import type { Simulator } from "../simulator/app.ts";
import { devHeaders, session, testSimulator } from "./sim.ts";

// Random bodies, headers and ids at every route: the simulator must never answer 5xx, every JSON answer must
// be a valid envelope (or the documented non-envelope bodies of /healthz, /metrics, /openapi.json, downloads),
// and it must still be healthy afterwards.

const ROUTES: { method: string; path: (id: string) => string }[] = [
  { method: "POST", path: () => "/v1/music/init" },
  { method: "POST", path: () => "/v1/music/extended" },
  { method: "POST", path: () => "/v1/music/resource" },
  { method: "POST", path: () => "/v1/music/shared-resource" },
  { method: "POST", path: () => "/v1/room/login" },
  { method: "GET", path: (id) => `/v1/music/lyrics/lrc?song_id=${id}&vendor_id=${id}` },
  { method: "GET", path: (id) => `/v1/music/lyrics/krc?krc_token=${id}` },
  { method: "GET", path: (id) => `/v1/music/pitch?resource_id=${id}` },
  { method: "GET", path: (id) => `/v1/music/download/${id}` },
  { method: "POST", path: (id) => `/admin/songs/${id}/revoke` },
  { method: "POST", path: (id) => `/admin/resources/${id}/expire` },
  { method: "GET", path: (id) => `/admin/ledger?limit=${id}` },
];

const jsonish = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.record({
    command: fc.oneof(
      fc.constantFrom("/tag/list", "/search/song", "/top/song", "/song/infos", "", "/nope"),
      fc.string(),
    ),
    params: fc.oneof(fc.object({ maxDepth: 2 }), fc.jsonValue({ maxDepth: 2 })),
  }),
  fc.record(
    {
      song_id: fc.oneof(fc.string(), fc.integer(), fc.constant("../../etc/passwd")),
      resource_type: fc.oneof(fc.integer({ min: -2, max: 6 }), fc.string()),
      billing_mode: fc.oneof(fc.integer({ min: -2, max: 6 }), fc.constant(null)),
      vendor_id: fc.oneof(fc.constantFrom(0, 1, 2, 3, 4, 5), fc.string()),
      room_id: fc.oneof(fc.string(), fc.constant(undefined)),
      quality: fc.integer({ min: -1, max: 4 }),
    },
    { requiredKeys: [] },
  ),
);

const rawBody = fc.oneof(
  jsonish.map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
  fc.constantFrom("", "{", "[]", "null", '{"a":', "\u0000\u0001", "{}".repeat(1000)),
);

const id = fc.oneof(
  fc.string({ maxLength: 40 }).map(encodeURIComponent),
  fc.constantFrom("..%2F..%2Fetc%2Fpasswd", "%00", "z_1_1", "a".repeat(5000), "%E0%A4%A", "..", "%2e%2e"),
);

describe("property: no route falls over", () => {
  let sim: Simulator;
  let sessionHeaders: Record<string, string>;
  beforeAll(async () => {
    sim = await testSimulator();
    sessionHeaders = await session(sim.url, "fuzzer");
  });
  afterAll(() => sim.close());

  it("answers random requests without 5xx and with valid envelopes", async () => {
    const headerSets = fc.constantFrom<Record<string, string>>(
      {},
      devHeaders,
      { "x-app-id": "1000000001", "x-app-sign": "zz" },
      { authorization: "Bearer 04AAAA" },
      { authorization: "garbage" },
      { "x-app-id": "-1" },
      { "x-app-id": "99999999999999999999" },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ROUTES),
        id,
        rawBody,
        headerSets,
        fc.boolean(),
        fc.constantFrom(
          "application/json",
          "text/plain",
          "application/json; charset=utf-8",
          "application/x-www-form-urlencoded",
        ),
        fc.option(
          fc.constantFrom(
            "bytes=0-10",
            "bytes=-5",
            "bytes=999999999-",
            "bytes=5-1",
            "bytes=a-b",
            "items=0-1",
            "bytes=0-1,4-5",
          ),
        ),
        async (route, rid, body, headers, withSession, ctype, range) => {
          const h: Record<string, string> = { ...headers, "content-type": ctype };
          if (withSession) Object.assign(h, sessionHeaders);
          if (range) h.range = range;
          const res = await fetch(sim.url + route.path(rid), {
            method: route.method,
            headers: h,
            body: route.method === "POST" ? body : undefined,
          });
          const text = await res.text();
          expect(res.status, `${route.method} ${route.path(rid)} -> ${text.slice(0, 200)}`).toBeLessThan(500);
          const type = res.headers.get("content-type") ?? "";
          if (type.includes("application/json")) {
            const parsed = JSON.parse(text);
            expect(isEnvelope(parsed), text.slice(0, 300)).toBe(true);
          } else {
            // Only audio answers are not JSON on these routes.
            expect(type, text.slice(0, 200)).toMatch(/audio\/wav|^$/);
          }
        },
      ),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 400), seed: Number(process.env.FUZZ_SEED ?? 42) },
    );
    const health = await fetch(`${sim.url}/healthz`);
    expect(health.status).toBe(200);
  });
});
