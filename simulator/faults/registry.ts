import cdnKind from "./cdn.ts";
import disconnectKind from "./disconnect.ts";
import errorKind from "./error.ts";
import expiryKind from "./expiry.ts";
import type { FaultKind } from "./kind.ts";
import latencyKind from "./latency.ts";
import mediaKind from "./media.ts";
import outageKind from "./outage.ts";
import revocationKind from "./revocation.ts";

// Fault kinds by name. A new kind is one file plus one line here; the engine and the profile schema pick it up.
const KINDS: readonly FaultKind[] = [
  latencyKind,
  errorKind,
  outageKind,
  expiryKind,
  revocationKind,
  cdnKind,
  mediaKind,
  disconnectKind,
];

const byName = new Map(KINDS.map((k) => [k.kind, k]));

export function getKind(name: string): FaultKind | undefined {
  return byName.get(name);
}

export function allKinds(): readonly FaultKind[] {
  return KINDS;
}

export function kindNames(): string[] {
  return KINDS.map((k) => k.kind);
}
