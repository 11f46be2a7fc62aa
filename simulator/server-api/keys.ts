import type { TSchema } from "@sinclair/typebox";

// The server API answers the SDK commands' data with PascalCase keys (the vendor's pages: song_id -> SongId,
// has_clip_url -> HasClipUrl). Two keys are not plain PascalCase on those pages: bpm -> BPM, bpm_type -> BPMType
// (describe-song-extra). One rename serves the answers and their schemas, so the OpenAPI document and the
// wire agree by construction.

const IRREGULAR: Readonly<Record<string, string>> = { bpm: "BPM", bpm_type: "BPMType" };

/** "song_id" -> "SongId"; the irregular names above as the vendor spells them. */
export function pascalKey(key: string): string {
  const irregular = IRREGULAR[key];
  if (irregular) return irregular;
  return key
    .split("_")
    .map((w) => (w === "" ? "" : w[0]!.toUpperCase() + w.slice(1)))
    .join("");
}

/** A JSON value with every object key renamed by pascalKey (arrays and scalars kept). */
export function pascalData(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(pascalData);
  if (typeof v !== "object" || v === null) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[pascalKey(k)] = pascalData(x);
  return out;
}

/**
 * A TypeBox schema with its property names renamed: `properties` keys and `required` entries, recursively
 * through items/anyOf/oneOf. TypeBox's own symbol keys are kept, so the result still compiles
 * (TypeCompiler) and the conformance test checks answers against exactly what the OpenAPI document lists.
 */
export function pascalSchema<T extends TSchema>(schema: T): TSchema {
  const walk = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(walk);
    if (typeof x !== "object" || x === null) return x;
    const o = x as Record<string | symbol, unknown>;
    const out: Record<string | symbol, unknown> = {};
    for (const sym of Object.getOwnPropertySymbols(o)) out[sym] = o[sym];
    for (const [k, v] of Object.entries(o)) {
      if (k === "properties" && typeof v === "object" && v !== null) {
        out[k] = Object.fromEntries(Object.entries(v).map(([p, s]) => [pascalKey(p), walk(s)]));
      } else if (k === "required" && Array.isArray(v)) {
        out[k] = v.map((p) => (typeof p === "string" ? pascalKey(p) : p));
      } else {
        out[k] = walk(v);
      }
    }
    return out;
  };
  return walk(schema) as TSchema;
}
