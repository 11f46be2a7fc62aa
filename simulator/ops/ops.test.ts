import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXTENDED_COMMANDS, VENDOR_ROUTES } from "../../protocol/vendor-routes.ts";
import { call, session, testSimulator } from "../../test/sim.ts";
import type { Simulator } from "../app.ts";
import { COMMANDS } from "../content/commands/index.ts";

/** ktv_vendor_requests_total by route, summed over status (simulator/ never imports scenarios/). */
function parseRoutes(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^ktv_vendor_requests_total\{route="([^"]*)",status="\d+"\} (\d+)$/gm))
    out.set(m[1]!, (out.get(m[1]!) ?? 0) + Number(m[2]));
  return out;
}

describe("operations routes", () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await testSimulator();
  });
  afterAll(() => sim.close());

  it("healthz answers ok", async () => {
    const r = await call(sim.url, "GET", "/healthz");
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ ok: true });
  });

  it("documents every route of the wire contract in OpenAPI", async () => {
    const r = await call(sim.url, "GET", "/openapi.json");
    expect(r.status).toBe(200);
    const paths = Object.keys(r.body.paths);
    for (const p of [
      "/v1/music/init",
      "/v1/music/extended",
      "/v1/music/resource",
      "/v1/music/shared-resource",
      "/v1/music/lyrics/lrc",
      "/v1/music/lyrics/krc",
      "/v1/music/pitch",
      "/v1/music/download/{resource_id}",
      "/healthz",
      "/metrics",
      "/admin/songs/{song_id}/revoke",
      "/admin/songs/{song_id}/restore",
      "/admin/resources/{resource_id}/expire",
      "/admin/ledger",
      "/admin/reset",
    ]) {
      expect(paths, p).toContain(p);
    }
    // The request schemas are the validating ones: the extended route's body names `command`.
    const ext = r.body.paths["/v1/music/extended"].post;
    expect(JSON.stringify(ext.requestBody)).toContain("command");
    const docs = await fetch(`${sim.url}/docs`);
    expect(docs.headers.get("content-type")).toContain("text/html");
    expect(await docs.text()).toContain("openapi.json");
  });

  it("counts requests by route and envelope code in /metrics", async () => {
    const h = await session(sim.url, "metrics-user");
    await call(sim.url, "POST", "/v1/music/extended", { headers: h, body: { command: "", params: {} } });
    const text = await (await fetch(`${sim.url}/metrics`)).text();
    expect(text).toMatch(
      /ktv_requests_total\{route="\/v1\/music\/init",method="POST",status="200",code="0"\} [1-9]/,
    );
    expect(text).toMatch(
      /ktv_requests_total\{route="\/v1\/music\/extended",method="POST",status="\d+",code="1017000"\} 1/,
    );
    expect(text).toContain("ktv_request_duration_seconds_bucket");
    expect(text).toMatch(/ktv_ledger_rows \d+/);
  });

  it("counts each answer under its own labels when consecutive answers differ (the last key is reused)", async () => {
    const h = await session(sim.url, "alternating-user");
    const labelled = (text: string, route: string, status: number, code: string) =>
      Number(
        new RegExp(
          `^ktv_requests_total\\{route="${route}",method="POST",status="${status}",code="${code}"\\} (\\d+)$`,
          "m",
        ).exec(text)?.[1] ?? 0,
      );
    const vendor = (text: string, route: string, status: number) =>
      Number(
        new RegExp(`^ktv_vendor_requests_total\\{route="${route}",status="${status}"\\} (\\d+)$`, "m").exec(
          text,
        )?.[1] ?? 0,
      );
    const read = async () => {
      const t = await (await fetch(`${sim.url}/metrics`)).text();
      return [
        labelled(t, "/v1/music/extended", 200, "0"),
        labelled(t, "/v1/music/extended", 200, "1017000"),
        labelled(t, "/v1/music/extended", 401, "1017096"),
        vendor(t, "/search/song", 200),
        vendor(t, "/search/song", 401),
      ];
    };
    const ok = { command: "/search/song", params: { keyword: "love", page: 1 } };
    const before = await read();
    // ok, empty command (200 + 1017000), ok, no session (401), ok, ok, no session
    for (const [body, headers] of [
      [ok, h],
      [{ command: "", params: {} }, h],
      [ok, h],
      [ok, { ...h, "x-session": "nope" }],
      [ok, h],
      [ok, h],
      [ok, { ...h, "x-session": "nope" }],
    ] as const) {
      await call(sim.url, "POST", "/v1/music/extended", { headers, body });
    }
    const after = await read();
    expect(after.map((n, i) => n - before[i]!)).toEqual([4, 1, 2, 4, 2]);
  });

  it("counts vendor requests by vendor route, the names the clients count by", async () => {
    const h = await session(sim.url, "routes-user");
    const count = async () => parseRoutes(await (await fetch(`${sim.url}/metrics`)).text());
    const before = await count();
    await call(sim.url, "POST", "/v1/music/extended", {
      headers: h,
      body: { command: "/search/song", params: { keyword: "love", page: 1 } },
    });
    await call(sim.url, "POST", "/v1/music/extended", {
      headers: h,
      body: { command: "/tag/list", params: {} },
    });
    await call(sim.url, "POST", "/v1/music/extended", { headers: h, body: { command: "/nope", params: {} } });
    await call(sim.url, "GET", "/v1/music/lyrics/lrc?song_id=", { headers: h });
    await call(sim.url, "GET", "/healthz");
    const after = await count();
    const diff = (r: string) => (after.get(r) ?? 0) - (before.get(r) ?? 0);
    expect(diff("/search/song")).toBe(1);
    expect(diff("/tag/list")).toBe(1);
    expect(diff("sendExtendedRequest (other command)")).toBe(1);
    expect(diff("getLrcLyric")).toBe(1);
    // Only vendor routes: /healthz and /metrics are not counted here.
    for (const r of after.keys()) expect(VENDOR_ROUTES as readonly string[]).toContain(r);
  });

  it("names every extended command of the simulator in the shared route list", () => {
    expect([...COMMANDS.keys()].sort()).toEqual([...EXTENDED_COMMANDS].sort());
  });

  it("answers unknown routes and malformed bodies with envelopes", async () => {
    let r = await call(sim.url, "GET", "/nope");
    expect(r.status).toBe(404);
    expect(r.body.code).toBe(1017040);
    r = await call(sim.url, "POST", "/v1/music/init", {
      raw: "{not json",
      headers: { "x-app-id": "1000000001" },
    });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe(1017040);
    r = await call(sim.url, "POST", "/v1/music/init", {
      raw: JSON.stringify({ user_id: "x".repeat(200_000) }),
    });
    expect(r.status).toBe(413);
    expect(r.body.code).toBe(1017040);
  });
});
