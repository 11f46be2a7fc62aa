import type { TSchema } from "@sinclair/typebox";
import { type ValueError, ValueErrorType } from "@sinclair/typebox/errors";
import { Value } from "@sinclair/typebox/value";

// Schema errors as "path: why" lines a person can act on, e.g. `faults[1].probability: must be <= 1`.
// TypeBox reports a failed union as one opaque "Expected union value"; for unions of objects told apart by a
// literal field (latency `distribution.type`) we validate against the variant that field names instead.

/** "/faults/1/probability" -> "faults[1].probability" (JSON pointer to a JS-ish path). */
export function dotted(pointer: string): string {
  let out = "";
  for (const raw of pointer.split("/").slice(1)) {
    const seg = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    out += /^\d+$/.test(seg) ? `[${seg}]` : out === "" ? seg : `.${seg}`;
  }
  return out;
}

export function joinPath(base: string, rel: string): string {
  if (rel === "") return base;
  if (base === "") return rel;
  return rel.startsWith("[") ? `${base}${rel}` : `${base}.${rel}`;
}

const show = (v: unknown) => JSON.stringify(v);

function literalsOf(schema: TSchema): unknown[] | undefined {
  const variants = (schema.anyOf ?? []) as TSchema[];
  return variants.every((v) => "const" in v) ? variants.map((v) => v.const) : undefined;
}

/** The field whose literal tells the variants of an object union apart, if there is one. */
function discriminator(variants: TSchema[]): string | undefined {
  const first = variants[0]?.properties as Record<string, TSchema> | undefined;
  if (!first) return undefined;
  return Object.keys(first).find((k) =>
    variants.every((v) => v.properties?.[k] && "const" in v.properties[k]),
  );
}

function why(e: ValueError): string {
  const s = e.schema;
  switch (e.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return "is required";
    case ValueErrorType.ObjectAdditionalProperties:
      return "is not a known field";
    case ValueErrorType.Object:
      return "must be an object";
    case ValueErrorType.Array:
      return "must be an array";
    case ValueErrorType.Boolean:
      return "must be true or false";
    case ValueErrorType.String:
      return "must be a string";
    case ValueErrorType.Number:
      return "must be a number";
    case ValueErrorType.Integer:
      return "must be an integer";
    case ValueErrorType.NumberMaximum:
    case ValueErrorType.IntegerMaximum:
      return `must be <= ${s.maximum}`;
    case ValueErrorType.NumberMinimum:
    case ValueErrorType.IntegerMinimum:
      return `must be >= ${s.minimum}`;
    case ValueErrorType.NumberExclusiveMinimum:
    case ValueErrorType.IntegerExclusiveMinimum:
      return `must be > ${s.exclusiveMinimum}`;
    case ValueErrorType.NumberExclusiveMaximum:
    case ValueErrorType.IntegerExclusiveMaximum:
      return `must be < ${s.exclusiveMaximum}`;
    case ValueErrorType.StringMinLength:
      return s.minLength === 1 ? "must not be empty" : `must be at least ${s.minLength} characters`;
    case ValueErrorType.StringMaxLength:
      return `must be at most ${s.maxLength} characters`;
    case ValueErrorType.StringPattern:
      return `must match ${s.pattern}`;
    case ValueErrorType.ArrayMinItems:
      return `must have at least ${s.minItems} item(s)`;
    case ValueErrorType.ArrayMaxItems:
      return `must have at most ${s.maxItems} items`;
    case ValueErrorType.Literal:
      return `must be ${show(s.const)}`;
    default:
      return e.message.replace(/^Expected/, "must be");
  }
}

/** Every problem of `value` against `schema`, as "path: why"; `base` prefixes the paths. */
export function explain(schema: TSchema, value: unknown, base = ""): string[] {
  const out: string[] = [];
  const required = new Set<string>();
  for (const e of Value.Errors(schema, value)) {
    const path = joinPath(base, dotted(e.path));
    // A missing field also fails its own type check; one line says it.
    if (required.has(path)) continue;
    if (e.type === ValueErrorType.ObjectRequiredProperty) required.add(path);
    if (e.type === ValueErrorType.Union) {
      out.push(...explainUnion(e.schema, e.value, path));
      continue;
    }
    out.push(`${path || "(root)"}: ${why(e)}`);
  }
  return out;
}

function explainUnion(schema: TSchema, value: unknown, path: string): string[] {
  const lits = literalsOf(schema);
  if (lits) return [`${path}: must be one of ${lits.map(show).join(", ")}`];
  const variants = schema.anyOf as TSchema[];
  const tag = discriminator(variants);
  if (tag === undefined) return [`${path}: does not match any allowed shape`];
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return [`${path}: must be an object`];
  }
  const given = (value as Record<string, unknown>)[tag];
  const names = variants.map((v) => show(v.properties[tag].const)).join(", ");
  const variant = variants.find((v) => v.properties[tag].const === given);
  if (!variant) {
    const what = given === undefined ? "is required" : `is ${show(given)}, must be one of`;
    return [
      `${joinPath(path, tag)}: ${given === undefined ? `${what} (one of ${names})` : `${what} ${names}`}`,
    ];
  }
  return explain(variant, value, path);
}
