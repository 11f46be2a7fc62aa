import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, session, testSimulator } from "../../test/sim.ts";
import type { Simulator } from "../app.ts";
import { manualClock } from "../clock.ts";
import { type AppConfig, DEV_APP } from "../options.ts";
import { statusesInSource } from "./error-statuses.ts";

// The OpenAPI document is true about errors: every route, crawled with bad inputs (no or wrong credentials,
// refused or unknown params, malformed, mistyped, oversized and mislabelled bodies, a cross-site Origin, an
// app over its rate limit, headers over node's limit) and a few real states (an expired, a revoked resource),
// answers only statuses /openapi.json declares for that route.

const LIMITED: AppConfig = {
  app_id: 1000000009,
  app_sign: "abcdef0123456789".repeat(4),
  token_secret: "abcdef0123456789abcdef0123456789",
  rate_limit_rps: 1,
};

type Doc = { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };

// The limiter never refills on a manual clock: the limited app's second request is always over its limit.
const clock = manualClock();
let sim: Simulator;
let doc: Doc;
let dev: Record<string, string>;

beforeAll(async () => {
  sim = await testSimulator({ apps: [DEV_APP, LIMITED], clock, bodyLimit: 64 * 1024 });
  doc = (await (await fetch(`${sim.url}/openapi.json`)).json()) as Doc;
  dev = await session(sim.url, "crawler");
});
afterAll(() => sim.close());

/** Status of a request whose headers exceed node's limit, over a raw socket (fetch may refuse to send it). */
function oversizedHeaders(method: string, path: string): Promise<number> {
  const { port } = new URL(sim.url);
  return new Promise((resolve, reject) => {
    const s = connect(Number(port), "127.0.0.1");
    let text = "";
    s.setEncoding("latin1");
    s.on("data", (d: string) => {
      text += d;
    });
    s.on("error", reject);
    s.on("close", () => resolve(Number(text.slice(9, 12))));
    s.on("connect", () =>
      s.write(`${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: ${"p".repeat(20_000)}\r\n\r\n`),
    );
  });
}

interface Probe {
  headers: Record<string, string>;
  query: string;
  body?: string;
  contentType?: string;
}

const BAD_QUERIES = [
  "",
  "?song_id=",
  "?song_id=nope&vendor_id=9",
  "?krc_token=garbage",
  "?resource_id=x1",
  "?limit=abc&since_id=-1&app_id=x",
  "?unknown=1",
];
const BAD_BODIES: { body: string; contentType: string }[] = [
  { body: "{not json", contentType: "application/json" },
  { body: "{}", contentType: "application/json" },
  { body: "[]", contentType: "application/json" },
  {
    body: '{"user_id":5,"room_id":7,"command":1,"song_id":null,"faults":3,"enabled":"no"}',
    contentType: "application/json",
  },
  {
    body: '{"user_id":"crawler","room_id":"r1","command":"/tag/list","params":{}}',
    contentType: "application/json",
  },
  { body: "hello", contentType: "text/plain" },
  { body: "<a/>", contentType: "application/xml" },
  { body: `{"pad":"${"x".repeat(70 * 1024)}"}`, contentType: "application/json" },
];

function headerSets(): Record<string, string>[] {
  const origin = { origin: "http://evil.example" };
  return [
    {},
    { "x-app-id": "1", "x-app-sign": "0".repeat(64) },
    { "x-app-id": String(DEV_APP.app_id), "x-app-sign": "f".repeat(64) },
    { "x-app-id": String(DEV_APP.app_id), "x-app-sign": DEV_APP.app_sign },
    { ...dev, "x-session": "s_nope" },
    { ...dev, authorization: "Bearer 04garbage" },
    dev,
    { ...dev, ...origin },
    { ...dev, range: "bytes=999999999-" },
  ];
}

