import { constantArrivalRate } from "./constant-arrival-rate.ts";
import { constantVus } from "./constant-vus.ts";
import { perVuIterations } from "./per-vu-iterations.ts";
import { rampingArrivalRate } from "./ramping-arrival-rate.ts";
import { rampingVus } from "./ramping-vus.ts";
import { sharedIterations } from "./shared-iterations.ts";
import type { ExecutorType } from "./types.ts";

// The executor registry, by k6's names.

const ALL: ExecutorType[] = [
  sharedIterations,
  perVuIterations,
  constantVus,
  rampingVus,
  constantArrivalRate,
  rampingArrivalRate,
];

export const EXECUTORS: ReadonlyMap<string, ExecutorType> = new Map(ALL.map((e) => [e.name, e]));

export function executorNames(): string[] {
  return ALL.map((e) => e.name);
}
