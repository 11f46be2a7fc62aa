import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, session, testSimulator } from "../../test/sim.ts";
import type { Simulator } from "../app.ts";

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
