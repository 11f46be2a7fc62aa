import { type TSchema, Type } from "@sinclair/typebox";
import type { Catalog } from "../catalog/types.ts";
import { explain, joinPath } from "./explain.ts";
import type { FaultKind } from "./kind.ts";
import { allKinds, getKind, kindNames } from "./registry.ts";
import { Selector } from "./selector.ts";

// The fault profile: `{faults: [...]}`, the same JSON in `ktv sim --faults`, `PUT /admin/faults` and scenario
// files. Each fault is the generic wrapper (id, enabled, probability, selector, window, count limits) plus
// its kind's own parameters at the top level beside `kind` (toxiproxy keeps them in `attributes`; the issue
// fixes them flat). The same TypeBox schemas validate profiles and document them in OpenAPI.

export const MAX_FAULTS = 256;
const MAX_REPORTED_ERRORS = 100;

const Count = (description: string) => Type.Optional(Type.Integer({ minimum: 1, description }));
const Time = (description: string) => Type.Optional(Type.Number({ minimum: 0, description }));

/** Knobs every fault has, whatever its kind (STYLE.md "Generic knobs live on the wrapper"). */
const wrapper = {
  id: Type.String({ pattern: "^[A-Za-z0-9_.:-]{1,64}$", description: "unique within the profile" }),
  description: Type.Optional(Type.String({ maxLength: 1000 })),
  enabled: Type.Optional(Type.Boolean({ default: true })),
  probability: Type.Optional(
    Type.Number({ minimum: 0, maximum: 1, default: 1, description: "chance a selected request is hit" }),
  ),
  selector: Type.Optional(Selector),
  from: Time("window start, ms after the time base (simulator start, or profile time with time_base)"),
  until: Time("window end (exclusive), ms after the time base; must be > from"),
  first: Count("only the first N matching requests are candidates"),
  every: Count("only every Nth matching request is a candidate"),
  max: Count("at most N injections"),
  count_scope: Type.Optional(
    Type.Union([Type.Literal("global"), Type.Literal("user")], {
      description:
        'count first/every/max over all requests ("global", the default) or per app+user ("user", order-independent)',
    }),
  ),
};
const WRAPPER_KEYS = new Set(["kind", ...Object.keys(wrapper)]);

/** The full schema of one fault of `kind`: wrapper + kind literal + the kind's parameters, nothing else. */
export function faultSchema(k: FaultKind): TSchema {
  for (const p of Object.keys(k.schema.properties)) {
    if (WRAPPER_KEYS.has(p)) {
      throw new Error(`fault kind ${k.kind}: parameter "${p}" collides with a wrapper field`);
    }
  }
  return Type.Object(
    { ...wrapper, kind: Type.Literal(k.kind), ...k.schema.properties },
    { additionalProperties: false, title: `${k.kind} fault`, description: k.summary },
  );
}

const faultSchemas = new Map(allKinds().map((k) => [k.kind, faultSchema(k)]));

/** The profile document: what `PUT /admin/faults` takes and `GET /admin/faults` answers. */
export const FaultProfileSchema = Type.Object(
  {
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    time_base: Type.Optional(
      Type.Union([Type.Literal("start"), Type.Literal("profile")], {
        description:
          'from/until count from simulator start ("start", the default) or from when this profile was applied',
      }),
    ),
    faults: Type.Array(Type.Union([...faultSchemas.values()]), { maxItems: MAX_FAULTS }),
  },
  { additionalProperties: false, title: "fault profile" },
);

/** Envelope of the profile without the per-fault detail, checked first so each fault is explained alone. */
const Outline = Type.Object(
  { ...FaultProfileSchema.properties, faults: Type.Array(Type.Unknown(), { maxItems: MAX_FAULTS }) },
  { additionalProperties: false },
);
const WrapperOnly = Type.Object(wrapper, { additionalProperties: true });

export interface FaultSpec {
  id: string;
  kind: string;
  description?: string;
  enabled: boolean;
  probability: number;
  selector?: Selector;
  from?: number;
  until?: number;
  first?: number;
  every?: number;
  max?: number;
  count_scope?: "global" | "user";
  /** The kind's own parameters. */
  [param: string]: unknown;
}

export interface FaultProfile {
  description?: string;
  time_base?: "start" | "profile";
  faults: FaultSpec[];
}

