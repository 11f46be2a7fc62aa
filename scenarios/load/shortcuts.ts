import type { LoadOptions } from "../format.ts";

// k6's execution shortcuts (lib/execution_config_shortcuts.go) expanded into the long form, one scenario
// named "default":
//   iterations (+ vus, + duration as maxDuration) -> shared-iterations
//   duration (+ vus)                              -> constant-vus
//   stages (+ vus as startVUs)                    -> ramping-vus
//   vus alone, or nothing                         -> per-vu-iterations, 1 iteration per VU
// Shortcuts do not mix with `scenarios`, nor stages with duration or iterations (k6 refuses these too).

export type ScenarioConfigs = Record<string, Record<string, unknown>>;

export interface Expanded {
  scenarios: ScenarioConfigs;
  errors: string[];
}

export function expandShortcuts(o: LoadOptions): Expanded {
  const { vus, duration, iterations, stages, scenarios } = o;
  const has = (v: unknown) => v !== undefined && v !== null;
  const errors: string[] = [];
  if (has(scenarios)) {
    const used = (["vus", "duration", "iterations", "stages"] as const).filter((k) => has(o[k]));
    if (used.length > 0) {
      errors.push(
        `options: ${used.join(", ")} cannot be combined with options.scenarios (put them in a scenario)`,
      );
    }
    if (typeof scenarios !== "object" || scenarios === null || Array.isArray(scenarios)) {
      return {
        scenarios: {},
        errors: [...errors, "options.scenarios: must be an object of named scenarios"],
      };
    }
    if (Object.keys(scenarios).length === 0)
      errors.push("options.scenarios: at least one scenario is needed");
    return { scenarios: scenarios as unknown as ScenarioConfigs, errors };
  }
  if (has(stages) && (has(duration) || has(iterations))) {
    const other = has(duration) ? "duration" : "iterations";
    return { scenarios: {}, errors: [`options: stages cannot be combined with ${other}`] };
  }
  const withVus = has(vus) ? { vus } : {};
  if (has(iterations)) {
    return {
      scenarios: {
        default: {
          executor: "shared-iterations",
          ...withVus,
          iterations,
          ...(has(duration) ? { maxDuration: duration } : {}),
        },
      },
      errors,
    };
  }
  if (has(duration)) {
    return { scenarios: { default: { executor: "constant-vus", ...withVus, duration } }, errors };
  }
  if (has(stages)) {
    return {
      scenarios: { default: { executor: "ramping-vus", ...(has(vus) ? { startVUs: vus } : {}), stages } },
      errors,
    };
  }
  return { scenarios: { default: { executor: "per-vu-iterations", ...withVus, iterations: 1 } }, errors };
}
