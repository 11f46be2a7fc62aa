import type { IncomingHttpHeaders } from "node:http";

// The fast path's header check without ajv, for the one kind of headers schema where that is exact: every
// property optional and a plain string (no pattern, format, length or enum), further headers allowed
// (simulator/http.ts authHeaders). Then the compiled validator can only refuse a named header that is not a
// string, and node:http's headers never are one for these names (duplicates are joined with ", "): checking
// `typeof` per name answers the same, without running Fastify's compiled validator over the whole headers object
// per request. With body-memo.ts's getBytes (the same commit), bench/server/request-cpu.ts --trees old,new
// --calls top --rate 8000 (7 and 9 interleaved rounds): 96.6 -> 95.0 and 99.4 -> 98.0 µs CPU per /top/song
// request (1.10 -> 1.07 and 1.09 -> 1.06x bare node:http's). A schema that says more than
// "a string" gets null, and the caller keeps the compiled validator.

const PLAIN_KEYS = new Set(["type", "description", "title", "examples"]);

interface JsonSchemaLike {
  type?: unknown;
  properties?: Record<string, Record<string, unknown>>;
  required?: unknown;
  additionalProperties?: unknown;
}

/** The names to check when `schema` allows only that, else null. */
export function plainStringHeaderNames(schema: unknown): string[] | null {
  const s = schema as JsonSchemaLike;
  if (s === null || typeof s !== "object" || s.type !== "object" || !s.properties) return null;
  if (s.additionalProperties !== undefined && s.additionalProperties !== true) return null;
  if (Array.isArray(s.required) && s.required.length > 0) return null;
  const names = Object.keys(s.properties);
  for (const name of names) {
    const p = s.properties[name]!;
    if (p.type !== "string") return null;
    for (const k of Object.keys(p)) if (!PLAIN_KEYS.has(k)) return null;
  }
  return names;
}

/** A check equal to the schema's validator on node:http's headers (see above), or null when there is none. */
export function plainStringHeaderCheck(schema: unknown): ((h: IncomingHttpHeaders) => boolean) | null {
  const names = plainStringHeaderNames(schema);
  if (names === null) return null;
  return (h) => {
    for (let i = 0; i < names.length; i++) {
      const v = h[names[i]!];
      if (v !== undefined && typeof v !== "string") return false;
    }
    return true;
  };
}
