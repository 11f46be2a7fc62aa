import { illegalParam, ServerApiError } from "./errors.ts";

// Action params from the query string. Lists go on the wire as `Name[]=a&Name[]=b` (the vendor's request
// examples: `Filter[]=1&Filter[]=3`, `SongsId[]=...`); a scalar is one `Name=value`. The usual slips get a
// message that says what to send instead: a list sent without `[]` (it would otherwise be ignored and the
// filter silently not applied), a scalar sent twice or as a list, a number that is not one.

export type ParamKind = "string" | "int" | "strings" | "ints";

export interface ParamSpec {
  /** The name on the wire; lists are sent as `name[]`. */
  name: string;
  /** The SDK command's param it becomes (snake_case). */
  sdk: string;
  kind: ParamKind;
  required?: boolean;
  /** Smallest accepted integer (ints only). */
  min?: number;
  /** Code for a value that is not a (large enough) integer; default 320000004. */
  badCode?: number;
  description: string;
}

export type Query = Readonly<Record<string, string | string[] | undefined>>;

const INT = /^-?\d{1,15}$/;

const wireName = (s: ParamSpec) => (s.kind === "strings" || s.kind === "ints" ? `${s.name}[]` : s.name);

function intOf(spec: ParamSpec, raw: string, shown: string): number {
  const bad = (why: string) =>
    spec.badCode === undefined || spec.badCode === 320000004
      ? illegalParam(shown, why)
      : new ServerApiError(spec.badCode, `${shown} ${why}`);
  if (!INT.test(raw)) throw bad(`must be an integer, got ${JSON.stringify(raw.slice(0, 40))}`);
  const n = Number(raw);
  if (spec.min !== undefined && n < spec.min) throw bad(`must be at least ${spec.min}, got ${n}`);
  return n;
}

/** The query's action params as the SDK command's params object (snake_case names, typed values). */
export function readParams(query: Query, specs: readonly ParamSpec[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of specs) {
    const list = s.kind === "strings" || s.kind === "ints";
    const other = list ? query[s.name] : query[`${s.name}[]`];
    if (other !== undefined) {
      throw illegalParam(
        list ? s.name : `${s.name}[]`,
        list ? `is a list: send ${s.name}[]=a&${s.name}[]=b` : `is one value: send ${s.name}=value`,
      );
    }
    const raw = query[wireName(s)];
    if (list) {
      if (raw === undefined) {
        if (s.required) throw illegalParam(wireName(s), "is required");
        continue;
      }
      const values = Array.isArray(raw) ? raw : [raw];
      out[s.sdk] = s.kind === "ints" ? values.map((v) => intOf(s, v, wireName(s))) : values;
      continue;
    }
    if (Array.isArray(raw)) throw illegalParam(s.name, "is given more than once");
    if (raw === undefined || raw === "") {
      if (s.required) throw illegalParam(s.name, "is required");
      continue;
    }
    out[s.sdk] = s.kind === "int" ? intOf(s, raw, s.name) : raw;
  }
  return out;
}

/** Renames SDK param names inside a message to the wire names of `specs` (and vendor_id to VendorId). */
export function renamer(specs: readonly ParamSpec[]): (message: string) => string {
  const pairs: [RegExp, string][] = [
    ...specs.map((s) => [new RegExp(`\\b${s.sdk}\\b`, "g"), wireName(s)] as [RegExp, string]),
    [/\bvendor_id\b/g, "VendorId"],
  ];
  return (m) => pairs.reduce((acc, [re, to]) => acc.replace(re, to), m);
}

export { wireName };
