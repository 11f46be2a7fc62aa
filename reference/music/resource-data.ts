import type { ResourceData, ResourceEntry } from "./types.ts";

// A resource answer is the one vendor result the client acts on (it names the files to download), so its
// shape is checked before anything is recorded: a malformed answer is 1017010, never a half-registered id.

const QUALITIES = new Set(["normal", "hq", "sq"]);

function isEntry(x: unknown): x is ResourceEntry {
  if (typeof x !== "object" || x === null) return false;
  const r = x as Record<string, unknown>;
  return (
    typeof r.resource_id === "string" &&
    r.resource_id !== "" &&
    Number.isSafeInteger(r.size) &&
    (r.size as number) >= 0 &&
    typeof r.quality === "string" &&
    QUALITIES.has(r.quality) &&
    Number.isFinite(r.resource_ttl) &&
    (r.resource_ttl as number) >= 0
  );
}

/** `data` of requestResource / getSharedResource when it has the spec's shape, else null. */
export function parseResourceData(data: unknown): ResourceData | null {
  if (typeof data !== "object" || data === null) return null;
  const d = data as Record<string, unknown>;
  if (typeof d.song_id !== "string" || !Array.isArray(d.resources) || d.resources.length === 0) return null;
  if (!d.resources.every(isEntry)) return null;
  for (const k of ["duration", "has_original"] as const) {
    if (d[k] !== undefined && !Number.isFinite(d[k])) return null;
  }
  if (d.krc_token !== undefined && typeof d.krc_token !== "string") return null;
  return data as ResourceData;
}
