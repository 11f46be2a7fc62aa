import { Checks } from "../check.ts";
import { durationMs } from "../duration.ts";

// Fields every executor has (k6's BaseConfig): executor, startTime, gracefulStop. k6's exec/env/tags/options
// name JavaScript functions and per-scenario environments, which a ktv scenario does not have: refused with
// the reason rather than ignored.

export const BASE_FIELDS = ["executor", "startTime", "gracefulStop"] as const;

const UNSUPPORTED: Record<string, string> = {
  exec: "not supported: what a VU runs is chosen by ktv.vu",
  env: "not supported: a ktv scenario has no per-scenario environment",
  tags: "not supported: metrics are tagged by ktv (role, code, rule)",
  options: "not supported: browser options are k6's",
};

export const DEFAULT_GRACEFUL_STOP = "30s";

/** Validates the base fields and refuses fields outside `own`; returns a Checks to continue with. */
export function baseChecks(c: Record<string, unknown>, path: string, own: readonly string[]): Checks {
  const ch = new Checks(path);
  ch.onlyKeys(c, [...BASE_FIELDS, ...own], UNSUPPORTED);
  ch.duration(c, "startTime");
  ch.duration(c, "gracefulStop");
  return ch;
}

export function baseTimes(c: Record<string, unknown>): { startMs: number; gracefulStopMs: number } {
  return {
    startMs: c.startTime === undefined ? 0 : durationMs(c.startTime as string),
    gracefulStopMs: durationMs((c.gracefulStop as string | undefined) ?? DEFAULT_GRACEFUL_STOP),
  };
}

export interface StageValue {
  duration: string;
  target: number;
}

/** k6 stages: a non-empty list of {duration, target >= 0}; returns them in ms when valid. */
export function checkStages(
  ch: Checks,
  c: Record<string, unknown>,
): { durationMs: number; target: number }[] | null {
  const stages = c.stages;
  if (!Array.isArray(stages) || stages.length === 0) {
    ch.fail("stages", "must be a non-empty list of {duration, target}");
    return null;
  }
  const out: { durationMs: number; target: number }[] = [];
  stages.forEach((s, i) => {
    if (!ch.isObject(s, `stages[${i}]`)) return;
    const sc = new Checks(ch.at(`stages[${i}]`));
    sc.onlyKeys(s, ["duration", "target"]);
    const ms = sc.duration(s, "duration", { required: true });
    sc.int(s, "target", 0, { required: true });
    ch.errors.push(...sc.errors);
    if (sc.errors.length === 0 && ms !== undefined) out.push({ durationMs: ms, target: s.target as number });
  });
  if (out.length === stages.length && out.reduce((a, s) => a + s.durationMs, 0) <= 0) {
    ch.fail("stages", "the stages must last longer than 0 in total");
  }
  return out.length === stages.length ? out : null;
}

export function stagesMs(c: Record<string, unknown>): { durationMs: number; target: number }[] {
  return (c.stages as StageValue[]).map((s) => ({ durationMs: durationMs(s.duration), target: s.target }));
}
