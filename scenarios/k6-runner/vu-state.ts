import type { Registry, Tags } from "./metrics.ts";

// What one VU's modules share: who it is, the iteration it runs, the tags its samples carry, and where they go.
// The runner updates it between iterations; the modules (k6, k6/http, k6/execution ...) read it when called.

export interface ScenarioInfo {
  name: string;
  executor: string;
  /** Epoch ms the scenario started. */
  startTime: number;
  /** Iterations started in this scenario so far (all VUs). */
  iterations: number;
  /** Tags of `options.scenarios.<name>.tags`. */
  tags: Tags;
}

/** Per group path, the checks that ran in it: handleSummary's root_group tree and the summary's check lines. */
export class ChecksBook {
  readonly byGroup = new Map<string, Map<string, { passes: number; fails: number }>>();

  note(group: string, name: string, ok: boolean): void {
    let g = this.byGroup.get(group);
    if (!g) {
      g = new Map();
      this.byGroup.set(group, g);
    }
    const c = g.get(name) ?? { passes: 0, fails: 0 };
    if (ok) c.passes++;
    else c.fails++;
    g.set(name, c);
  }

  /** Makes a group known even before a check runs in it. */
  group(path: string): void {
    if (!this.byGroup.has(path)) this.byGroup.set(path, new Map());
  }
}

export interface TestControl {
  /** k6's exec.test.abort(). */
  abort(reason: string): never;
  /**
   * An error thrown by the script outside an iteration's own promise chain (a timer's or a socket's
   * handler): an unsupported API stops the test, anything else is logged like an iteration's error.
   */
  callbackError(err: unknown, where?: string): void;
  /** The resolved options (exec.test.options). */
  options: Record<string, unknown>;
  /** Epoch ms of the test's start. */
  startTime: number;
  instance: {
    vusActive: () => number;
    vusInitialized: () => number;
    completed: () => number;
    interrupted: () => number;
  };
}

export interface VuState {
  /** exec.vu.idInInstance / __VU: 0 in the init context of the options read and in setup/teardown. */
  id: number;
  /**
   * exec.vu.idInTest: unique over every instance of a segmented run (the instance's stripe of the whole test's
   * VU numbers, as k6 numbers them); __VU without a segment.
   */
  idInTest: number;
  /** __ITER: the VU's own iteration count (all scenarios). */
  iter: number;
  iterationInScenario: number;
  /**
   * exec.scenario.iterationInTest: this iteration's 0-based number among all of its scenario's, over every
   * instance of a segmented run (the plan's globalIteration of iterationInInstance).
   */
  iterationInTest: number;
  /** exec.scenario.iterationInInstance: its number among this instance's iterations of the scenario. */
  iterationInInstance: number;
  env: Record<string, string>;
  scenario: ScenarioInfo | null;
  /** exec.vu.tags: the VU's own tags (scenario tags and the script's additions). */
  tags: Tags;
  /** The current group path ("" at the root, "::a::b" inside groups a > b). */
  group: string;
  /** Aborts when the current iteration is interrupted (graceful stop over): pending requests give up. */
  signal: AbortSignal;
  registry: Registry;
  checks: ChecksBook;
  test: TestControl;
  /** Directory of the script (for open()). */
  scriptDir: string;
  /** True while the init context runs (init-only APIs). */
  init: boolean;
}

/** The tags every sample of this VU carries now: scenario, group, the VU's tags. */
export function sampleTags(vu: VuState, extra?: Tags): Tags {
  const t: Tags = { ...vu.tags };
  if (vu.scenario) t.scenario = vu.scenario.name;
  t.group = vu.group;
  if (extra) Object.assign(t, extra);
  return t;
}
