import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, devHeaders, rawRequest, session, testSimulator } from "../../test/sim.ts";
import type { Simulator } from "../app.ts";
import { isLoopback, isLoopbackHost } from "./loopback.ts";

let sim: Simulator;

const raw = (method: string, path: string, headers: Record<string, string>) =>
  rawRequest({ url: `${sim.url}${path}`, method, headers });

describe("admin access", () => {
  it("knows loopback addresses", () => {
    for (const a of ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"]) expect(isLoopback(a)).toBe(true);
    for (const a of ["10.0.0.5", "192.168.1.2", "::ffff:10.0.0.1", "fe80::1", "", undefined, "1127.0.0.1"]) {
      expect(isLoopback(a)).toBe(false);
    }
  });

  beforeAll(async () => {
    sim = await testSimulator();
  });
  afterAll(() => sim.close());

  it("refuses admin routes from a non-loopback address with 403 and an envelope", async () => {
    const r = await sim.app.inject({ method: "GET", url: "/admin/ledger", remoteAddress: "10.1.2.3" });
    expect(r.statusCode).toBe(403);
    const body = r.json();
    expect(body.code).toBe(1017040);
    expect(body.data).toBeNull();
    const ok = await sim.app.inject({ method: "GET", url: "/admin/ledger", remoteAddress: "127.0.0.1" });
    expect(ok.statusCode).toBe(200);
  });

  it("refuses a web page: a cross-origin Origin, or a Host that is not a loopback name (DNS rebinding)", async () => {
    const song = sim.ctx.catalog.at(1).item.song_id;
    const port = new URL(sim.url).port;
    // What a browser sends for a page at another origin posting a "simple" form to the simulator.
    const page = await raw("POST", `/admin/songs/${song}/revoke`, {
      origin: "http://evil.example",
      "content-type": "text/plain",
    });
    expect(page.status).toBe(403);
    expect(JSON.parse(page.body)).toMatchObject({ code: 1017040, data: null });
    // A sandboxed page's "null" origin, and another port of this machine, are other origins too.
    expect((await raw("POST", `/admin/songs/${song}/revoke`, { origin: "null" })).status).toBe(403);
    expect((await raw("POST", "/admin/faults/reset", { origin: "http://127.0.0.1:1" })).status).toBe(403);
    // DNS rebinding: the page's own name resolves to 127.0.0.1, so the browser calls it same-origin.
    const rebound = await raw("POST", `/admin/songs/${song}/revoke`, {
      host: `evil.example:${port}`,
      origin: `http://evil.example:${port}`,
    });
    expect(rebound.status).toBe(403);
    expect(rebound.body).toContain("loopback Host");
    expect(sim.ctx.catalog.isRevoked(song)).toBe(false);
    // The simulator's own page origin and plain clients (no Origin) are served, by any loopback name.
    const allowed: Record<string, string>[] = [
      { origin: `http://127.0.0.1:${port}` },
      {},
      { host: `localhost:${port}` },
      { host: `[::1]:${port}` },
    ];
    for (const headers of allowed) {
      expect((await raw("GET", "/admin/ledger", headers)).status).toBe(200);
    }
    expect(
      (await raw("GET", "/healthz", { host: "evil.example", origin: "http://evil.example" })).status,
    ).toBe(200);
  });

  it("refuses a state change without a non-simple marker, even same-origin; JSON or x-ktv-admin passes", async () => {
    const song = sim.ctx.catalog.at(2).item.song_id;
    const port = new URL(sim.url).port;
    // What a page at the simulator's own origin (/docs) could send without a CORS preflight.
    for (const headers of [
      { origin: `http://127.0.0.1:${port}`, "content-type": "text/plain" },
      { origin: `http://127.0.0.1:${port}`, "content-type": "application/x-www-form-urlencoded" },
      { "content-type": "multipart/form-data; boundary=x" },
      {},
    ] as Record<string, string>[]) {
      for (const path of [`/admin/songs/${song}/revoke`, "/admin/reset", "/admin/faults/reset"]) {
        const r = await raw("POST", path, headers);
        expect(r.status, `${path} ${JSON.stringify(headers)}`).toBe(403);
        expect(JSON.parse(r.body)).toMatchObject({ code: 1017040, data: null });
        expect(r.body).toContain("x-ktv-admin");
      }
    }
    expect(sim.ctx.catalog.isRevoked(song)).toBe(false);
    // Reads need no marker; a state change with the marker header, or with a JSON body, is served.
    expect((await raw("GET", "/admin/faults", {})).status).toBe(200);
    expect((await raw("POST", `/admin/songs/${song}/revoke`, { "x-ktv-admin": "1" })).status).toBe(200);
    expect(sim.ctx.catalog.isRevoked(song)).toBe(true);
    const put = await fetch(`${sim.url}/admin/faults`, {
      method: "PUT",
      headers: { "content-type": "application/json; charset=utf-8" },
      body: JSON.stringify({ faults: [] }),
    });
    expect(put.status).toBe(200);
    expect((await raw("POST", `/admin/songs/${song}/restore`, { "x-ktv-admin": "" })).status).toBe(200);
    expect(sim.ctx.catalog.isRevoked(song)).toBe(false);
  });

  it("knows loopback Host names", () => {
    for (const h of ["127.0.0.1:7400", "127.0.0.1", "localhost:1", "LOCALHOST", "[::1]:7400", "[::1]"]) {
      expect(isLoopbackHost(h)).toBe(true);
    }
    for (const h of [
      "evil.example:7400",
      "127.0.0.1.evil.example",
      "localhost.evil.example",
      "",
      undefined,
    ]) {
      expect(isLoopbackHost(h)).toBe(false);
    }
  });

  it("serves the ledger over real HTTP from loopback", async () => {
    const r = await call(sim.url, "GET", "/admin/ledger");
    expect(r.status).toBe(200);
    expect(r.body.code).toBe(0);
    expect(r.body.data.totals.billable).toBe(r.body.data.rows.length);
  });

  it("revokes and restores a song; unknown songs and resources are 404 envelopes", async () => {
    const song = sim.ctx.catalog.at(0).item.song_id;
    let r = await call(sim.url, "POST", `/admin/songs/${song}/revoke`);
    expect(r.body).toMatchObject({ code: 0, data: { song_id: song, revoked: true } });
    expect(sim.ctx.catalog.isRevoked(song)).toBe(true);
    r = await call(sim.url, "POST", `/admin/songs/${song}/restore`);
    expect(sim.ctx.catalog.isRevoked(song)).toBe(false);
    r = await call(sim.url, "POST", "/admin/songs/nope/revoke");
    expect(r.status).toBe(404);
    expect(r.body.code).toBe(1017034);
    r = await call(sim.url, "POST", "/admin/resources/z_nope/expire");
    expect(r.status).toBe(404);
  });

  it("reset clears sessions, revocations and the ledger", async () => {
    const h = await session(sim.url, "reset-user");
    const song = sim.ctx.catalog.at(1).item.song_id;
    await call(sim.url, "POST", `/admin/songs/${song}/revoke`);
    const r = await call(sim.url, "POST", "/admin/reset");
    expect(r.body.code).toBe(0);
    expect(sim.ctx.catalog.isRevoked(song)).toBe(false);
    expect(sim.ctx.ledger.count()).toBe(0);
    // The old session is gone: the module must be initialised again.
    const after = await call(sim.url, "POST", "/v1/music/extended", {
      headers: h,
      body: { command: "/tag/list", params: { vendor_id: 0 } },
    });
    expect(after.status).toBe(401);
    expect(after.body.code).toBe(1017096);
    expect(devHeaders["x-app-id"]).toBeDefined();
  });
});
