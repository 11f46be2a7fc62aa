import type { ScriptFactory } from "./bundle.ts";
import type { Registry } from "./metrics.ts";
import { createVuModules, inInitContext, openFile, type VuModules } from "./modules.ts";
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

/**
 * The script's k6 globals (`__VU`, `__ITER`, `__ENV`, `open`, rewritten to reads of this object by bundle.ts):
 * getters on a shared prototype over the VU's state, not four closures per VU.
 */
class Globals {
  constructor(private readonly state: VuState) {}
  get id(): number {
    return this.state.id;
  }
  get iter(): number {
    return this.state.iter;
  }
  get env(): Record<string, string> {
    return this.state.env;
  }
  get open(): ReturnType<typeof openFile> {
    return openFile(this.state);
  }
}

class K6Vu implements Vu {
  constructor(
    readonly state: VuState,
    readonly exports: Record<string, unknown>,
    private readonly modules: VuModules,
  ) {}
  settle(ms: number): Promise<void> {
    return this.modules.settle(ms);
  }
  close(): void {
    this.modules.close();
  }
}

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
  const module: { exports: Record<string, unknown> } = { exports: {} };
  try {
    inInitContext(state, () => s.factory(modules.require, module, module.exports, new Globals(state)));
  } finally {
    state.init = false;
  }
  return new K6Vu(state, module.exports, modules);
}
