import { describe, expect, it } from "vitest";
import expiryStorm from "../expiry-storm.ts";
import latencyTail from "../latency-tail.ts";
import { MetricSet } from "../metrics/set.ts";
import { resolveScenario } from "../resolve.ts";
import revocation from "../revocation.ts";
import smoke from "../smoke.ts";
import { validateScenario } from "../validate.ts";
import { declaredFaultIds, type FaultExpectation, faultChecks, resolveExpectation } from "./fault-check.ts";

const events = (...ids: string[]) => ({ events: ids.map((fault_id) => ({ fault_id })) });

function counts(recoveries: Record<string, number>, failedWith: Record<string, number> = {}): MetricSet {
  const m = new MetricSet();
  for (const [rule, n] of Object.entries(recoveries)) m.add(`recoveries{rule:${rule}}`, n);
  for (const [code, n] of Object.entries(failedWith))
    for (let i = 0; i < n; i++) m.rate(`errors{code:${code}}`, true);
  return m;
}

const storm: FaultExpectation = {
  faultsFired: ["short-ttl", "storm"],
  recoveries: { "expired-rerequest": { atLeast: 1, hides: [1017019] } },
  surfaced: {},
};

describe("fault check", () => {
  it("passes when every expected fault fired and the rule ran at least as often as users saw its code", () => {
    const checks = faultChecks(
      storm,
      events("short-ttl", "storm", "storm", "other"),
      counts({ "expired-rerequest": 3 }, { 1017019: 3 }),
    );
    expect(checks.map((c) => [c.name, c.ok])).toEqual([
      ["faults", true],
      ["recoveries", true],
    ]);
    expect(checks[0]!.detail).toBe("every expected fault fired (events: short-ttl 1, storm 2)");
    expect(checks[0]!.data).toMatchObject({ fired: { "short-ttl": 1, storm: 2 }, never_fired: [] });
  });

  it("fails naming each fault that never fired", () => {
    const [faults] = faultChecks(storm, events("short-ttl"), counts({ "expired-rerequest": 1 }));
    expect(faults!.ok).toBe(false);
    expect(faults!.detail).toBe('fault "storm" never fired (events: short-ttl 1, storm 0)');
    const [none] = faultChecks(storm, events(), counts({ "expired-rerequest": 1 }));
    expect(none!.detail).toContain('fault "short-ttl" never fired; fault "storm" never fired');
  });

  it("fails when the fault log could not be read", () => {
    const [faults] = faultChecks(storm, new Error("HTTP 500"), counts({ "expired-rerequest": 1 }));
    expect(faults).toMatchObject({
      name: "faults",
      ok: false,
      detail: "could not read the fault event log: HTTP 500",
    });
  });

  it("fails when the recovery rule never ran", () => {
    const r = faultChecks(storm, events("short-ttl", "storm"), counts({}))[1]!;
    expect(r.ok).toBe(false);
    expect(r.detail).toContain('recovery rule "expired-rerequest" ran 0 times, expected at least 1');
  });

  it("fails when users saw the code the rule hides more often than the rule ran", () => {
    const r = faultChecks(
      storm,
      events("short-ttl", "storm"),
      counts({ "expired-rerequest": 2 }, { 1017019: 5, 1017030: 9 }),
    )[1]!;
    expect(r.ok).toBe(false);
    expect(r.detail).toBe(
      '5 iterations failed with 1017019, which rule "expired-rerequest" hides, but the rule ran only 2 times: users saw the error without the rule having tried',
    );
    expect(r.data).toEqual({ "expired-rerequest": { ran: 2, at_least: 1, failed_with: { 1017019: 5 } } });
  });

  it("surfaced: fails when no user was told the code the fault should bring", () => {
    const exp: FaultExpectation = { faultsFired: [], recoveries: {}, surfaced: { 1017034: 2 } };
    const [told] = faultChecks(exp, events(), counts({}, { 1017034: 1 }));
    expect(told).toMatchObject({
      name: "surfaced",
      ok: false,
      detail: "1 iterations failed with 1017034, expected at least 2: the fault never reached a user",
    });
    expect(faultChecks(exp, events(), counts({}, { 1017034: 2 }))[0]).toMatchObject({
      ok: true,
      detail: "users were told (iterations failed with 1017034: 2)",
    });
  });

  it("a rule expected zero times still may not let its codes through", () => {
    const exp: FaultExpectation = {
      faultsFired: [],
      recoveries: { "revoked-skip": { atLeast: 0, hides: [1017030] } },
      surfaced: {},
    };
    expect(faultChecks(exp, events(), counts({}))[0]!.ok).toBe(true);
    expect(faultChecks(exp, events(), counts({}, { 1017030: 1 }))[0]!.ok).toBe(false);
  });

  it("expects nothing of a scenario without faults or recoveries", () => {
    const exp = resolveScenario(smoke).expect;
    expect(exp).toEqual({ faultsFired: [], recoveries: {}, surfaced: {} });
    expect(faultChecks(exp, events(), counts({}))).toEqual([]);
  });

  it("defaults to every declared fault, from the start profile and the timeline, once each", () => {
    const faults = {
      profile: { faults: [{ id: "a" }, { id: "b" }] },
      timeline: [{ profile: { faults: [{ id: "b" }, { id: "c" }] } }, { profile: null }],
    };
    expect(declaredFaultIds(faults)).toEqual(["a", "b", "c"]);
    expect(resolveExpectation(undefined, faults)).toEqual({
      faultsFired: ["a", "b", "c"],
      recoveries: {},
      surfaced: {},
    });
    expect(resolveExpectation({ recoveries: { "revoked-skip": {} } }, faults).recoveries).toEqual({
      "revoked-skip": { atLeast: 1, hides: [] },
    });
  });

  it("two rules that keep one code from users share it: their runs together must cover its failures", () => {
    const exp: FaultExpectation = {
      faultsFired: [],
      recoveries: {
        "revoked-skip": { atLeast: 0, hides: [1017030, 1017031] },
        "revoked-stop": { atLeast: 0, hides: [1017030, 1017031] },
      },
      surfaced: {},
    };
    // Two users' songs were revoked while they played: stopped (the rule ran) and told, none skipped.
    expect(faultChecks(exp, events(), counts({ "revoked-stop": 2 }, { 1017030: 2 }))[0]!.ok).toBe(true);
    const short = faultChecks(exp, events(), counts({ "revoked-stop": 1 }, { 1017030: 3 }))[0]!;
    expect(short.ok).toBe(false);
    expect(short.detail).toBe(
      '3 iterations failed with 1017030, which rule "revoked-skip" + "revoked-stop" hides, but they ran only 1 times: users saw the error without the rule having tried',
    );
  });

  it("the shipped fault scenarios each expect their faults and, where a rule handles them, the rule", () => {
    expect(resolveScenario(expiryStorm).expect).toEqual({
      faultsFired: ["short-ttl", "storm", "dead-on-download"],
      recoveries: { "expired-rerequest": { atLeast: 1, hides: [1017019] } },
      surfaced: {},
    });
    expect(resolveScenario(revocation).expect.faultsFired).toEqual(["wave-all", "wave-listen-only"]);
    expect(resolveScenario(revocation).expect.surfaced).toEqual({ 1017034: 1 });
    expect(resolveScenario(revocation).expect.recoveries["revoked-skip"]).toEqual({
      atLeast: 0,
      hides: [1017030, 1017031],
    });
    expect(resolveScenario(revocation).expect.recoveries["revoked-stop"]).toEqual({
      atLeast: 0,
      hides: [1017030, 1017031],
    });
    expect(resolveScenario(latencyTail).expect.faultsFired).toEqual([
      "content-lognormal",
      "resource-pareto-tail",
    ]);
  });
});

