import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { performance } from "node:perf_hooks";
import type WS from "ws";
import { sharedModuleProto, strictObject, UnsupportedApiError, unsupported } from "./errors.ts";
import { CLOSE_HTTP, createHttpModule } from "./http.ts";
import type { K6MetricType, Tags } from "./metrics.ts";
import { sampleTags, type VuState } from "./vu-state.ts";
import { createWebSocketsModule } from "./websockets.ts";

// The k6 modules a script may import, per VU over its VuState: `k6` (check, group, fail), `k6/metrics`
// (Counter, Gauge, Rate, Trend), `k6/execution`, `k6/timers`, `k6/http` (http.ts), `k6/websockets`. Every module
// object throws UnsupportedApiError for a member it lacks (errors.ts strictObject / strictEnd), so a script
// never silently gets `undefined` where k6 has a function.
//
// Footprint (issue 13: 10,000 VUs per machine at <= 100 KB each): what does not depend on the VU is made once
// per process and shared. `k6` and `k6/http` are per-VU objects holding only their VU-bound functions (check,
// group; asyncRequest, setResponseCallback) over one shared prototype per module (fail, the refusals, the
// __esModule marker, `default`), whose chain ends in strictEnd. esbuild's __toESM copies a module's OWN
// properties into a wrapper of getters for every VU that imports it: 24 getters per VU for k6/http when every
// member was own, 2 now. `k6/metrics` is one object for all VUs: a metric is declared in the init context,
// which runs synchronously inside createVu, so the constructors take the VU being initialised (inInitContext)
// and the metric object keeps it. Module objects are made on first import (a VU that never imports
// k6/execution never builds it); sockets and timers sets on first use.

/** The modules the runner implements; any other `k6/...` import is refused when the script is bundled. */
export const MODULES = ["k6", "k6/http", "k6/metrics", "k6/execution", "k6/timers", "k6/websockets"] as const;
export type ModuleName = (typeof MODULES)[number];

export interface VuModules {
  require(name: string): unknown;
  /** Resolves once the VU's WebSockets have closed (their close handshake), or after `ms`. */
  settle(ms: number): Promise<void>;
  close(): void;
}

/** The VU whose init context is running (createVu), or null: who `new Trend(...)` belongs to. */
let initializingVu: VuState | null = null;

/** Runs `fn` (a VU's init context) with `vu` as the VU the init-only shared APIs act for. */
export function inInitContext<T>(vu: VuState, fn: () => T): T {
  const outer = initializingVu;
  initializingVu = vu;
  try {
    return fn();
  } finally {
    initializingVu = outer;
  }
}

/** A module object that esbuild's CommonJS interop reads as an ES module with this default export. */
function esModule(name: string, members: Record<string, unknown>, defaultExport: unknown = members): unknown {
  return strictObject(name, { __esModule: true, default: defaultExport, ...members });
}

class Modules implements VuModules {
  private readonly cache: Partial<Record<ModuleName, unknown>> = {};
  private sockets: Set<WS> | null = null;
  private timers: Set<NodeJS.Timeout> | null = null;
  private http: { [CLOSE_HTTP](): void } | null = null;
  /** Bound once: the script's bundle calls it as a plain function. */
  readonly require = (name: string): unknown => {
    let m = this.cache[name as ModuleName];
    if (m === undefined) {
      m = this.build(name);
      this.cache[name as ModuleName] = m;
    }
    return m;
  };

  constructor(private readonly vu: VuState) {}

  private build(name: string): unknown {
    const vu = this.vu;
    switch (name) {
      case "k6":
        return k6Module(vu);
      case "k6/http": {
        const http = createHttpModule(vu);
        this.http = http;
        return http;
      }
      case "k6/metrics":
        return METRICS_MODULE;
      case "k6/execution":
        return executionModule(vu);
      case "k6/timers":
        this.timers ??= new Set();
        return esModule(name, timersModule(vu, this.timers));
      case "k6/websockets":
        this.sockets ??= new Set();
        return esModule(name, createWebSocketsModule(vu, this.sockets));
      default:
        throw new UnsupportedApiError(`the module "${name}"`);
    }
  }

  async settle(ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (this.sockets && this.sockets.size > 0 && Date.now() < until)
      await new Promise((r) => setTimeout(r, 10));
  }

  close(): void {
    this.http?.[CLOSE_HTTP]();
    if (this.timers) for (const t of this.timers) clearTimeout(t);
    if (this.sockets) for (const s of this.sockets) s.terminate();
  }
}

