import { formatDuration } from "../duration.ts";
import { baseChecks, baseTimes } from "./base.ts";
import { maxDurationMs } from "./shared-iterations.ts";
import type { ExecutorType } from "./types.ts";

// per-vu-iterations: each of `vus` VUs runs exactly `iterations` iterations, for at most maxDuration.

export const perVuIterations: ExecutorType = {
  name: "per-vu-iterations",
  model: "closed",
  fields: ["vus", "iterations", "maxDuration"],
  validate(c, path) {
    const ch = baseChecks(c, path, this.fields);
    ch.int(c, "vus", 1);
    ch.int(c, "iterations", 1);
    ch.duration(c, "maxDuration", { positive: true });
    return ch.errors;
  },
  plan(name, c) {
    const vus = (c.vus as number | undefined) ?? 1;
    const perVu = (c.iterations as number | undefined) ?? 1;
    const maxMs = maxDurationMs(c);
    return {
      name,
      executor: "per-vu-iterations",
      model: "closed",
      ...baseTimes(c),
      durationMs: maxMs,
      gracefulRampDownMs: 0,
      maxVUs: vus,
      preAllocatedVUs: vus,
      vuSteps: [{ atMs: 0, vus }],
      iterations: { perVu },
      arrivals: null,
      description: `${perVu} iterations for each of ${vus} VUs (maxDuration ${formatDuration(maxMs)})`,
    };
  },
};
