import { Type } from "@sinclair/typebox";
import { describe, expect, it } from "vitest";
import type { Catalog } from "../catalog/types.ts";
import { defineKind } from "./kind.ts";
import { checkProfile, FaultProfileError, faultSchema, MAX_FAULTS, parseProfile } from "./profile.ts";

// The profile the issue fixes as the stable floor of the format: it must be accepted exactly as written.
const ISSUE_PROFILE = `{"faults":[{"id":"err","kind":"error","code":1017097,"probability":0.3,"selector":{"command":"/search/song"}},
{"id":"slow","kind":"latency","distribution":{"type":"uniform","min":0,"max":40},"probability":0.5,"selector":{"command":"/search/song"}}]}`;

/** Errors of a profile made of the given faults (must be refused). */
function errorsOf(...faults: unknown[]): string[] {
  const r = checkProfile({ faults });
  if (r.ok) throw new Error(`accepted: ${JSON.stringify(faults)}`);
  return r.errors;
}

const lat = { kind: "latency", distribution: { type: "fixed", ms: 5 } };

describe("fault profile validation", () => {
  it("accepts the issue's example as is and fills in defaults", () => {
    const p = parseProfile(JSON.parse(ISSUE_PROFILE));
    expect(p.faults.map((f) => [f.id, f.kind, f.enabled, f.probability])).toEqual([
      ["err", "error", true, 0.3],
      ["slow", "latency", true, 0.5],
    ]);
    expect(p.faults[0]!.code).toBe(1017097);
    expect(p.faults[1]!.distribution).toEqual({ type: "uniform", min: 0, max: 40 });
  });

  it("returns a frozen deep copy: later changes to the input do not leak in", () => {
    const input = JSON.parse(ISSUE_PROFILE);
    const p = parseProfile(input);
    input.faults[0].code = 1017099;
    input.faults[1].selector.command = "/tag/list";
    expect(p.faults[0]!.code).toBe(1017097);
    expect(p.faults[1]!.selector?.command).toBe("/search/song");
    expect(Object.isFrozen(p.faults[1]!.selector)).toBe(true);
  });

  it("accepts every kind and distribution with their documented parameters", () => {
    const dists = [
      { type: "fixed", ms: 0 },
      { type: "uniform", min: 10, max: 10 },
      { type: "normal", mean: 50, stddev: 10 },
      { type: "normal", mean: 50, stddev: 10, max: 80 },
      { type: "lognormal", median: 20, sigma: 1, max: 2000 },
      { type: "pareto", scale: 5, shape: 1.5, max: 5000 },
    ];
    const faults: unknown[] = dists.map((distribution, i) => ({
      id: `l${i}`,
      kind: "latency",
      distribution,
    }));
    faults.push(
      { id: "e1", kind: "error", code: 1017010 },
      { id: "e2", kind: "error", http_status: 429 },
      { id: "e3", kind: "error", http_status: 503, code: 1017098 },
      { id: "e4", kind: "error", drop: true, enabled: false },
      { id: "o1", kind: "outage", from: 1000, until: 5000 },
      { id: "o2", kind: "outage", http_status: 503, description: "vendor down" },
      {
        id: "sel",
        kind: "error",
        code: 1017097,
        first: 3,
        every: 2,
        max: 10,
        count_scope: "user",
        selector: {
          route: "POST /v1/music/resource",
          command: "/search/song",
          vendor_id: 2,
          song_ids: ["a"],
          song_fraction: 0.5,
          resource_type: 1,
          user_fraction: 0,
          room_fraction: 1,
          app_id: 1000000001,
        },
      },
    );
    const r = checkProfile({ description: "all", time_base: "profile", faults });
    expect(r.ok ? [] : r.errors).toEqual([]);
    expect(checkProfile({ faults: [] }).ok).toBe(true);
  });

  it("refuses a document that is not a profile", () => {
    expect(checkProfile(null)).toEqual({ ok: false, errors: ["(root): must be an object"] });
    expect(checkProfile([])).toEqual({ ok: false, errors: ["(root): must be an object"] });
    expect(checkProfile({})).toEqual({ ok: false, errors: ["faults: is required"] });
    expect(checkProfile({ faults: {} })).toEqual({ ok: false, errors: ["faults: must be an array"] });
    expect(checkProfile({ faults: [], time_base: "wall" })).toEqual({
      ok: false,
      errors: ['time_base: must be one of "start", "profile"'],
    });
    const tooMany = Array.from({ length: MAX_FAULTS + 1 }, (_, i) => ({ id: `f${i}`, ...lat }));
    expect(checkProfile({ faults: tooMany })).toEqual({
      ok: false,
      errors: [`faults: must have at most ${MAX_FAULTS} items`],
    });
  });

  it("refuses unknown and missing kinds, naming the known ones, and still checks generic fields", () => {
    expect(errorsOf({ id: "a", kind: "toxic", probability: 2 })).toEqual([
      'faults[0].kind: unknown kind "toxic" (known: latency, error, outage, expiry, revocation, cdn, media, disconnect)',
      "faults[0].probability: must be <= 1",
    ]);
    expect(errorsOf({ id: "a" })).toEqual([
      "faults[0].kind: is required (known: latency, error, outage, expiry, revocation, cdn, media, disconnect)",
    ]);
    expect(errorsOf(5)).toEqual(["faults[0]: must be an object"]);
  });

  it("refuses bad ids and duplicate ids", () => {
    expect(errorsOf({ ...lat })).toEqual(["faults[0].id: is required"]);
    expect(errorsOf({ id: "has space", ...lat })).toEqual([
      "faults[0].id: must match ^[A-Za-z0-9_.:-]{1,64}$",
    ]);
    expect(errorsOf({ id: "a", ...lat }, { id: "b", ...lat }, { id: "a", ...lat })).toEqual([
      'faults[2].id: duplicate id "a" (also faults[0])',
    ]);
  });

  it("refuses probabilities outside 0..1", () => {
    expect(errorsOf({ id: "a", ...lat, probability: 1.01 })).toEqual(["faults[0].probability: must be <= 1"]);
    expect(errorsOf({ id: "a", ...lat, probability: -0.1 })).toEqual(["faults[0].probability: must be >= 0"]);
    expect(errorsOf({ id: "a", ...lat, probability: "0.5" })).toEqual([
      "faults[0].probability: must be a number",
    ]);
  });

  it("refuses negative times and empty windows", () => {
    expect(errorsOf({ id: "a", ...lat, from: -1 })).toEqual(["faults[0].from: must be >= 0"]);
    expect(errorsOf({ id: "a", ...lat, until: -5 })).toEqual(["faults[0].until: must be >= 0"]);
    expect(errorsOf({ id: "a", ...lat, from: 500, until: 500 })).toEqual([
      "faults[0].until: must be > from (500)",
    ]);
  });

  it("refuses count limits below 1 or fractional, and unknown count scopes", () => {
    expect(errorsOf({ id: "a", ...lat, first: 0, every: 1.5, max: -1, count_scope: "room" })).toEqual([
      "faults[0].first: must be >= 1",
      "faults[0].every: must be an integer",
      "faults[0].max: must be >= 1",
      'faults[0].count_scope: must be one of "global", "user"',
    ]);
  });

  it("refuses unknown fields in a fault and in its selector, and bad selector values", () => {
    expect(
      errorsOf({
        id: "a",
        ...lat,
        attributes: {},
        selector: { route: "", command: "search", song_fraction: 1.5, vendor_id: 9, user: "u", song_ids: [] },
      }),
    ).toEqual([
      "faults[0].attributes: is not a known field",
      "faults[0].selector.user: is not a known field",
      "faults[0].selector.route: must not be empty",
      "faults[0].selector.command: must match ^/",
      "faults[0].selector.vendor_id: must be <= 4",
      "faults[0].selector.song_ids: must have at least 1 item(s)",
      "faults[0].selector.song_fraction: must be <= 1",
    ]);
  });

  it("explains latency distributions by their type", () => {
    expect(errorsOf({ id: "a", kind: "latency" })).toEqual(["faults[0].distribution: is required"]);
    expect(errorsOf({ id: "a", kind: "latency", distribution: { type: "gamma" } })).toEqual([
      'faults[0].distribution.type: is "gamma", must be one of "fixed", "uniform", "normal", "lognormal", "pareto"',
    ]);
    expect(errorsOf({ id: "a", kind: "latency", distribution: { min: 1 } })[0]).toMatch(
      /^faults\[0\]\.distribution\.type: is required \(one of "fixed"/,
    );
    expect(
      errorsOf({ id: "a", kind: "latency", distribution: { type: "lognormal", median: 0, max: 1e9 } }),
    ).toEqual([
      "faults[0].distribution.sigma: is required",
      "faults[0].distribution.median: must be > 0",
      "faults[0].distribution.max: must be <= 600000",
    ]);
    expect(
      errorsOf({ id: "a", kind: "latency", distribution: { type: "fixed", ms: -3, jitter: 1 } }),
    ).toEqual([
      "faults[0].distribution.jitter: is not a known field",
      "faults[0].distribution.ms: must be >= 0",
    ]);
    expect(
      errorsOf({ id: "a", kind: "latency", distribution: { type: "uniform", min: 50, max: 10 } }),
    ).toEqual(["faults[0].distribution.max: must be >= distribution.min"]);
    expect(
      errorsOf({ id: "a", kind: "latency", distribution: { type: "pareto", scale: 50, shape: 0, max: 10 } }),
    ).toEqual(["faults[0].distribution.shape: must be > 0"]);
    expect(
      errorsOf({ id: "a", kind: "latency", distribution: { type: "pareto", scale: 50, shape: 2, max: 10 } }),
    ).toEqual(["faults[0].distribution.max: must be >= distribution.scale (every sample would be the cap)"]);
    expect(errorsOf({ id: "a", kind: "latency", distribution: "fixed" })).toEqual([
      "faults[0].distribution: must be an object",
    ]);
  });

  it("refuses error faults that answer nothing, answer twice or use codes the vendor does not have", () => {
    expect(errorsOf({ id: "a", kind: "error" })).toEqual([
      "faults[0]: an error fault needs `code`, `http_status` or `drop: true`",
    ]);
    expect(errorsOf({ id: "a", kind: "error", drop: false })).toHaveLength(1);
    expect(errorsOf({ id: "a", kind: "error", drop: true, code: 1017097 })).toEqual([
      "faults[0].drop: cannot be combined with code or http_status",
    ]);
    expect(errorsOf({ id: "a", kind: "error", code: 1234 })).toEqual([
      "faults[0].code: 1234 is not a vendor error code (see protocol/codes.ts)",
    ]);
    expect(errorsOf({ id: "a", kind: "error", code: 0 })).toHaveLength(1);
    expect(errorsOf({ id: "a", kind: "error", http_status: 404 })).toEqual([
      "faults[0].http_status: must be one of 429, 500, 503",
    ]);
    expect(errorsOf({ id: "a", kind: "outage", http_status: 500 })).toEqual([
      "faults[0].http_status: must be 503",
    ]);
    expect(errorsOf({ id: "a", kind: "outage", code: 42 })).toEqual([
      "faults[0].code: 42 is not a vendor error code (see protocol/codes.ts)",
    ]);
  });

  it("refuses song ids the catalog does not know, when given a catalog", () => {
    const catalog = { get: (id: string) => (id === "s1" ? {} : undefined) } as unknown as Catalog;
    const profile = { faults: [{ id: "a", ...lat, selector: { song_ids: ["s1", "nope", "s1"] } }] };
    expect(checkProfile(profile).ok).toBe(true);
    expect(checkProfile(profile, { catalog })).toEqual({
      ok: false,
      errors: ['faults[0].selector.song_ids[1]: unknown song id "nope"'],
    });
  });

  it("lists every error of every fault at once", () => {
    const r = checkProfile({
      extra: true,
      faults: [
        { id: "a", kind: "nope" },
        { id: "b", ...lat, probability: 3 },
        { id: "a", kind: "error", http_status: 418, from: 9, until: 1 },
      ],
    });
    expect(r).toEqual({
      ok: false,
      errors: [
        "extra: is not a known field",
        'faults[0].kind: unknown kind "nope" (known: latency, error, outage, expiry, revocation, cdn, media, disconnect)',
        "faults[1].probability: must be <= 1",
        "faults[2].http_status: must be one of 429, 500, 503",
        "faults[2].until: must be > from (9)",
        'faults[2].id: duplicate id "a" (also faults[0])',
      ],
    });
    expect(() => parseProfile({ faults: [{ id: "a", kind: "nope" }] })).toThrow(FaultProfileError);
    try {
      parseProfile({
        faults: [
          { id: "a", kind: "nope" },
          { id: "b", ...lat, from: -1 },
        ],
      });
    } catch (e) {
      expect((e as FaultProfileError).errors).toHaveLength(2);
      expect((e as Error).message).toMatch(
        /^invalid fault profile: faults\[0\]\.kind: .*; faults\[1\]\.from: must be >= 0$/,
      );
    }
  });

  it("caps the number of reported errors", () => {
    const faults = Array.from({ length: 200 }, (_, i) => ({ id: `f${i}`, ...lat, probability: 2 }));
    const r = checkProfile({ faults });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.errors).toHaveLength(101);
      expect(r.errors.at(-1)).toBe("... and 100 more");
    }
  });

  it("rejects a kind whose parameters would shadow a wrapper field", () => {
    const bad = defineKind({
      kind: "bad",
      summary: "",
      schema: Type.Object({ probability: Type.Number() }),
      terminal: false,
      apply: () => ({}),
    });
    expect(() => faultSchema(bad)).toThrow(/collides with a wrapper field/);
  });
});
