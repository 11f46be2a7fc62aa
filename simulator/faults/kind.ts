import type { TObject } from "@sinclair/typebox";
import type { Rng } from "./rng.ts";
import type { FaultDecision, FaultRequest } from "./seam.ts";

// The contract of one fault kind (STYLE.md "A fault kind is one file"). A kind only says what happens to a
// request once the engine has decided it is hit: selection, time windows, count limits and the probability
// roll are generic and live on the wrapper (profile.ts, engine.ts), so no kind rolls its own dice.

/** A problem in a fault's parameters the schema cannot express. `path` is relative to the fault. */
export interface Issue {
  path: string;
  message: string;
}

export interface ApplyContext<P> {
  /** The validated fault: generic knobs plus this kind's parameters. */
  fault: P;
  request: FaultRequest;
  /** Clock time of the decision, ms since the epoch. */
  now: number;
}

export interface FaultKind<P = Record<string, unknown>> {
  kind: string;
  /** One line for the OpenAPI document. */
  summary: string;
  /** This kind's own parameters: their properties sit at the fault's top level, beside `kind`. */
  schema: TObject;
  /** Terminal kinds answer instead of the route (errors, outages): the first one in profile order wins. */
  terminal: boolean;
  /** Cross-field constraints, checked once the schema passed. */
  check?(fault: P): Issue[];
  /** The effect on this request. Draw randomness only from `rng` (deterministic per request key). */
  apply(ctx: ApplyContext<P>, rng: Rng): FaultDecision;
}

/** Keeps each kind file typed against its own parameters while the registry holds them side by side. */
export function defineKind<P>(k: FaultKind<P>): FaultKind {
  return k as unknown as FaultKind;
}