export type ProfileCheck = { ok: true; profile: FaultProfile } | { ok: false; errors: string[] };

/** Refusal of a whole profile; `errors` names every problem ("path: why"). */
export class FaultProfileError extends Error {
  readonly errors: string[];
  constructor(errors: string[]) {
    super(`invalid fault profile: ${errors.join("; ")}`);
    this.name = "FaultProfileError";
    this.errors = errors;
  }
}

function checkFault(f: unknown, at: string, catalog: Catalog | undefined): string[] {
  if (typeof f !== "object" || f === null || Array.isArray(f)) return [`${at}: must be an object`];
  const fault = f as Record<string, unknown>;
  const kind = typeof fault.kind === "string" ? getKind(fault.kind) : undefined;
  if (!kind) {
    const why = fault.kind === undefined ? "is required" : `unknown kind ${JSON.stringify(fault.kind)}`;
    // Still report the generic fields, so one round trip fixes everything.
    return [`${at}.kind: ${why} (known: ${kindNames().join(", ")})`, ...explain(WrapperOnly, f, at)];
  }
  const errors = explain(faultSchemas.get(kind.kind)!, f, at);
  const { from, until } = fault;
  if (typeof from === "number" && typeof until === "number" && from >= until) {
    errors.push(`${at}.until: must be > from (${from})`);
  }
  // Cross-field checks of the kind assume well-typed fields.
  if (errors.length > 0) return errors;
  for (const i of kind.check?.(fault) ?? []) errors.push(`${joinPath(at, i.path)}: ${i.message}`);
  const spec = fault as FaultSpec;
  if (spec.selector?.stream_ids && !(kind.phases?.(fault) ?? []).includes("media")) {
    errors.push(`${at}.selector.stream_ids: only media faults select streams`);
  }
  spec.selector?.song_ids?.forEach((id, j) => {
    if (catalog && !catalog.get(id)) {
      errors.push(`${at}.selector.song_ids[${j}]: unknown song id ${JSON.stringify(id)}`);
    }
  });
  return errors;
}

function withDefaults(f: FaultSpec): FaultSpec {
  return { ...f, enabled: f.enabled ?? true, probability: f.probability ?? 1 };
}

/**
 * Validates a parsed profile: every problem is reported, nothing is half accepted. With a catalog, song ids
 * in selectors must exist. The result is a deep copy with defaults filled in, frozen.
 */
export function checkProfile(input: unknown, opts: { catalog?: Catalog } = {}): ProfileCheck {
  const errors = explain(Outline, input);
  const faults = (input as { faults?: unknown } | null)?.faults;
  if (!Array.isArray(faults) || faults.length > MAX_FAULTS) return { ok: false, errors };
  const p = input as FaultProfile;
  const firstById = new Map<string, number>();
  p.faults.forEach((f, i) => {
    errors.push(...checkFault(f, `faults[${i}]`, opts.catalog));
    const id = (f as { id?: unknown } | null)?.id;
    if (typeof id !== "string") return;
    const seen = firstById.get(id);
    if (seen === undefined) firstById.set(id, i);
    else errors.push(`faults[${i}].id: duplicate id ${JSON.stringify(id)} (also faults[${seen}])`);
  });
  if (errors.length > MAX_REPORTED_ERRORS) {
    const more = errors.length - MAX_REPORTED_ERRORS;
    return { ok: false, errors: [...errors.slice(0, MAX_REPORTED_ERRORS), `... and ${more} more`] };
  }
  if (errors.length > 0) return { ok: false, errors };
  const profile: FaultProfile = structuredClone({ ...p, faults: p.faults.map(withDefaults) });
  return { ok: true, profile: deepFreeze(profile) };
}

/** Like checkProfile, but throws FaultProfileError (for `--faults` at start-up and `replace`). */
export function parseProfile(input: unknown, opts: { catalog?: Catalog } = {}): FaultProfile {
  const r = checkProfile(input, opts);
  if (!r.ok) throw new FaultProfileError(r.errors);
  return r.profile;
}

export const EMPTY_PROFILE: FaultProfile = Object.freeze({
  faults: Object.freeze([]) as unknown as FaultSpec[],
});

function deepFreeze<T>(v: T): T {
  if (typeof v === "object" && v !== null) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}
