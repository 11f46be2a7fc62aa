import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { call, session } from "../../test/sim.ts";
import { type FaultRig, faultRig } from "./test-fixtures.ts";

// The admin fault API over real HTTP: read, replace (atomic, all errors listed), switch, reset, events.

const ISSUE_PROFILE = {
  faults: [
    { id: "err", kind: "error", code: 1017097, probability: 0.3, selector: { command: "/search/song" } },
    {
      id: "slow",
      kind: "latency",
      distribution: { type: "uniform", min: 0, max: 40 },
      probability: 0.5,
      selector: { command: "/search/song" },
    },
  ],
};

let rig: FaultRig;
let user: Record<string, string>;
const admin = (method: string, path: string, body?: unknown) => call(rig.adminUrl, method, path, { body });
const tagList = () =>
  call(rig.sim.url, "POST", "/v1/music/extended", {
    headers: user,
    body: { command: "/tag/list", params: { vendor_id: 0 } },
  });

beforeAll(async () => {
  rig = await faultRig();
  user = await session(rig.sim.url, "admin-tester");
});
afterAll(() => rig.close());
beforeEach(async () => {
  await admin("POST", "/admin/faults/reset");
});

describe("GET/PUT /admin/faults", () => {
  it("starts empty, takes the issue's example profile and gives it back with defaults", async () => {
    let r = await admin("GET", "/admin/faults");
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ code: 0, data: { faults: [] } });
    r = await admin("PUT", "/admin/faults", ISSUE_PROFILE);
    expect(r.status).toBe(200);
    expect(r.body.code).toBe(0);
    const expected = {
      faults: ISSUE_PROFILE.faults.map((f) => ({ ...f, enabled: true })),
    };
    expect(r.body.data).toEqual(expected);
    r = await admin("GET", "/admin/faults");
    expect(r.body.data).toEqual(expected);
  });

  it("refuses an invalid profile whole with 400 + 1017040 naming every error, and keeps the old one", async () => {
    await admin("PUT", "/admin/faults", ISSUE_PROFILE);
    const song = rig.sim.ctx.catalog.at(0).item.song_id;
    const r = await admin("PUT", "/admin/faults", {
      faults: [
        { id: "a", kind: "warp" },
        { id: "b", kind: "error", code: 1017097, probability: 1.5, from: -1 },
        {
          id: "c",
          kind: "latency",
          distribution: { type: "fixed", ms: 1 },
          selector: { song_ids: [song, "no-such"] },
        },
        { id: "a", kind: "outage" },
      ],
    });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe(1017040);
    expect(r.body.data).toBeNull();
    for (const part of [
      'faults[0].kind: unknown kind "warp"',
      "faults[1].probability: must be <= 1",
      "faults[1].from: must be >= 0",
      'faults[2].selector.song_ids[1]: unknown song id "no-such"',
      'faults[3].id: duplicate id "a"',
    ]) {
      expect(r.body.message).toContain(part);
    }
    expect((await admin("GET", "/admin/faults")).body.data.faults.map((f: { id: string }) => f.id)).toEqual([
      "err",
      "slow",
    ]);
  });

  it("answers malformed bodies with an envelope, never a 5xx", async () => {
    for (const raw of ["", "{", "[]", "null", '{"faults":"x"}']) {
      const r = await call(rig.adminUrl, "PUT", "/admin/faults", {
        raw,
        headers: { "content-type": "application/json" },
      });
      expect(r.status, raw).toBe(400);
      expect(r.body.code, raw).toBe(1017040);
    }
  });

  it("documents the profile schema in OpenAPI", async () => {
    const doc = (await call(rig.adminUrl, "GET", "/openapi.json")).body;
    const put = doc.paths["/admin/faults"].put;
    expect(put.tags).toEqual(["admin"]);
    const text = JSON.stringify(put.requestBody);
    for (const word of [
      "latency",
      "error",
      "outage",
      "lognormal",
      "pareto",
      "song_fraction",
      "count_scope",
    ]) {
      expect(text).toContain(word);
    }
  });

  it("is reachable from loopback only", async () => {
    const r = await rig.adminApp.inject({ method: "GET", url: "/admin/faults", remoteAddress: "10.0.0.9" });
    expect(r.statusCode).toBe(403);
    expect(r.json().code).toBe(1017040);
  });
});

describe("PATCH /admin/faults/:id and POST /admin/faults/reset", () => {
  it("switches one fault off and on", async () => {
    await admin("PUT", "/admin/faults", { faults: [{ id: "busy", kind: "error", code: 1017097 }] });
    expect((await tagList()).body.code).toBe(1017097);
    let r = await admin("PATCH", "/admin/faults/busy", { enabled: false });
    expect(r.body).toMatchObject({ code: 0, data: { id: "busy", enabled: false } });
    expect((await tagList()).body.code).toBe(0);
    r = await admin("PATCH", "/admin/faults/busy", { enabled: true });
    expect((await tagList()).body.code).toBe(1017097);
  });

  it("answers unknown ids with 404 + 1017034 and bad bodies with 400", async () => {
    let r = await admin("PATCH", "/admin/faults/ghost", { enabled: false });
    expect(r.status).toBe(404);
    expect(r.body.code).toBe(1017034);
    r = await admin("PATCH", "/admin/faults/ghost", { enabled: "no" });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe(1017040);
  });

  it("reset removes every fault", async () => {
    await admin("PUT", "/admin/faults", { faults: [{ id: "busy", kind: "error", code: 1017097 }] });
    const r = await admin("POST", "/admin/faults/reset");
    expect(r.body).toMatchObject({ code: 0, data: { reset: true } });
    expect((await admin("GET", "/admin/faults")).body.data.faults).toEqual([]);
    expect((await tagList()).body.code).toBe(0);
  });
});

describe("GET /admin/faults/events and /metrics", () => {
  it("streams injected faults as NDJSON, filtered by ?since=, and counts them in /metrics", async () => {
    await admin("PUT", "/admin/faults", { faults: [{ id: "evt", kind: "error", code: 1017097, every: 2 }] });
    for (let i = 0; i < 4; i++) await tagList();
    const res = await fetch(`${rig.adminUrl}/admin/faults/events`);
    expect(res.headers.get("content-type")).toMatch(/^application\/x-ndjson/);
    const lines = (await res.text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(lines.map((e) => e.request_key)).toEqual([
      "1000000001|admin-tester|POST /v1/music/extended|/tag/list#2",
      "1000000001|admin-tester|POST /v1/music/extended|/tag/list#4",
    ]);
    expect(lines[0]).toMatchObject({ fault_id: "evt", kind: "error", effect: { code: 1017097 } });
    expect(typeof lines[0].time).toBe("number");

    const later = await fetch(`${rig.adminUrl}/admin/faults/events?since=${lines[1].time + 1}`);
    expect(await later.text()).toBe("");
    const bad = await call(rig.adminUrl, "GET", "/admin/faults/events?since=yesterday");
    expect(bad.status).toBe(400);

    const metrics = await (await fetch(`${rig.sim.url}/metrics`)).text();
    expect(metrics).toMatch(/faults_injected_total\{fault_id="evt",kind="error"\} 2\n/);
  });
});
