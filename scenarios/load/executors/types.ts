import type { ExecutorOptions } from "k6/options";

// The executor contract, after k6's lib/executors.go: a config type knows its fields and defaults, validates
// itself (every error), and plans its schedule from the config alone. Running the plan is the runner's job
// (run/schedule.ts); an executor file never touches time or threads.

export type ExecutorName = ExecutorOptions;
export type Model = "closed" | "open";

/** From `atMs` (since the executor's start) on, `vus` VUs are wanted. */
export interface VuStep {
  atMs: number;
  vus: number;
}

export interface ExecutorPlan {
  /** The k6 scenario's name (key of `options.scenarios`). */
  name: string;
  executor: ExecutorName;
  model: Model;
  /** startTime: offset from the run's start. */
  startMs: number;
  /**
   * How long the executor schedules work: its duration, the sum of its stages, or (iteration executors) its
   * maxDuration, which is a limit, not a promise.
   */
  durationMs: number;
  /** Iterations still running at the end get this long before they are interrupted. */
  gracefulStopMs: number;
  /** Ramping VUs going away finish their iteration within this (ramping-vus); else 0. */
  gracefulRampDownMs: number;
  /** VUs this executor needs at most; the runner allocates these. */
  maxVUs: number;
  /** Open model: VUs allocated up front (the others are allocated on demand, up to maxVUs). */
  preAllocatedVUs: number;
  /** Closed model: the wanted VU count over time (a step function; ramps are stepped per whole VU). */
  vuSteps: VuStep[];
  /** Fixed iteration counts: `total` shared by all VUs, or `perVu` each. */
  iterations: { total: number } | { perVu: number } | null;
  /** Open model: how many iterations arrive and when the i-th does (ms since the executor's start). */
  arrivals: { count: number; at: (i: number) => number } | null;
  /** One line for people, like k6's executor description. */
  description: string;
  /**
   * Under an execution segment (segments/plan.ts): the whole test's number of this instance's k-th (0-based)
   * iteration, k6's scenario.iterationInTest. Absent: the identity (the whole test runs here).
   */
  globalIteration?: (k: number) => number;
}

export interface ExecutorType {
  name: ExecutorName;
  model: Model;
  /** The executor's own fields (beside executor, startTime, gracefulStop). */
  fields: readonly string[];
  /** Every problem, as "path: why"; `path` is e.g. "options.scenarios.main". */
  validate(config: Record<string, unknown>, path: string): string[];
  /** The schedule of a config that validate() accepted. */
  plan(name: string, config: Record<string, unknown>): ExecutorPlan;
}
