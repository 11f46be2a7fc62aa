import { describe, expect, it } from "vitest";
import { manualClock } from "../clock.ts";
import type { ResourceRecord } from "../resources/types.ts";
import { createFaultEngine, requestStream } from "./engine.ts";

// The engine's follow-up decisions and states, without HTTP: TTLs for issued resources, sweeps when an expiry
// fault starts, the revocation overlay the catalog reads, the release of download plans when a fault goes,
// and whom a cut download is blamed on.

type Rec = Pick<
  ResourceRecord,
  | "resource_id"
  | "app_id"
  | "user_id"
  | "vendor_id"
  | "song_id"
  | "resource_type"
  | "room_id"
  | "forced_expired"
  | "via_share"
  | "expires_at"
>;

function rec(i: number, over: Partial<Rec> = {}): Rec {
  return {
    resource_id: `r${i}`,
    app_id: 1,
    user_id: `u${i % 7}`,
    vendor_id: 0,
    song_id: `s${i}`,
    resource_type: (i % 4) as Rec["resource_type"],
    room_id: null,
    forced_expired: false,
    via_share: false,
    expires_at: Number.POSITIVE_INFINITY,
    ...over,
  };
}

/** A store of the given records, as the engine sees one. */
function store(recs: Rec[]) {
  return {
    all: () => recs.values() as IterableIterator<ResourceRecord>,
    isExpired: (r: ResourceRecord, now: number) => r.forced_expired || now >= r.expires_at,
  };
}

const DL = "GET /v1/music/download/:resource_id";
const ISSUE = "POST /v1/music/resource";

describe("issue: TTL of resources issued while an expiry fault is active", () => {
  it("takes the first hitting fault in profile order, under the issuing request's key", () => {
    const e = createFaultEngine({
      seed: 1,
      clock: manualClock(),
      profile: {
        faults: [
          { id: "clips", kind: "expiry", ttl_ms: 1000, selector: { resource_type: 2 } },
          { id: "all", kind: "expiry", ttl_ms: 5000 },
        ],
      },
    });
    expect(e.issueTtl("k1", ISSUE, rec(2))).toBe(1000);
    expect(e.issueTtl("k2", ISSUE, rec(1))).toBe(5000);
    expect(e.events().map((x) => [x.fault_id, x.request_key, x.effect])).toEqual([
      ["clips", "k1", { ttl_ms: 1000 }],
      ["all", "k2", { ttl_ms: 5000 }],
    ]);
  });

  it("leaves the default without an active fault, and keys its own request stream when given no key", () => {
    const clock = manualClock();
    const e = createFaultEngine({ seed: 1, clock });
    expect(e.issueTtl(undefined, ISSUE, rec(1))).toBeUndefined();
    e.replace({ faults: [{ id: "t", kind: "expiry", ttl_ms: 7, from: 1000 }] });
    expect(e.issueTtl(undefined, ISSUE, rec(1))).toBeUndefined();
    clock.advance(1000);
    expect(e.issueTtl(undefined, ISSUE, rec(1))).toBe(7);
    expect(e.events()[0]!.request_key).toBe(`1|u1|${ISSUE}#3`);
  });
});

describe("sweep: existing resources expire when an expiry fault becomes active", () => {
  it("at apply, at enable and when the window opens; selected, unexpired resources only", () => {
    const clock = manualClock();
    const recs = Array.from({ length: 12 }, (_, i) => rec(i));
    recs[2]!.expires_at = clock.now() - 1;
    const e = createFaultEngine({ seed: 1, clock, resources: store(recs) });
    e.replace({
      faults: [{ id: "x", kind: "expiry", expire_existing: true, selector: { resource_type: 2 } }],
    });
    expect(recs.filter((r) => r.forced_expired).map((r) => r.resource_id)).toEqual(["r6", "r10"]);
    expect(e.events().map((x) => [x.route, x.request_key])).toEqual([
      ["activation", "resource:1|u6|0|s6|2"],
      ["activation", "resource:1|u3|0|s10|2"],
    ]);
    // Disable, issue more, enable: a new start sweeps again.
    e.setEnabled("x", false);
    recs.push(rec(14));
    expect(recs.at(-1)!.forced_expired).toBe(false);
    e.setEnabled("x", true);
    expect(recs.at(-1)!.forced_expired).toBe(true);
    // A window: nothing until it opens, then the sweep happens on the next question the engine is asked.
    recs.push(rec(18));
    e.replace({ faults: [{ id: "y", kind: "expiry", expire_existing: true, from: 5_000 }] });
    expect(recs.at(-1)!.forced_expired).toBe(false);
    clock.advance(5_000);
    e.decide({ route: "POST /v1/music/extended", command: "/tag/list" });
    expect(recs.at(-1)!.forced_expired).toBe(true);
  });

  it("rolls per resource identity, so the same resources go whatever order they were issued in", () => {
    const profile = { faults: [{ id: "half", kind: "expiry", expire_existing: true, probability: 0.5 }] };
    const sweep = (order: number[]) => {
      const recs = order.map((i) => rec(i));
      createFaultEngine({
        seed: 9,
        clock: manualClock(),
        resources: store(recs),
        profile: undefined,
      }).replace(profile);
      return recs
        .filter((r) => r.forced_expired)
        .map((r) => r.resource_id)
        .sort();
    };
    const ids = Array.from({ length: 400 }, (_, i) => i);
    const forward = sweep(ids);
    expect(Math.abs(forward.length - 200)).toBeLessThan(4 * Math.sqrt(400 * 0.25));
    expect(sweep([...ids].reverse())).toEqual(forward);
  });

  it("honours max: at most N resources expire", () => {
    const recs = Array.from({ length: 20 }, (_, i) => rec(i));
    const e = createFaultEngine({ seed: 1, clock: manualClock(), resources: store(recs) });
    e.replace({ faults: [{ id: "few", kind: "expiry", expire_existing: true, max: 3 }] });
    expect(recs.filter((r) => r.forced_expired)).toHaveLength(3);
  });
});

