import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { performance } from "node:perf_hooks";
import type WS from "ws";
import { strictObject, UnsupportedApiError, unsupported } from "./errors.ts";
import { createHttpModule } from "./http.ts";
import type { K6MetricType, Tags } from "./metrics.ts";
import { sampleTags, type VuState } from "./vu-state.ts";
import { createWebSocketsModule } from "./websockets.ts";

// The k6 modules a script may import, built per VU over its VuState: `k6` (check, group, fail), `k6/metrics`
// (Counter, Gauge, Rate, Trend), `k6/execution`, `k6/timers`, `k6/http` (http.ts). Every module object throws
// UnsupportedApiError for a member it lacks (errors.ts strictObject), so a script never silently gets
// `undefined` where k6 has a function.

/** The modules the runner implements; any other `k6/...` import is refused when the script is bundled. */
export const MODULES = ["k6", "k6/http", "k6/metrics", "k6/execution", "k6/timers", "k6/websockets"] as const;
export type ModuleName = (typeof MODULES)[number];

export interface VuModules {
  require(name: string): unknown;
  /** Resolves once the VU's WebSockets have closed (their close handshake), or after `ms`. */
  settle(ms: number): Promise<void>;
  close(): void;
}

/** A module object that esbuild's CommonJS interop reads as an ES module with this default export. */
function esModule(name: string, members: Record<string, unknown>, defaultExport: unknown = members): unknown {
  return strictObject(name, { __esModule: true, default: defaultExport, ...members });
}

