import type { LoadOptions } from "../format.ts";
import { segmentPlan } from "../segments/plan.ts";
import { ExecutionTuple } from "../segments/tuple.ts";
import { EXECUTORS, executorNames } from "./executors/index.ts";
import type { ExecutorPlan } from "./executors/types.ts";
import { expandShortcuts, type ScenarioConfigs } from "./shortcuts.ts";

// The whole load's schedule from the options alone (k6's GetExecutionRequirements): every scenario's plan,
// the run's length, and the most VUs in use at once. Validation first: planning an invalid load throws with
// every problem listed.

export interface LoadPlan {
  scenarios: ExecutorPlan[];
  /** Until the last scenario's scheduled work ends (startTime + duration), ms. */
  durationMs: number;
  /** Until the last scenario's graceful stop ends: the longest a run can take, ms. */
  maxDurationMs: number;
  /** Sum of every scenario's maxVUs: each scenario owns its VUs, as in k6. */
  maxVUs: number;
  /** The execution segment planned ("0:1" and "0,1" for the whole test), k6's canonical text. */
  segment: { segment: string; sequence: string };
}

export class LoadError extends Error {
  constructor(readonly errors: string[]) {
    super(`invalid load:\n  ${errors.join("\n  ")}`);
    this.name = "LoadError";
  }
}

/** Every problem of the load options, as "path: why". */
export function validateLoad(o: LoadOptions): string[] {
  const { scenarios, errors } = expandShortcuts(o);
  return [...errors, ...validateScenarios(scenarios)];
}

function validateScenarios(scenarios: ScenarioConfigs): string[] {
  const errors: string[] = [];
  for (const [name, c] of Object.entries(scenarios)) {
    const path = `options.scenarios.${name}`;
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(name))
      errors.push(`${path}: the name must be 1-64 letters, digits, - or _`);
    if (typeof c !== "object" || c === null || Array.isArray(c)) {
      errors.push(`${path}: must be an object`);
      continue;
    }
    const type = EXECUTORS.get(String(c.executor));
    if (!type) {
      errors.push(
        `${path}.executor: must be one of ${executorNames().join(", ")}, got ${JSON.stringify(c.executor)}`,
      );
      continue;
    }
    errors.push(...type.validate(c, path));
  }
  return errors;
}

export function planLoad(o: LoadOptions, tuple: ExecutionTuple = ExecutionTuple.FULL): LoadPlan {
  const errors = validateLoad(o);
  if (errors.length > 0) throw new LoadError(errors);
  const { scenarios } = expandShortcuts(o);
  const plans = Object.entries(scenarios).map(([name, c]) =>
    segmentPlan(EXECUTORS.get(String(c.executor))!.plan(name, c), tuple),
  );
  return {
    scenarios: plans,
    durationMs: Math.max(...plans.map((p) => p.startMs + p.durationMs)),
    maxDurationMs: Math.max(...plans.map((p) => p.startMs + p.durationMs + p.gracefulStopMs)),
    maxVUs: plans.reduce((a, p) => a + p.maxVUs, 0),
    segment: tuple.describe(),
  };
}

/** The expanded long form (shortcuts resolved), for summary.json and `ktv run --plan`. */
export function longForm(o: LoadOptions): ScenarioConfigs {
  return expandShortcuts(o).scenarios;
}

/** The wanted VU count of a closed-model plan at `t` ms since its start. */
export function vusAt(p: ExecutorPlan, t: number): number {
  let vus = 0;
  for (const s of p.vuSteps) {
    if (s.atMs > t) break;
    vus = s.vus;
  }
  return t >= p.durationMs ? 0 : vus;
}
