import { durationMs, formatDuration } from "../duration.ts";
import { baseChecks, baseTimes } from "./base.ts";
import type { ExecutorType } from "./types.ts";

// constant-vus: `vus` VUs loop over iterations for `duration` (closed model: a slow system gets fewer starts).

export const constantVus: ExecutorType = {
  name: "constant-vus",
  model: "closed",
  fields: ["vus", "duration"],
  validate(c, path) {
    const ch = baseChecks(c, path, this.fields);
    ch.int(c, "vus", 1);
    ch.duration(c, "duration", { required: true, positive: true });
    return ch.errors;
  },
  plan(name, c) {
    const vus = (c.vus as number | undefined) ?? 1;
    const ms = durationMs(c.duration as string);
    return {
      name,
      executor: "constant-vus",
      model: "closed",
      ...baseTimes(c),
      durationMs: ms,
      gracefulRampDownMs: 0,
      maxVUs: vus,
      preAllocatedVUs: vus,
      vuSteps: [{ atMs: 0, vus }],
      iterations: null,
      arrivals: null,
      description: `${vus} looping VUs for ${formatDuration(ms)}`,
    };
  },
};