describe("revocation overlay", () => {
  it("is version 0 until a revocation is in effect, and changes whenever the revoked set may have", () => {
    const clock = manualClock();
    const e = createFaultEngine({ seed: 1, clock });
    const o = e.revocations;
    expect(o.version()).toBe(0);
    e.replace({
      faults: [{ id: "r", kind: "revocation", selector: { song_ids: ["a", "b"] }, from: 100, until: 200 }],
    });
    expect(o.version()).toBe(0);
    clock.advance(100);
    const v1 = o.version();
    expect(v1).not.toBe(0);
    expect([o.level("a", 0), o.level("c", 0)]).toEqual(["all", "none"]);
    expect(o.version()).toBe(v1);
    e.setEnabled("r", false);
    expect(o.version()).toBe(0);
    e.setEnabled("r", true);
    const v2 = o.version();
    expect(v2).not.toBe(0);
    expect(v2).not.toBe(v1);
    clock.advance(100);
    expect(o.version()).toBe(0);
    expect(e.events().map((x) => [x.fault_id, x.request_key, x.effect])).toEqual([
      ["r", "activation#1", { revoked: "all" }],
      ["r", "activation#2", { revoked: "all" }],
    ]);
  });

  it("follows a clock set back across a window edge", () => {
    const clock = manualClock();
    const e = createFaultEngine({
      seed: 1,
      clock,
      profile: {
        faults: [{ id: "r", kind: "revocation", selector: { song_ids: ["a"] }, from: 100, until: 200 }],
      },
    });
    clock.advance(150);
    expect(e.revocations.version()).not.toBe(0);
    clock.set(clock.startedAt + 50);
    expect(e.revocations.version()).toBe(0);
  });

  it("matches songs by id, fraction and vendor; a full revocation outranks a listen-only one", () => {
    const e = createFaultEngine({
      seed: 1,
      clock: manualClock(),
      profile: {
        faults: [
          { id: "lo", kind: "revocation", listen_only: true, selector: { vendor_id: 1 } },
          { id: "all", kind: "revocation", selector: { song_ids: ["x"], vendor_id: 1 } },
        ],
      },
    });
    const o = e.revocations;
    expect([o.level("x", 1), o.level("y", 1), o.level("x", 0)]).toEqual(["all", "listen_only", "none"]);
    e.reset();
    expect(o.version()).toBe(0);
  });
});

