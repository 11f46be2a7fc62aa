import type { ScriptFactory } from "./bundle.ts";
import type { Registry } from "./metrics.ts";
import { createVuModules, openFile } from "./modules.ts";
import type { ChecksBook, TestControl, VuState } from "./vu-state.ts";

// One VU: its state, its module instances and its own evaluation of the script (the init context), whose
// exports are this VU's default function, scenario functions, setup/teardown and options.

export interface Vu {
  state: VuState;
  exports: Record<string, unknown>;
  /** Waits (at most `ms`) for the VU's WebSockets to finish closing, so their ws_session_duration counts. */
  settle(ms: number): Promise<void>;
  close(): void;
}

export interface VuShared {
  factory: ScriptFactory;
  env: Record<string, string>;
  registry: Registry;
  checks: ChecksBook;
  test: TestControl;
  scriptDir: string;
}

const NEVER = new AbortController().signal;

/** `idInTest`: the VU's number over every instance of a segmented run (k6's vuIDSegIndex); default `id`. */
export function createVu(id: number, s: VuShared, idInTest = id): Vu {
  const state: VuState = {
    id,
    idInTest,
    iter: 0,
    iterationInScenario: 0,
    iterationInTest: 0,
    iterationInInstance: 0,
    env: s.env,
    scenario: null,
    tags: {},
    group: "",
    signal: NEVER,
    registry: s.registry,
    checks: s.checks,
    test: s.test,
    scriptDir: s.scriptDir,
    init: true,
  };
  const modules = createVuModules(state);
  const globals = {
    get id() {
      return state.id;
    },
    get iter() {
      return state.iter;
    },
    env: state.env,
    open: openFile(state),
  };
  const module: { exports: Record<string, unknown> } = { exports: {} };
  try {
    s.factory(modules.require, module, module.exports, globals);
  } finally {
    state.init = false;
  }
  return { state, exports: module.exports, settle: (ms) => modules.settle(ms), close: () => modules.close() };
}
