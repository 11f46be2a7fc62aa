import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { manualClock } from "../clock.ts";
import { createFaultEngine, type FaultEngine, isFaultableRoute } from "./engine.ts";
import { FaultProfileError } from "./profile.ts";
import type { FaultRequest } from "./seam.ts";

const EXT = "POST /v1/music/extended";
const APP = 1000000001;

function req(over: Partial<FaultRequest> = {}): FaultRequest {
  return { route: EXT, command: "/search/song", app_id: APP, user_id: "u1", ...over };
}

function engine(faults: unknown[], extra: Record<string, unknown> = {}, seed = 1) {
  const clock = manualClock();
  const e = createFaultEngine({ seed, clock, profile: { faults, ...extra } });
  return { e, clock };
}

const err = (id: string, more: Record<string, unknown> = {}) => ({
  id,
  kind: "error",
  code: 1017097,
  ...more,
});
const hit = (e: FaultEngine, r: FaultRequest) => e.decide(r).vendorCode !== undefined;

/** How many of `n` requests by distinct users are hit. */
function hits(e: FaultEngine, n: number, over: (i: number) => Partial<FaultRequest> = () => ({})): number {
  let c = 0;
  for (let i = 0; i < n; i++) if (hit(e, req({ user_id: `u${i}`, ...over(i) }))) c++;
  return c;
}

describe("fault engine: selection", () => {
  it("serves everything normally without a profile, and is recognisable as an engine", () => {
    const e = createFaultEngine({ seed: 1, clock: manualClock() });
    expect(e.decide(req())).toEqual({});
    expect(e.getProfile()).toEqual({ faults: [] });
  });

  it("never faults admin or ops routes, so an outage can always be switched off", () => {
    const { e } = engine([{ id: "down", kind: "outage" }]);
    for (const route of ["PUT /admin/faults", "GET /metrics", "GET /healthz", "GET /openapi.json"]) {
      expect(isFaultableRoute(route)).toBe(false);
      expect(e.decide(req({ route, command: undefined }))).toEqual({});
    }
    expect(e.decide(req({ route: "GET /v1/music/lyrics/lrc", command: undefined }))).toEqual({
      vendorCode: 1017098,
    });
  });

  it("matches route ids exactly and bare paths under any method", () => {
    const { e } = engine([err("a", { selector: { route: "POST /v1/music/resource" } })]);
    expect(hit(e, req({ route: "POST /v1/music/resource" }))).toBe(true);
    expect(hit(e, req({ route: "GET /v1/music/resource" }))).toBe(false);
    expect(hit(e, req())).toBe(false);
    const { e: e2 } = engine([err("a", { selector: { route: "/v1/music/download/:resource_id" } })]);
    expect(hit(e2, req({ route: "GET /v1/music/download/:resource_id" }))).toBe(true);
    expect(hit(e2, req({ route: "HEAD /v1/music/download/:resource_id" }))).toBe(true);
    expect(hit(e2, req({ route: "GET /v1/music/download" }))).toBe(false);
  });

  it("matches command, app, vendor, resource type and song ids; a field the request lacks does not match", () => {
    const { e } = engine([
      err("a", {
        selector: {
          command: "/search/song",
          app_id: APP,
          vendor_id: 2,
          resource_type: 1,
          song_ids: ["s1", "s2"],
        },
      }),
    ]);
    const full = { vendor_id: 2, resource_type: 1, song_id: "s2" };
    expect(hit(e, req(full))).toBe(true);
    expect(hit(e, req({ ...full, command: "/tag/list" }))).toBe(false);
    expect(hit(e, req({ ...full, app_id: 7 }))).toBe(false);
    expect(hit(e, req({ ...full, vendor_id: 0 }))).toBe(false);
    expect(hit(e, req({ ...full, resource_type: 0 }))).toBe(false);
    expect(hit(e, req({ ...full, song_id: "s3" }))).toBe(false);
    expect(hit(e, req({ ...full, song_id: undefined }))).toBe(false);
    expect(hit(e, req({ ...full, vendor_id: undefined }))).toBe(false);
  });

  it("selects a stable fraction of songs, users and rooms", () => {
    const n = 3000;
    const sd = Math.sqrt(n * 0.2 * 0.8);
    for (const [field, pick] of [
      ["song_fraction", (i: number) => ({ song_id: `song-${i}` })],
      ["user_fraction", (i: number) => ({ user_id: `user-${i}` })],
      ["room_fraction", (i: number) => ({ room_id: `room-${i}` })],
    ] as const) {
      const { e } = engine([err("f", { selector: { [field]: 0.2 } })]);
      const first = Array.from({ length: n }, (_, i) => hit(e, req(pick(i))));
      const again = Array.from({ length: n }, (_, i) => hit(e, req(pick(i))));
      // Membership is a property of the id, not of the request: asking again gives the same set.
      expect(again, field).toEqual(first);
      expect(Math.abs(first.filter(Boolean).length - n * 0.2), field).toBeLessThan(4 * sd);
      // Requests without that id are never in a fraction.
      expect(hit(e, req({ song_id: undefined, room_id: undefined, user_id: undefined }))).toBe(false);
    }
    const { e: none } = engine([err("f", { selector: { song_fraction: 0 } })]);
    expect(hits(none, 500, (i) => ({ song_id: `s${i}` }))).toBe(0);
    const { e: all } = engine([err("f", { selector: { song_fraction: 1 } })]);
    expect(hits(all, 500, (i) => ({ song_id: `s${i}` }))).toBe(500);
  });
});

