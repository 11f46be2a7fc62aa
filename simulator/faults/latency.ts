import { type Static, Type } from "@sinclair/typebox";
import { defineKind, type Issue } from "./kind.ts";
import type { Rng } from "./rng.ts";

// latency: delay the answer by a sample of a distribution. Several latency faults hitting one request add up.

/** No single delay exceeds this, so a typo cannot park a client for hours. */
export const MAX_DELAY_MS = 600_000;
/** Cap of the heavy-tailed distributions when the profile gives none. */
export const DEFAULT_TAIL_MAX_MS = 60_000;

const Ms = (description: string) => Type.Number({ minimum: 0, maximum: MAX_DELAY_MS, description });
const Cap = Type.Optional(Ms(`upper clamp, ms (default ${DEFAULT_TAIL_MAX_MS})`));
const strict = { additionalProperties: false } as const;

export const Distribution = Type.Union(
  [
    Type.Object({ type: Type.Literal("fixed"), ms: Ms("delay, ms") }, strict),
    Type.Object(
      { type: Type.Literal("uniform"), min: Ms("lowest delay, ms"), max: Ms("highest delay, ms") },
      strict,
    ),
    Type.Object(
      {
        type: Type.Literal("normal"),
        mean: Ms("mean, ms"),
        stddev: Ms("standard deviation, ms"),
        max: Cap,
      },
      { ...strict, description: "normal, clamped to [0, max]" },
    ),
    Type.Object(
      {
        type: Type.Literal("lognormal"),
        median: Type.Number({ exclusiveMinimum: 0, maximum: MAX_DELAY_MS, description: "median, ms" }),
        sigma: Type.Number({ minimum: 0, maximum: 10, description: "sigma of ln(delay)" }),
        max: Cap,
      },
      strict,
    ),
    Type.Object(
      {
        type: Type.Literal("pareto"),
        scale: Type.Number({
          exclusiveMinimum: 0,
          maximum: MAX_DELAY_MS,
          description: "minimum delay x_m, ms",
        }),
        shape: Type.Number({ exclusiveMinimum: 0, maximum: 100, description: "tail index alpha" }),
        max: Cap,
      },
      strict,
    ),
  ],
  { description: "delay distribution, chosen by `type`" },
);
export type Distribution = Static<typeof Distribution>;

const schema = Type.Object({ distribution: Distribution });
type LatencyFault = Static<typeof schema>;

/** A standard normal draw (Box-Muller) from two uniforms; 1 - u keeps ln() away from 0. */
function gauss(rng: Rng): number {
  const u1 = 1 - rng.next();
  const u2 = rng.next();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

const clamp = (x: number, max: number) => Math.min(Math.max(x, 0), max);

/** One delay, ms, from the distribution. */
export function sampleDelay(d: Distribution, rng: Rng): number {
  switch (d.type) {
    case "fixed":
      return d.ms;
    case "uniform":
      return d.min + rng.next() * (d.max - d.min);
    case "normal":
      return clamp(d.mean + d.stddev * gauss(rng), d.max ?? DEFAULT_TAIL_MAX_MS);
    case "lognormal":
      return clamp(d.median * Math.exp(d.sigma * gauss(rng)), d.max ?? DEFAULT_TAIL_MAX_MS);
    case "pareto":
      return clamp(d.scale / (1 - rng.next()) ** (1 / d.shape), d.max ?? DEFAULT_TAIL_MAX_MS);
  }
}

function check(f: LatencyFault): Issue[] {
  const d = f.distribution;
  if (d.type === "uniform" && d.min > d.max) {
    return [{ path: "distribution.max", message: "must be >= distribution.min" }];
  }
  if (d.type === "pareto" && d.max !== undefined && d.max < d.scale) {
    return [
      { path: "distribution.max", message: "must be >= distribution.scale (every sample would be the cap)" },
    ];
  }
  return [];
}

export default defineKind<LatencyFault>({
  kind: "latency",
  summary: "delay the answer by a sample of `distribution` (fixed, uniform, normal, lognormal, pareto)",
  schema,
  terminal: false,
  check,
  apply: ({ fault }, rng) => ({ delayMs: sampleDelay(fault.distribution, rng) }),
});