export function createVuModules(vu: VuState): VuModules {
  return new Modules(vu);
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

const K6_PROTO = sharedModuleProto("k6", {
  fail(message?: string): never {
    throw new Error(message ?? "fail");
  },
  sleep: unsupported(
    "sleep() (it blocks the VU)",
    "in an async script: await new Promise((r) => setTimeout(r, ms)) with setTimeout from k6/timers",
  ),
  randomSeed: unsupported("randomSeed()"),
});

/** `k6` for one VU: its own check and group (they read the VU's group and tags), the rest shared. */
function k6Module(vu: VuState): unknown {
  const m = Object.create(K6_PROTO) as Record<string, unknown>;
  m.check = (value: unknown, sets: Record<string, unknown>, tags?: Tags): boolean => {
    if (vu.init) throw new Error("check() cannot be called in the init context");
    let all = true;
    for (const name in sets ?? {}) {
      const fn = sets[name];
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
  };
  m.group = <T>(name: string, fn: () => T): T => {
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
  };
  return m;
}

/** A custom metric: shared methods, the VU that declared it (its samples carry that VU's tags). */
class K6Metric {
  readonly name: string;
  private readonly vu: VuState;

  constructor(type: K6MetricType, name: string, isTime: boolean) {
    const vu = initializingVu;
    if (!vu?.init) throw new Error(`new ${type}("${name}"): metrics must be declared in the init context`);
    this.vu = vu;
    this.name = vu.registry.define(name, type, type === "trend" && isTime === true).name;
  }

  add(value: number | boolean, tags?: Tags): void {
    const vu = this.vu;
    if (vu.init) throw new Error(`${this.name}.add() cannot be called in the init context`);
    const v = typeof value === "boolean" ? (value ? 1 : 0) : Number(value);
    if (!Number.isFinite(v)) throw new Error(`${this.name}.add(${String(value)}): not a number`);
    vu.registry.add(this.name, v, sampleTags(vu, tags));
  }
}

class Counter extends K6Metric {
  constructor(name: string) {
    super("counter", name, false);
  }
}
class Gauge extends K6Metric {
  constructor(name: string) {
    super("gauge", name, false);
  }
}
class Rate extends K6Metric {
  constructor(name: string) {
    super("rate", name, false);
  }
}
class Trend extends K6Metric {
  constructor(name: string, isTime = false) {
    super("trend", name, isTime);
  }
}

/** `k6/metrics`: one object for every VU (the metric records its VU). */
const METRICS_MODULE: unknown = Object.create(
  sharedModuleProto("k6/metrics", { Counter, Gauge, Rate, Trend }),
);

// k6/execution's four objects for one VU: instances of classes whose getters live on shared prototypes (a
// getter closure per member per VU was ~2 KB of every VU's footprint, their objects in dictionary mode), the
// VU's state under a symbol (esbuild's interop copies string-named members only; a script never sees it).
const STATE = Symbol("k6 VU state");

/** What the four share: their VU's state, under the symbol. */
class ExecPart {
  readonly [STATE]: VuState;
  constructor(vu: VuState) {
    this[STATE] = vu;
  }
}

function scenarioOf(vu: VuState) {
  if (!vu.scenario) throw new Error("exec.scenario is only available in a scenario's iterations");
  return vu.scenario;
}

class ExecVu extends ExecPart {
  get idInInstance() {
    return this[STATE].id;
  }
  get idInTest() {
    return this[STATE].idInTest;
  }
  get iterationInInstance() {
    return this[STATE].iter;
  }
  get iterationInScenario() {
    return this[STATE].iterationInScenario;
  }
  get tags() {
    return this[STATE].tags;
  }
}

class ExecScenario extends ExecPart {
  get name() {
    return scenarioOf(this[STATE]).name;
  }
  get executor() {
    return scenarioOf(this[STATE]).executor;
  }
  get startTime() {
    return scenarioOf(this[STATE]).startTime;
  }
  get iterationInInstance() {
    scenarioOf(this[STATE]);
    return this[STATE].iterationInInstance;
  }
  get iterationInTest() {
    scenarioOf(this[STATE]);
    return this[STATE].iterationInTest;
  }
}

class ExecInstance extends ExecPart {
  get vusActive() {
    return this[STATE].test.instance.vusActive();
  }
  get vusInitialized() {
    return this[STATE].test.instance.vusInitialized();
  }
  get iterationsCompleted() {
    return this[STATE].test.instance.completed();
  }
  get iterationsInterrupted() {
    return this[STATE].test.instance.interrupted();
  }
  get currentTestRunDuration() {
    return Date.now() - this[STATE].test.startTime;
  }
}

class ExecTest extends ExecPart {
  abort(reason?: string): never {
    return this[STATE].test.abort(reason ?? "test aborted by the script");
  }
  get options() {
    return this[STATE].test.options;
  }
}

const EXEC_PROTO = sharedModuleProto("k6/execution", {});

/** `k6/execution` for one VU: its vu, scenario, instance and test objects over the shared prototypes. */
function executionModule(vu: VuState): unknown {
  const m = Object.create(EXEC_PROTO) as Record<string, unknown>;
  m.vu = strictObject("exec.vu", new ExecVu(vu));
  m.scenario = strictObject("exec.scenario", new ExecScenario(vu));
  m.instance = strictObject("exec.instance", new ExecInstance(vu));
  m.test = strictObject("exec.test", new ExecTest(vu));
  return m;
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