describe("fault engine: windows and count limits", () => {
  it("applies a fault only inside [from, until) after simulator start", () => {
    const { e, clock } = engine([err("w", { from: 1000, until: 2000 })]);
    expect(hit(e, req())).toBe(false);
    clock.advance(999);
    expect(hit(e, req())).toBe(false);
    clock.advance(1);
    expect(hit(e, req())).toBe(true);
    clock.advance(999);
    expect(hit(e, req())).toBe(true);
    clock.advance(1);
    expect(hit(e, req())).toBe(false);
  });

  it("counts the window from when the profile was applied with time_base profile", () => {
    const clock = manualClock();
    const e = createFaultEngine({ seed: 1, clock });
    clock.advance(10_000);
    e.replace({ time_base: "profile", faults: [err("w", { from: 100, until: 200 })] });
    expect(hit(e, req())).toBe(false);
    clock.advance(150);
    expect(hit(e, req())).toBe(true);
    // The same profile on the simulator's time base is long over.
    e.replace({ faults: [err("w", { from: 100, until: 200 })] });
    expect(hit(e, req())).toBe(false);
  });

  it("first N: only the first N matching requests", () => {
    const { e } = engine([err("f", { first: 3, selector: { command: "/search/song" } })]);
    const seen = Array.from({ length: 6 }, (_, i) =>
      hit(e, req({ command: i % 2 ? "/tag/list" : "/search/song" })),
    );
    // Non-matching requests (odd) do not count; the 4th matching one (index 6) would be past the limit.
    expect(seen).toEqual([true, false, true, false, true, false]);
    expect(hit(e, req())).toBe(false);
  });

  it("every N: every Nth matching request", () => {
    const { e } = engine([err("f", { every: 3 })]);
    expect(Array.from({ length: 9 }, () => hit(e, req()))).toEqual([
      false,
      false,
      true,
      false,
      false,
      true,
      false,
      false,
      true,
    ]);
  });

  it("max N: at most N injections, counted after the probability roll", () => {
    const { e } = engine([err("f", { max: 5, probability: 0.5 })]);
    const seen = Array.from({ length: 200 }, (_, i) => hit(e, req({ user_id: `u${i}` })));
    expect(seen.filter(Boolean)).toHaveLength(5);
    // With p = 0.5 the five hits are spread over more than the first five requests.
    expect(seen.lastIndexOf(true)).toBeGreaterThan(4);
  });

  it("count_scope user counts per app+user", () => {
    const { e } = engine([err("f", { first: 2, count_scope: "user" })]);
    const a = Array.from({ length: 3 }, () => hit(e, req({ user_id: "a" })));
    const b = Array.from({ length: 3 }, () => hit(e, req({ user_id: "b" })));
    expect(a).toEqual([true, true, false]);
    expect(b).toEqual([true, true, false]);
  });
});

