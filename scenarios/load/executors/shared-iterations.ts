import { durationMs, formatDuration } from "../duration.ts";
import { baseChecks, baseTimes } from "./base.ts";
import type { ExecutorType } from "./types.ts";

// shared-iterations: `iterations` in total, taken by `vus` VUs as fast as each finishes (one shared counter),
// for at most maxDuration. Defaults as k6: 1 VU, 1 iteration, 10m.

export const sharedIterations: ExecutorType = {
  name: "shared-iterations",
  model: "closed",
  fields: ["vus", "iterations", "maxDuration"],
  validate(c, path) {
    const ch = baseChecks(c, path, this.fields);
    ch.int(c, "vus", 1);
    ch.int(c, "iterations", 1);
    ch.duration(c, "maxDuration", { positive: true });
    const vus = (c.vus as number | undefined) ?? 1;
    const iterations = (c.iterations as number | undefined) ?? 1;
    if (ch.errors.length === 0 && iterations < vus) {
      ch.fail("iterations", `${iterations} is less than vus (${vus}): some VUs would have nothing to do`);
    }
    return ch.errors;
  },
  plan(name, c) {
    const vus = (c.vus as number | undefined) ?? 1;
    const total = (c.iterations as number | undefined) ?? 1;
    const maxMs = maxDurationMs(c);
    return {
      name,
      executor: "shared-iterations",
      model: "closed",
      ...baseTimes(c),
      durationMs: maxMs,
      gracefulRampDownMs: 0,
      maxVUs: vus,
      preAllocatedVUs: vus,
      vuSteps: [{ atMs: 0, vus }],
      iterations: { total },
      arrivals: null,
      description: `${total} iterations shared among ${vus} VUs (maxDuration ${formatDuration(maxMs)})`,
    };
  },
};

/** k6's default maxDuration of the iteration executors is 10 minutes. */
export function maxDurationMs(c: Record<string, unknown>): number {
  return durationMs((c.maxDuration as string | number | undefined) ?? "10m");
}