describe("the OpenAPI document declares every status a route answers", () => {
  it("derives a handler's literal statuses from its source", () => {
    const handler = async (reply: { code(n: number): unknown }) => {
      if (Math.random() > 2) throw new Error("x, 999)");
      reply.code(304);
      // biome-ignore lint/correctness/noConstantCondition: the source is what is read, not run
      if (false) throw Object.assign(new Error(), { VendorError: 1 });
    };
    expect(statusesInSource(handler)).toEqual([304]);
    const vendor = () => {
      class VendorError extends Error {
        constructor(_c: number, _m?: string, _s?: number) {
          super();
        }
      }
      throw new VendorError(1017034, `unknown song_id ${"a, b"} (x)`, 404);
    };
    expect(statusesInSource(vendor)).toEqual([404]);
  });

  it("crawls every route with bad inputs and real states: no status the document leaves out", async () => {
    const seen = new Map<string, Set<number>>();
    const undeclared: string[] = [];
    const record = (method: string, template: string, status: number, what: string) => {
      const key = `${method} ${template}`;
      if (!seen.has(key)) seen.set(key, new Set());
      seen.get(key)!.add(status);
      const declared = doc.paths[template]?.[method.toLowerCase()]?.responses ?? {};
      if (!(String(status) in declared)) undeclared.push(`${key} answered ${status} (${what})`);
    };
    const send = async (method: string, path: string, p: Probe) => {
      const headers: Record<string, string> = { ...p.headers };
      if (p.contentType) headers["content-type"] = p.contentType;
      if (path.startsWith("/admin/") && method !== "GET") headers["x-ktv-admin"] = "1";
      const r = await fetch(sim.url + path + p.query, { method, headers, body: p.body });
      await r.arrayBuffer();
      return r.status;
    };

    for (const [template, ops] of Object.entries(doc.paths)) {
      if (template === "/v1/media") continue; // a WebSocket endpoint: its HTTP answer is crawled below
      for (const m of Object.keys(ops)) {
        const method = m.toUpperCase();
        const fills = template.includes("{") ? ["x1", "%E0%A4%A", "z".repeat(300)] : ["x1"];
        for (const fill of fills) {
          const path = template.replace(/\{[^}]+\}/g, fill);
          // Every bad input with good credentials; every credential problem with one input.
          for (const headers of headerSets()) {
            const queries = headers === dev ? BAD_QUERIES : BAD_QUERIES.slice(0, 1);
            const bodies = headers === dev ? BAD_BODIES : BAD_BODIES.slice(1, 2);
            if (method === "GET" || method === "HEAD") {
              for (const query of queries) {
                record(method, template, await send(method, path, { headers, query }), `${path}${query}`);
              }
            } else {
              for (const b of bodies) {
                const status = await send(method, path, { headers, query: "", ...b });
                record(method, template, status, `${path} ${b.contentType} ${b.body.slice(0, 30)}`);
              }
              record(method, template, await send(method, path, { headers, query: "" }), `${path} no body`);
            }
          }
          // Over the rate limit: the limited app's second call in the same (frozen) second.
          const limited = { "x-app-id": String(LIMITED.app_id), "x-app-sign": LIMITED.app_sign };
          for (let i = 0; i < 2; i++) {
            const body =
              method === "GET" || method === "HEAD" ? {} : { body: "{}", contentType: "application/json" };
            record(
              method,
              template,
              await send(method, path, { headers: limited, query: "", ...body }),
              "limited",
            );
          }
          record(method, template, await oversizedHeaders(method, path), "oversized headers");
        }
      }
    }

    // Real states of the download route: a resource of this session, expired, and a revoked song's. (The crawl
    // posted /admin/reset, which ends every session.)
    dev = await session(sim.url, "crawler");
    const song = (() => {
      for (let i = 0; i < sim.ctx.catalog.size; i++) {
        const f = sim.ctx.catalog.at(i);
        if (f.item.vendor_id === 0 && f.item.copyright.recording === 1) return f.item.song_id;
      }
      throw new Error("no song");
    })();
    const dl = "/v1/music/download/{resource_id}";
    for (const state of ["live", "range", "unsatisfiable", "expired", "revoked"] as const) {
      const r = await call(sim.url, "POST", "/v1/music/resource", {
        headers: dev,
        body: { song_id: song, resource_type: 0, billing_mode: 0, vendor_id: 0 },
      });
      expect(r.body.code).toBe(0);
      const id = r.body.data.resources[0].resource_id as string;
      if (state === "expired") sim.ctx.resources.expire(id);
      if (state === "revoked") sim.ctx.catalog.revoke(song);
      const range = { range: "bytes=0-9", unsatisfiable: "bytes=999999999-" } as Record<string, string>;
      const headers = range[state] ? { ...dev, range: range[state] } : dev;
      for (const method of ["GET", "HEAD"]) {
        const res = await fetch(`${sim.url}/v1/music/download/${encodeURIComponent(id)}`, {
          method,
          headers,
        });
        await res.arrayBuffer();
        record(method, dl, res.status, state);
      }
      if (state === "revoked") sim.ctx.catalog.restore(song);
    }
    const media = await fetch(`${sim.url}/v1/media`);
    await media.arrayBuffer();
    record("GET", "/v1/media", media.status, "plain GET");

    expect([...new Set(undeclared.map((u) => u.replace(/ \(.*$/, "")))]).toEqual([]);
    // The crawl reached the statuses it is meant to check, so it cannot pass by reaching nothing.
    const all = new Set([...seen.values()].flatMap((s) => [...s]));
    for (const s of [200, 206, 400, 401, 403, 404, 410, 413, 415, 416, 426, 429, 431]) {
      expect(all, `status ${s} seen somewhere`).toContain(s);
    }
  }, 300_000);
});