describe("fault engine: composition", () => {
  it("adds latencies, lets the first answering fault win and logs only what was injected", () => {
    const { e } = engine([
      { id: "l1", kind: "latency", distribution: { type: "fixed", ms: 10 } },
      err("e1", { code: 1017010 }),
      { id: "l2", kind: "latency", distribution: { type: "fixed", ms: 15 } },
      { id: "o1", kind: "outage", http_status: 503 },
    ]);
    expect(e.decide(req())).toEqual({ delayMs: 25, vendorCode: 1017010 });
    expect(e.events().map((x) => [x.fault_id, x.effect])).toEqual([
      ["l1", { delay_ms: 10 }],
      ["e1", { code: 1017010 }],
      ["l2", { delay_ms: 15 }],
    ]);
  });

  it("maps error answers: status alone carries the vendor's reading of it, drop drops", () => {
    const one = (f: Record<string, unknown>) => engine([{ id: "x", kind: "error", ...f }]).e.decide(req());
    expect(one({ http_status: 429 })).toEqual({ httpStatus: 429, vendorCode: 1017097 });
    expect(one({ http_status: 500 })).toEqual({ httpStatus: 500, vendorCode: 1017099 });
    expect(one({ http_status: 503 })).toEqual({ httpStatus: 503, vendorCode: 1017098 });
    expect(one({ http_status: 503, code: 1017010 })).toEqual({ httpStatus: 503, vendorCode: 1017010 });
    expect(one({ drop: true })).toEqual({ dropConnection: true });
    expect(engine([{ id: "o", kind: "outage" }]).e.decide(req())).toEqual({ vendorCode: 1017098 });
    expect(engine([{ id: "o", kind: "outage", http_status: 503 }]).e.decide(req())).toEqual({
      vendorCode: 1017098,
      httpStatus: 503,
    });
  });

  it("records request keys app|user|route|command#n and counts injections in faults_injected_total", async () => {
    const registry = new Registry();
    const clock = manualClock();
    const e = createFaultEngine({ seed: 1, clock, registry, profile: { faults: [err("e", { every: 2 })] } });
    for (let i = 0; i < 4; i++) e.decide(req());
    e.decide(req({ route: "POST /v1/music/init", command: undefined, user_id: undefined }));
    e.decide(req({ route: "POST /v1/music/init", command: undefined, user_id: undefined }));
    expect(e.events().map((x) => x.request_key)).toEqual([
      `${APP}|u1|${EXT}|/search/song#2`,
      `${APP}|u1|${EXT}|/search/song#4`,
      `${APP}|-|POST /v1/music/init#2`,
    ]);
    expect(e.events()[0]).toMatchObject({
      seq: 1,
      time: clock.now(),
      fault_id: "e",
      kind: "error",
      route: `${EXT} /search/song`,
    });
    const text = await registry.metrics();
    expect(text).toContain('faults_injected_total{fault_id="e",kind="error"} 3');
  });
});

describe("fault engine: determinism", () => {
  const PROFILE = {
    faults: [
      err("err", { probability: 0.3, selector: { command: "/search/song" } }),
      {
        id: "slow",
        kind: "latency",
        distribution: { type: "lognormal", median: 20, sigma: 1 },
        probability: 0.5,
      },
      {
        id: "tail",
        kind: "latency",
        distribution: { type: "pareto", scale: 5, shape: 2 },
        selector: { user_fraction: 0.3 },
      },
      {
        id: "busy",
        kind: "error",
        http_status: 429,
        probability: 0.1,
        selector: { route: "POST /v1/music/resource" },
      },
    ],
  };

  /** Every user's own requests, in that user's order. */
  function workload(): FaultRequest[][] {
    const routes = [
      { route: EXT, command: "/search/song" },
      { route: EXT, command: "/tag/list" },
      { route: "POST /v1/music/resource", song_id: "s1" },
    ];
    return Array.from({ length: 20 }, (_, u) =>
      Array.from({ length: 30 }, (_, i) =>
        req({ user_id: `user-${u}`, command: undefined, ...routes[(i * 7 + u) % 3] }),
      ),
    );
  }

  /** Interleaves users' queues in an order chosen by `pick`, keeping each user's own order. */
  function interleave(
    queues: FaultRequest[][],
    pick: (live: number[], step: number) => number,
  ): FaultRequest[] {
    const q = queues.map((x) => [...x]);
    const out: FaultRequest[] = [];
    for (let step = 0; out.length < queues.flat().length; step++) {
      const live = q.map((x, i) => (x.length ? i : -1)).filter((i) => i >= 0);
      out.push(q[pick(live, step)]!.shift()!);
    }
    return out;
  }

  function run(order: FaultRequest[], seed: number) {
    const clock = manualClock();
    const e = createFaultEngine({ seed, clock, profile: PROFILE });
    for (const r of order) e.decide(r);
    return e
      .events()
      .map((x) => `${x.request_key} ${x.fault_id} ${JSON.stringify(x.effect)}`)
      .sort();
  }

  it("gives every request the same decisions whatever the interleaving of users", () => {
    const users = workload();
    const userMajor = interleave(users, (live) => live[0]!);
    let x = 12345;
    const shuffled = interleave(users, (live) => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return live[x % live.length]!;
    });
    const reversed = interleave(users, (live) => live[live.length - 1]!);
    expect(shuffled).not.toEqual(userMajor);
    const a = run(userMajor, 7);
    expect(a.length).toBeGreaterThan(100);
    expect(run(shuffled, 7)).toEqual(a);
    expect(run(reversed, 7)).toEqual(a);
    // And the seed matters: another seed, other decisions.
    expect(run(userMajor, 8)).not.toEqual(a);
  });

  it("keeps a fault's latency sample when its probability changes (draw 0 is the roll)", () => {
    const at = (p: number) =>
      engine([
        { id: "s", kind: "latency", probability: p, distribution: { type: "uniform", min: 0, max: 100 } },
      ]).e;
    const full = at(1);
    const half = at(0.5);
    let same = 0;
    for (let i = 0; i < 200; i++) {
      const r = req({ user_id: `u${i}` });
      const a = full.decide(r).delayMs;
      const b = half.decide(r).delayMs;
      if (b !== undefined) {
        expect(b).toBe(a);
        same++;
      }
    }
    expect(same).toBeGreaterThan(50);
  });
});

