import type { Checks } from "../check.ts";
import { durationMs, formatDuration } from "../duration.ts";
import { baseChecks, baseTimes } from "./base.ts";
import type { ExecutorType } from "./types.ts";

// constant-arrival-rate (open model): `rate` iterations per `timeUnit`, started evenly spread (the i-th at
// i·timeUnit/rate) whatever the system's speed, by preAllocatedVUs VUs, more on demand up to maxVUs. An
// arrival that finds no free VU waits (its latency clock running: the corrected values) or is dropped.

export const constantArrivalRate: ExecutorType = {
  name: "constant-arrival-rate",
  model: "open",
  fields: ["rate", "timeUnit", "duration", "preAllocatedVUs", "maxVUs"],
  validate(c, path) {
    const ch = baseChecks(c, path, this.fields);
    ch.int(c, "rate", 1, { required: true });
    ch.duration(c, "timeUnit", { positive: true });
    ch.duration(c, "duration", { required: true, positive: true });
    checkVuPool(ch, c);
    return ch.errors;
  },
  plan(name, c) {
    const rate = c.rate as number;
    const unitMs = durationMs((c.timeUnit as string | undefined) ?? "1s");
    const ms = durationMs(c.duration as string);
    const interval = unitMs / rate;
    const count = Math.ceil(ms / interval - 1e-9);
    const pool = vuPool(c);
    return {
      name,
      executor: "constant-arrival-rate",
      model: "open",
      ...baseTimes(c),
      durationMs: ms,
      gracefulRampDownMs: 0,
      ...pool,
      vuSteps: [{ atMs: 0, vus: pool.preAllocatedVUs }],
      iterations: null,
      arrivals: { count, at: (i) => i * interval },
      description: `${rate} iterations per ${formatDuration(unitMs)} for ${formatDuration(ms)} (${count} arrivals, ${pool.preAllocatedVUs}-${pool.maxVUs} VUs)`,
    };
  },
};

/** preAllocatedVUs (required) and maxVUs (default preAllocatedVUs, never below it, at least 1). */
export function checkVuPool(ch: Checks, c: Record<string, unknown>): void {
  ch.int(c, "preAllocatedVUs", 0, { required: true });
  ch.int(c, "maxVUs", 1);
  const pre = c.preAllocatedVUs;
  const max = c.maxVUs;
  if (typeof pre === "number" && typeof max === "number" && max < pre) {
    ch.fail("maxVUs", `${max} is less than preAllocatedVUs (${pre})`);
  }
  if (pre === 0 && max === undefined) ch.fail("maxVUs", "is required when preAllocatedVUs is 0");
}

export function vuPool(c: Record<string, unknown>): { preAllocatedVUs: number; maxVUs: number } {
  const pre = c.preAllocatedVUs as number;
  return { preAllocatedVUs: pre, maxVUs: (c.maxVUs as number | undefined) ?? pre };
}