export function createVuModules(vu: VuState): VuModules {
  const cache = new Map<string, unknown>();
  const sockets = new Set<WS>();
  const timers = new Set<NodeJS.Timeout>();
  let http: ReturnType<typeof createHttpModule> | null = null;
  const build = (name: string): unknown => {
    switch (name) {
      case "k6":
        return esModule(name, k6Module(vu));
      case "k6/http":
        http = createHttpModule(vu);
        return esModule(name, http, http);
      case "k6/metrics":
        return esModule(name, metricsModule(vu));
      case "k6/execution": {
        const exec = executionModule(vu);
        return esModule(name, exec, exec);
      }
      case "k6/timers":
        return esModule(name, timersModule(vu, timers));
      case "k6/websockets":
        return esModule(name, createWebSocketsModule(vu, sockets));
      default:
        throw new UnsupportedApiError(`the module "${name}"`);
    }
  };
  return {
    require(name: string) {
      let m = cache.get(name);
      if (m === undefined) {
        m = build(name);
        cache.set(name, m);
      }
      return m;
    },
    async settle(ms: number) {
      const until = Date.now() + ms;
      while (sockets.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    },
    close() {
      (http as { close?: () => void } | null)?.close?.();
      for (const t of timers) clearTimeout(t);
      for (const s of sockets) s.terminate();
    },
  };
}

/**
 * k6/timers: Node's timers, with the script's callback errors sent to the runner (an uncaught one would end
 * the process) and every pending timer of the VU cleared when the VU closes.
 */
function timersModule(vu: VuState, timers: Set<NodeJS.Timeout>): Record<string, unknown> {
  const guard = (fn: unknown, what: string) => {
    if (typeof fn !== "function") throw new Error(`${what}: the callback must be a function`);
    return (...args: unknown[]) => {
      try {
        (fn as (...a: unknown[]) => void)(...args);
      } catch (e) {
        vu.test.callbackError(e, `${what} callback`);
      }
    };
  };
  return {
    setTimeout(fn: unknown, ms?: number, ...args: unknown[]) {
      const cb = guard(fn, "setTimeout");
      const t: NodeJS.Timeout = setTimeout(() => {
        timers.delete(t);
        cb(...args);
      }, ms);
      timers.add(t);
      return t;
    },
    clearTimeout(t: NodeJS.Timeout) {
      timers.delete(t);
      clearTimeout(t);
    },
    setInterval(fn: unknown, ms?: number, ...args: unknown[]) {
      const t = setInterval(guard(fn, "setInterval"), ms, ...args);
      timers.add(t);
      return t;
    },
    clearInterval(t: NodeJS.Timeout) {
      timers.delete(t);
      clearInterval(t);
    },
  };
}

function k6Module(vu: VuState): Record<string, unknown> {
  return {
    check(value: unknown, sets: Record<string, unknown>, tags?: Tags): boolean {
      if (vu.init) throw new Error("check() cannot be called in the init context");
      let all = true;
      for (const [name, fn] of Object.entries(sets ?? {})) {
        const r = typeof fn === "function" ? (fn as (v: unknown) => unknown)(value) : fn;
        if (r instanceof Promise)
          throw new UnsupportedApiError(
            `check() with an async function ("${name}")`,
            "await first, then check the value",
          );
        const ok = Boolean(r);
        all &&= ok;
        vu.registry.add("checks", ok ? 1 : 0, sampleTags(vu, { check: name, ...tags }));
        vu.checks.note(vu.group, name, ok);
      }
      return all;
    },
    group<T>(name: string, fn: () => T): T {
      if (vu.init) throw new Error("group() cannot be called in the init context");
      if (typeof name !== "string" || name === "" || name.includes("::"))
        throw new Error(`group name ${JSON.stringify(name)}: must be a non-empty string without "::"`);
      const outer = vu.group;
      const path = `${outer}::${name}`;
      vu.checks.group(path);
      vu.group = path;
      const t0 = performance.now();
      const done = () => {
        vu.registry.add("group_duration", performance.now() - t0, sampleTags(vu));
        vu.group = outer;
      };
      let r: T;
      try {
        r = fn();
      } catch (e) {
        done();
        throw e;
      }
      if (r instanceof Promise) {
        // k6 (>= 0.43) keeps an async group's tag across its awaits. One VU runs one iteration at a time, so the
        // VU's current group is that iteration's until the promise settles; only code racing the group within
        // the same iteration (un-awaited work) would see its tag.
        return r.finally(done) as T;
      }
      done();
      return r;
    },
    fail(message?: string): never {
      throw new Error(message ?? "fail");
    },
    sleep: unsupported(
      "sleep() (it blocks the VU)",
      "in an async script: await new Promise((r) => setTimeout(r, ms)) with setTimeout from k6/timers",
    ),
    randomSeed: unsupported("randomSeed()"),
  };
}

function metricsModule(vu: VuState): Record<string, unknown> {
  const make = (type: K6MetricType) =>
    class Metric {
      readonly name: string;
      constructor(name: string, isTime = false) {
        if (!vu.init) throw new Error(`new ${type}("${name}"): metrics must be declared in the init context`);
        this.name = vu.registry.define(name, type, type === "trend" && isTime === true).name;
      }
      add(value: number | boolean, tags?: Tags): void {
        if (vu.init) throw new Error(`${this.name}.add() cannot be called in the init context`);
        const v = typeof value === "boolean" ? (value ? 1 : 0) : Number(value);
        if (!Number.isFinite(v)) throw new Error(`${this.name}.add(${String(value)}): not a number`);
        vu.registry.add(this.name, v, sampleTags(vu, tags));
      }
    };
  return { Counter: make("counter"), Gauge: make("gauge"), Rate: make("rate"), Trend: make("trend") };
}

function executionModule(vu: VuState): Record<string, unknown> {
  const scenarioOf = () => {
    if (!vu.scenario) throw new Error("exec.scenario is only available in a scenario's iterations");
    return vu.scenario;
  };
  const vuObj = strictObject("exec.vu", {
    get idInInstance() {
      return vu.id;
    },
    get idInTest() {
      return vu.idInTest;
    },
    get iterationInInstance() {
      return vu.iter;
    },
    get iterationInScenario() {
      return vu.iterationInScenario;
    },
    get tags() {
      return vu.tags;
    },
  });
  const scenario = strictObject("exec.scenario", {
    get name() {
      return scenarioOf().name;
    },
    get executor() {
      return scenarioOf().executor;
    },
    get startTime() {
      return scenarioOf().startTime;
    },
    get iterationInInstance() {
      scenarioOf();
      return vu.iterationInInstance;
    },
    get iterationInTest() {
      scenarioOf();
      return vu.iterationInTest;
    },
  });
  const instance = strictObject("exec.instance", {
    get vusActive() {
      return vu.test.instance.vusActive();
    },
    get vusInitialized() {
      return vu.test.instance.vusInitialized();
    },
    get iterationsCompleted() {
      return vu.test.instance.completed();
    },
    get iterationsInterrupted() {
      return vu.test.instance.interrupted();
    },
    get currentTestRunDuration() {
      return Date.now() - vu.test.startTime;
    },
  });
  const test = strictObject("exec.test", {
    abort(reason?: string): never {
      return vu.test.abort(reason ?? "test aborted by the script");
    },
    get options() {
      return vu.test.options;
    },
  });
  return { vu: vuObj, scenario, instance, test };
}

/** k6's open(): init context only, relative to the script. */
export function openFile(vu: VuState) {
  return (path: string, mode?: string): string | ArrayBuffer => {
    if (!vu.init) throw new Error("open() is only available in the init context");
    const data = readFileSync(resolve(vu.scriptDir, path));
    if (mode === "b") return data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
    if (mode !== undefined)
      throw new Error(`open(): mode must be "b" or nothing, got ${JSON.stringify(mode)}`);
    return data.toString("utf8");
  };
}
