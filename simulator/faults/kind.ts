import type { TObject } from "@sinclair/typebox";
import type { Rng } from "./rng.ts";
import type { FaultDecision, FaultRequest, FrameFate } from "./seam.ts";

// The contract of one fault kind (STYLE.md "A fault kind is one file"). A kind only says what happens once the
// engine has decided it is hit: selection, time windows, count limits and the probability roll are generic and
// live on the wrapper (profile.ts, engine.ts), so no kind rolls its own dice.
//
// A kind takes part in one or more phases, each an optional power:
//   request   every vendor request, before its handler (latency, error, outage): `apply`
//   issue     a resource being issued (expiry TTL override): `issue`
//   sweep     existing resources, once when the fault becomes active (expiry): the engine force-expires hits
//   download  one download, before it starts (cdn, expiry on use): `download`
//   catalog   song rights while the fault is active (revocation): `revokes`; no dice, no counts
//   media     the frames of a published stream (media): the selector, probability and counts pick streams,
//             `mediaStream` sets up a picked stream, then `mediaFrame` decides each frame while the fault is on

/** A problem in a fault's parameters the schema cannot express. `path` is relative to the fault. */
export interface Issue {
  path: string;
  message: string;
}

export type Phase = "request" | "issue" | "sweep" | "download" | "catalog" | "media";

export interface ApplyContext<P> {
  /** The validated fault: generic knobs plus this kind's parameters. */
  fault: P;
  request: FaultRequest;
  /** Clock time of the decision, ms since the epoch. */
  now: number;
}

/** A kind's effect on one download; the engine merges the effects of every fault that hits it. */
export interface DownloadEffect {
  expire?: boolean;
  firstByteDelayMs?: number;
  stall?: { afterBytes: number; ms: number };
  resetAfterBytes?: number;
  cap?: { bytesPerSec: number; global: boolean };
}

/** Rights a revocation withdraws: everything, or the accompaniment (the song stays listen-only). */
export type Withdrawn = "all" | "listen_only";

export interface FaultKind<P = Record<string, unknown>, S = unknown> {
  kind: string;
  /** One line for the OpenAPI document. */
  summary: string;
  /** This kind's own parameters: their properties sit at the fault's top level, beside `kind`. */
  schema: TObject;
  /** Terminal kinds answer instead of the route (errors, outages): the first one in profile order wins. */
  terminal?: boolean;
  /** Cross-field constraints, checked once the schema passed; sees the whole fault, wrapper included. */
  check?(fault: P): Issue[];
  /** The phases this fault takes part in (default: request). */
  phases?(fault: P): readonly Phase[];
  /** request: the effect on this request. Draw randomness only from `rng` (deterministic per request key). */
  apply?(ctx: ApplyContext<P>, rng: Rng): FaultDecision;
  /** issue: the validity of a resource being issued, ms. */
  issue?(ctx: ApplyContext<P>, rng: Rng): number;
  /** download: the effect on one download. */
  download?(ctx: ApplyContext<P>, rng: Rng): DownloadEffect;
  /** catalog: what the fault withdraws from the songs its selector picks while it is active. */
  revokes?(fault: P): Withdrawn;
  /** media: this fault's state for one stream it picked; `rng` draws are per stream. */
  mediaStream?(fault: P, rng: Rng): S;
  /**
   * media: the effect on frame `seq`, written into `out` (reset by the engine; the frame path allocates
   * nothing). `rng` draws are a pure function of (seed, fault id, stream key, seq).
   */
  mediaFrame?(fault: P, stream: S, seq: number, rng: Rng, out: FrameFate): void;
}

/** Keeps each kind file typed against its own parameters while the registry holds them side by side. */
export function defineKind<P, S = unknown>(k: FaultKind<P, S>): FaultKind {
  return k as unknown as FaultKind;
}