describe("download plans", () => {
  const cdn = { id: "slow", kind: "cdn", stall: { after_bytes: 10, duration: { type: "fixed", ms: 5 } } };

  it("combine every hitting fault; an expiry on use ends the list", () => {
    const r = rec(1);
    const e = createFaultEngine({
      seed: 1,
      clock: manualClock(),
      profile: {
        faults: [
          { id: "a", kind: "cdn", first_byte: { type: "fixed", ms: 3 }, reset_after_bytes: 900 },
          { ...cdn, id: "b", first_byte: { type: "fixed", ms: 4 }, reset_after_bytes: 500 },
          { id: "c", kind: "cdn", bandwidth: { bytes_per_sec: 5000, scope: "global" } },
          { id: "gone", kind: "expiry", expire_on_use: true },
          { id: "late", kind: "cdn", first_byte: { type: "fixed", ms: 100 } },
        ],
      },
    });
    const p = e.decideDownload("k", DL, r);
    expect(p).toMatchObject({ expired: true, firstByteDelayMs: 7, resetAfterBytes: 500 });
    expect(p.stalls).toEqual([{ afterBytes: 10, ms: 5 }]);
    expect(p.buckets.map((b) => b.rate)).toEqual([5000]);
    expect(r.forced_expired).toBe(true);
    expect(e.events().map((x) => x.fault_id)).toEqual(["a", "b", "c", "gone"]);
    // A global cap is one bucket for every download the fault hits.
    expect(e.decideDownload("k2", DL, rec(2)).buckets[0]).toBe(p.buckets[0]);
  });

  it("are released when their fault is disabled, replaced, reset or its window ends", () => {
    const clock = manualClock();
    const e = createFaultEngine({ seed: 1, clock, profile: { faults: [cdn] } });
    const disabled = e.decideDownload("k1", DL, rec(1));
    e.setEnabled("slow", false);
    expect(disabled.signal.aborted).toBe(true);
    e.setEnabled("slow", true);
    const replaced = e.decideDownload("k2", DL, rec(1));
    expect(replaced.signal.aborted).toBe(false);
    e.replace({ faults: [{ ...cdn, until: 1000 }] });
    expect(replaced.signal.aborted).toBe(true);
    const ended = e.decideDownload("k3", DL, rec(1));
    clock.advance(1000);
    e.decide({ route: "POST /v1/music/extended", command: "/tag/list" });
    expect(ended.signal.aborted).toBe(true);
    e.replace({ faults: [cdn] });
    const reset = e.decideDownload("k4", DL, rec(1));
    e.reset();
    expect(reset.signal.aborted).toBe(true);
  });

  it("blame a cut on the fault that expired or revoked the resource, and on nothing else", () => {
    const clock = manualClock();
    const r = rec(1, { song_id: "song", resource_type: 1 });
    const e = createFaultEngine({
      seed: 1,
      clock,
      resources: store([r]),
      profile: { faults: [{ id: "x", kind: "expiry", expire_existing: true }] },
    });
    e.downloadCut("cut-1", r, 1017019);
    e.downloadCut("cut-2", rec(2), 1017019);
    e.replace({
      faults: [{ id: "lo", kind: "revocation", listen_only: true, selector: { song_ids: ["song"] } }],
    });
    e.downloadCut("cut-3", r, 1017031);
    // A listen-only revocation does not cover the original: an admin revocation cut that.
    e.downloadCut("cut-4", rec(3, { song_id: "song", resource_type: 0 }), 1017030);
    expect(
      e
        .events()
        .filter((x) => x.effect.cut)
        .map((x) => [x.fault_id, x.kind, x.request_key, x.effect.code]),
    ).toEqual([
      ["x", "expiry", "cut-1", 1017019],
      ["lo", "revocation", "cut-3", 1017031],
    ]);
  });
});

describe("request keys", () => {
  it("are handed back with each decision for the follow-up questions", () => {
    const e = createFaultEngine({ seed: 1, clock: manualClock() });
    const req = { route: DL, app_id: 1, user_id: "u" };
    expect(e.decideWithKey(req)).toEqual({ decision: {}, key: `1|u|${DL}#1` });
    expect(e.decideWithKey(req).key).toBe(`1|u|${DL}#2`);
    expect(e.decideWithKey({ route: "GET /admin/faults" })).toEqual({ decision: {}, key: undefined });
  });

  it("countRequest moves a stream on as decideWithKey does, named by requestStream; reset starts it over", () => {
    const e = createFaultEngine({ seed: 1, clock: manualClock() });
    const ext = "POST /v1/music/extended";
    const req = { route: ext, command: "/top/song", app_id: 1, user_id: "u" };
    expect(requestStream(req)).toBe(`1|u|${ext}|/top/song`);
    expect(requestStream({ route: ext })).toBe(`-|-|${ext}`);
    e.countRequest(requestStream(req));
    e.countRequest(requestStream(req));
    expect(e.decideWithKey(req).key).toBe(`1|u|${ext}|/top/song#3`);
    // Another user's stream and another command's are their own.
    expect(e.decideWithKey({ ...req, user_id: "v" }).key).toBe(`1|v|${ext}|/top/song#1`);
    expect(e.decideWithKey({ ...req, command: "/search/song" }).key).toBe(`1|u|${ext}|/search/song#1`);
    e.reset();
    e.countRequest(requestStream(req));
    expect(e.decideWithKey(req).key).toBe(`1|u|${ext}|/top/song#2`);
  });
});