describe("ktv.expect validation", () => {
  const withExpect = (expectData: unknown) => ({
    ...expiryStorm,
    ktv: { ...expiryStorm.ktv, expect: expectData },
  });

  it("accepts the shipped scenarios", () => {
    for (const s of [expiryStorm, revocation, latencyTail]) expect(validateScenario(s)).toEqual([]);
  });

  it("names a fault id the scenario does not declare, with the ones it does", () => {
    expect(validateScenario(withExpect({ faultsFired: ["short-ttl", "stom"] }))).toEqual([
      'ktv.expect.faultsFired[1]: "stom" is no fault of ktv.faults (its faults: short-ttl, storm, dead-on-download)',
    ]);
    expect(validateScenario({ ...smoke, ktv: { ...smoke.ktv, expect: { faultsFired: ["x"] } } })).toEqual([
      'ktv.expect.faultsFired[0]: "x" is no fault of ktv.faults (it declares none)',
    ]);
  });

  it("refuses unknown rules, fields, bad counts and codes, every problem at once", () => {
    expect(
      validateScenario(
        withExpect({
          faultsFired: "storm",
          recoveries: {
            "expired-retry": {},
            "expired-rerequest": { atLeast: -1, hides: ["1017019"], why: 1 },
          },
          surfaced: { "1017034": 0, abc: 1 },
          extra: true,
        }),
      ),
    ).toEqual([
      "ktv.expect.extra: unknown field (expected one of faultsFired, recoveries, surfaced)",
      'ktv.expect.faultsFired: must be a list of fault ids, got "storm"',
      "ktv.expect.recoveries.expired-retry: unknown recovery rule (expected one of transient-backoff, expired-rerequest, revoked-skip, revoked-stop, shared-fallback, media-reconnect)",
      "ktv.expect.recoveries.expired-rerequest.why: unknown field (expected one of atLeast, hides)",
      "ktv.expect.recoveries.expired-rerequest.atLeast: must be an integer in 0.., got -1",
      'ktv.expect.recoveries.expired-rerequest.hides: must be a list of error codes (positive integers), got ["1017019"]',
      "ktv.expect.surfaced.1017034: must be an integer in 1.., got 0",
      "ktv.expect.surfaced.abc: must be an error code (a positive integer)",
    ]);
  });
});