describe("fault engine: runtime control", () => {
  it("refuses an invalid replacement whole and keeps the old profile active", () => {
    const { e } = engine([err("old")]);
    const before = e.getProfile();
    expect(() => e.replace({ faults: [err("new"), { id: "bad", kind: "latency" }] })).toThrow(
      FaultProfileError,
    );
    expect(e.getProfile()).toBe(before);
    expect(e.decide(req())).toEqual({ vendorCode: 1017097 });
    expect(e.events().map((x) => x.fault_id)).toEqual(["old"]);
  });

  it("swaps the whole profile at once: a decision is all old or all new", () => {
    const both = { faults: [{ id: "l", kind: "latency", distribution: { type: "fixed", ms: 5 } }, err("e")] };
    const neither = {
      faults: [{ id: "other", kind: "error", code: 1017010, selector: { command: "/nothing" } }],
    };
    const { e } = engine(both.faults);
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      if (i % 3 === 0) e.replace(i % 2 ? both : neither);
      seen.add(JSON.stringify(e.decide(req({ user_id: `u${i}` }))));
    }
    expect([...seen].sort()).toEqual(['{"delayMs":5,"vendorCode":1017097}', "{}"]);
  });

  it("enables and disables one fault without touching the others or their counts", () => {
    const { e } = engine([
      err("a", { first: 3 }),
      { id: "l", kind: "latency", distribution: { type: "fixed", ms: 1 } },
    ]);
    expect(e.decide(req())).toEqual({ delayMs: 1, vendorCode: 1017097 });
    expect(e.setEnabled("a", false)).toMatchObject({ id: "a", enabled: false });
    expect(e.getProfile().faults.map((f) => f.enabled)).toEqual([false, true]);
    expect(e.decide(req())).toEqual({ delayMs: 1 });
    e.setEnabled("a", true);
    // Two of its three "first" requests are left: the disabled request was not counted.
    expect([hit(e, req()), hit(e, req()), hit(e, req())]).toEqual([true, true, false]);
    expect(e.setEnabled("nope", false)).toBeUndefined();
  });

  it("reset removes all faults, events and request sequences", () => {
    const { e } = engine([err("a")]);
    e.decide(req());
    e.decide(req());
    expect(e.events().at(-1)?.request_key).toMatch(/#2$/);
    e.reset();
    expect(e.getProfile().faults).toEqual([]);
    expect(e.events()).toEqual([]);
    expect(e.decide(req())).toEqual({});
    e.replace({ faults: [err("a")] });
    e.decide(req());
    expect(e.events()[0]!.request_key).toMatch(/#2$/);
    e.reset();
    e.replace({ faults: [err("a")] });
    e.decide(req());
    expect(e.events()[0]!.request_key).toMatch(/#1$/);
  });

  it("refuses an invalid start-up profile with every error", () => {
    expect(() =>
      createFaultEngine({ seed: 1, clock: manualClock(), profile: { faults: [{ id: "x", kind: "?" }] } }),
    ).toThrow(/unknown kind "\?"/);
  });

  it("refuses unknown song ids against the catalog it was given", () => {
    const catalog = { get: (id: string) => (id === "known" ? {} : undefined) } as never;
    const e = createFaultEngine({ seed: 1, clock: manualClock(), catalog });
    expect(() => e.replace({ faults: [err("a", { selector: { song_ids: ["known", "ghost"] } })] })).toThrow(
      /song_ids\[1\]: unknown song id "ghost"/,
    );
    e.replace({ faults: [err("a", { selector: { song_ids: ["known"] } })] });
    expect(hit(e, req({ song_id: "known" }))).toBe(true);
  });

  it("keeps the event log bounded and filters it by time", () => {
    const clock = manualClock();
    const e = createFaultEngine({ seed: 1, clock, eventCapacity: 3, profile: { faults: [err("a")] } });
    for (let i = 0; i < 5; i++) {
      e.decide(req());
      clock.advance(10);
    }
    expect(e.events().map((x) => x.seq)).toEqual([3, 4, 5]);
    expect(e.eventsDropped).toBe(2);
    expect(e.events(clock.now() - 20).map((x) => x.seq)).toEqual([4, 5]);
    expect(e.events(clock.now())).toEqual([]);
  });
});
