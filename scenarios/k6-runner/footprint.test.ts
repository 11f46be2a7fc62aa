import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import type { ScriptFactory } from "./bundle.ts";
import { UnsupportedApiError } from "./errors.ts";
import { CLOSE_HTTP } from "./http.ts";
import { Registry } from "./metrics.ts";
import { createVu, type VuShared } from "./vu.ts";
import { ChecksBook, type TestControl } from "./vu-state.ts";

// What a VU of `ktv k6` holds (issue 13: 10,000 VUs per machine at <= 100 KB each): what does not depend on the
// VU is one object for all of them, a VU's own module objects carry only their VU-bound functions (esbuild's
// interop copies every own member into a getter per VU).

const test: TestControl = {
  abort: (reason: string): never => {
    throw new Error(reason);
  },
  callbackError: () => {},
  options: {},
  startTime: 0,
  instance: { vusActive: () => 0, vusInitialized: () => 0, completed: () => 0, interrupted: () => 0 },
};

/** A script's init context by hand: it imports every module once and declares a Trend. */
const factory: ScriptFactory = (require, module) => {
  const metrics = require("k6/metrics") as { Trend: new (n: string, t?: boolean) => unknown };
  const own = module.exports;
  own.k6 = require("k6");
  own.http = require("k6/http");
  own.metrics = metrics;
  own.exec = require("k6/execution");
  own.trend = new metrics.Trend("took", true);
};

function shared(registry = new Registry()): VuShared {
  return { factory, env: {}, registry, checks: new ChecksBook(), test, scriptDir: tmpdir() };
}

describe("k6 runner footprint: what VUs share and what each holds", () => {
  it("two VUs share k6/metrics, and the prototypes of k6 and k6/http with their VU-free members", () => {
    const s = shared();
    const a = createVu(1, s).exports;
    const b = createVu(2, s).exports;
    expect(a.metrics).toBe(b.metrics);
    expect(a.k6).not.toBe(b.k6);
    expect(Object.getPrototypeOf(a.k6)).toBe(Object.getPrototypeOf(b.k6));
    expect(Object.getPrototypeOf(a.http)).toBe(Object.getPrototypeOf(b.http));
    const k6a = a.k6 as Record<string, unknown>;
    const k6b = b.k6 as Record<string, unknown>;
    const ha = a.http as Record<string, unknown>;
    const hb = b.http as Record<string, unknown>;
    expect(k6a.fail).toBe(k6b.fail);
    expect(ha.expectedStatuses).toBe(hb.expectedStatuses);
    expect(ha.get).toBe(hb.get);
    // The VU-bound ones are each VU's own.
    expect(k6a.check).not.toBe(k6b.check);
    expect(ha.asyncRequest).not.toBe(hb.asyncRequest);
  });

  it("a VU's module objects own only their VU-bound members; the rest resolve through the shared prototype", () => {
    const v = createVu(1, shared()).exports;
    expect(Object.getOwnPropertyNames(v.k6).sort()).toEqual(["check", "group"]);
    expect(Object.getOwnPropertyNames(v.http).sort()).toEqual(["asyncRequest", "setResponseCallback"]);
    expect(Object.getOwnPropertyNames(v.metrics)).toEqual([]);
    const http = v.http as Record<string, unknown> & { [CLOSE_HTTP](): void };
    // esbuild's interop: an ES module whose default import is the module itself.
    expect(http.__esModule).toBe(true);
    expect(http.default).toBe(http);
    expect(typeof http.expectedStatuses).toBe("function");
    expect(typeof http[CLOSE_HTTP]).toBe("function");
  });

  it("a member the runner lacks still fails by name, through the shared prototype; probes answer undefined", () => {
    const v = createVu(1, shared()).exports;
    const http = v.http as Record<string, unknown>;
    expect(() => http.nonsense).toThrow(UnsupportedApiError);
    expect(() => http.nonsense).toThrow("k6/http.nonsense");
    expect(() => (v.k6 as Record<string, unknown>).nonsense).toThrow("k6.nonsense");
    expect(() => (v.metrics as Record<string, unknown>).Histogram).toThrow("k6/metrics.Histogram");
    expect(() => (http.batch as () => void)()).toThrow("http.batch()");
    expect(http.then).toBeUndefined();
    // What any plain object has still works (a script may log or stringify a module).
    expect(String(http)).toBe("[object Object]");
    expect(Object.hasOwn(http, "asyncRequest")).toBe(true);
  });

  it("a metric object keeps the VU that declared it: its samples carry that VU's tags", () => {
    const registry = new Registry();
    const s = shared(registry);
    const a = createVu(1, s);
    const b = createVu(2, s);
    expect(Object.getPrototypeOf(a.exports.trend)).toBe(Object.getPrototypeOf(b.exports.trend));
    a.state.tags = { who: "a" };
    b.state.tags = { who: "b" };
    registry.addSubmetric("took{who:a}");
    registry.addSubmetric("took{who:b}");
    (a.exports.trend as { add(v: number): void }).add(5);
    (b.exports.trend as { add(v: number): void }).add(7);
    (b.exports.trend as { add(v: number): void }).add(9);
    expect(registry.trend("took{who:a}")?.totalCount).toBe(1);
    expect(registry.trend("took{who:b}")?.totalCount).toBe(2);
  });

  it("k6/execution: each VU's objects read its own state through getters on shared prototypes", () => {
    const s = shared();
    const a = createVu(1, s, 11).exports.exec as Record<string, Record<string, unknown>>;
    const b = createVu(2, s, 12).exports.exec as Record<string, Record<string, unknown>>;
    expect(Object.getOwnPropertyNames(a).sort()).toEqual(["instance", "scenario", "test", "vu"]);
    expect(Object.getPrototypeOf(a)).toBe(Object.getPrototypeOf(b));
    expect([a.vu!.idInInstance, a.vu!.idInTest, b.vu!.idInInstance, b.vu!.idInTest]).toEqual([1, 11, 2, 12]);
    expect(Object.getPrototypeOf(a.vu)).toBe(Object.getPrototypeOf(b.vu));
    // Nothing but the (hidden) state is the object's own: the getters are the prototype's.
    expect(Object.getOwnPropertyNames(a.vu)).toEqual([]);
    expect(() => a.vu!.metrics).toThrow("exec.vu.metrics");
    expect(() => a.scenario!.name).toThrow("only available in a scenario's iterations");
    expect(() => (a.test!.abort as (r: string) => void)("stop")).toThrow("stop");
  });

  it("a metric declared outside a VU's init context is refused", () => {
    const v = createVu(1, shared()).exports;
    const { Trend } = v.metrics as { Trend: new (n: string) => unknown };
    expect(() => new Trend("late")).toThrow("metrics must be declared in the init context");
  });

  it("a VU's state holds exactly the fields the modules read", () => {
    const v = createVu(1, shared());
    expect(Object.keys(v.state).sort()).toEqual(
      [
        "checks",
        "env",
        "group",
        "id",
        "idInTest",
        "init",
        "iter",
        "iterationInInstance",
        "iterationInScenario",
        "iterationInTest",
        "registry",
        "scenario",
        "scriptDir",
        "signal",
        "tags",
        "test",
      ].sort(),
    );
  });
});
