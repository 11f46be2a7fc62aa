import { durationMs, formatDuration } from "../duration.ts";
import { baseChecks, baseTimes, checkStages, stagesMs } from "./base.ts";
import type { ExecutorType, VuStep } from "./types.ts";

// ramping-vus: the VU count follows `stages` linearly from `startVUs`; VU j runs while the count is above j.
// The plan steps the line per whole VU: the count becomes n once the line reaches n (ramping up) or falls to
// n (ramping down), as k6 does. A VU ramped away finishes its iteration within gracefulRampDown.

export const rampingVus: ExecutorType = {
  name: "ramping-vus",
  model: "closed",
  fields: ["stages", "startVUs", "gracefulRampDown"],
  validate(c, path) {
    const ch = baseChecks(c, path, this.fields);
    ch.int(c, "startVUs", 0);
    ch.duration(c, "gracefulRampDown");
    const stages = checkStages(ch, c);
    if (stages && ch.errors.length === 0) {
      const peak = Math.max((c.startVUs as number | undefined) ?? 1, ...stages.map((s) => s.target));
      if (peak === 0) ch.fail("stages", "no stage has a VU: startVUs and every target are 0");
    }
    return ch.errors;
  },
  plan(name, c) {
    const start = (c.startVUs as number | undefined) ?? 1;
    const stages = stagesMs(c);
    const steps = rampSteps(start, stages);
    const total = stages.reduce((a, s) => a + s.durationMs, 0);
    const maxVUs = Math.max(start, ...stages.map((s) => s.target));
    return {
      name,
      executor: "ramping-vus",
      model: "closed",
      ...baseTimes(c),
      durationMs: total,
      gracefulRampDownMs: durationMs((c.gracefulRampDown as string | undefined) ?? "30s"),
      maxVUs,
      preAllocatedVUs: maxVUs,
      vuSteps: steps,
      iterations: null,
      arrivals: null,
      description: `up to ${maxVUs} looping VUs over ${stages.length} stages for ${formatDuration(total)}`,
    };
  },
};

/** The step function of a linear ramp through `stages`, one step per whole VU (merged when simultaneous). */
export function rampSteps(start: number, stages: { durationMs: number; target: number }[]): VuStep[] {
  const steps: VuStep[] = [{ atMs: 0, vus: start }];
  const push = (atMs: number, vus: number) => {
    const last = steps[steps.length - 1]!;
    if (last.vus === vus) return;
    if (last.atMs === atMs) last.vus = vus;
    else steps.push({ atMs, vus });
  };
  let t = 0;
  let from = start;
  for (const s of stages) {
    const to = s.target;
    if (s.durationMs === 0) push(t, to);
    else if (to > from) {
      // Up: VU n joins when the line reaches n.
      for (let n = from + 1; n <= to; n++) push(t + ((n - from) / (to - from)) * s.durationMs, n);
    } else if (to < from) {
      // Down: the count drops to n once the line is at n.
      for (let n = from - 1; n >= to; n--) push(t + ((from - n) / (from - to)) * s.durationMs, n);
    }
    t += s.durationMs;
    from = to;
  }
  return steps;
}
