// Single byte ranges of RFC 9110 §14. Malformed headers, other units and multi-range requests are ignored
// (the whole file with 200, which RFC 9110 permits: "a server MAY ignore the Range header field"); a
// well-formed range that starts past the end is unsatisfiable (416).

export type RangeDecision =
  | { kind: "none" }
  | { kind: "ignored"; reason: string }
  | { kind: "unsatisfiable" }
  | { kind: "range"; start: number; end: number };

const SPEC = /^bytes[ \t]*=[ \t]*(\d*)[ \t]*-[ \t]*(\d*)[ \t]*$/i;

/** Decides how to answer `Range: <header>` for a representation of `size` bytes; `end` is inclusive. */
export function parseRange(header: string | undefined, size: number): RangeDecision {
  if (header === undefined) return { kind: "none" };
  if (header.length > 200) return { kind: "ignored", reason: "range header too long" };
  if (header.includes(","))
    return { kind: "ignored", reason: "multiple ranges are served as the whole file" };
  const m = SPEC.exec(header);
  if (!m) return { kind: "ignored", reason: "malformed range" };
  const a = m[1] as string;
  const b = m[2] as string;
  if (a === "" && b === "") return { kind: "ignored", reason: "malformed range" };
  // Digit strings beyond 2^53 lose precision but stay huge, which is all the comparisons below need.
  if (a === "") {
    const suffix = Number(b);
    if (suffix === 0 || size === 0) return { kind: "unsatisfiable" };
    return { kind: "range", start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(a);
  const last = b === "" ? Number.POSITIVE_INFINITY : Number(b);
  if (last < start) return { kind: "ignored", reason: "last byte before first byte" };
  if (start >= size) return { kind: "unsatisfiable" };
  return { kind: "range", start, end: Math.min(last, size - 1) };
}

/**
 * If-Range (RFC 9110 §13.1.5): the range applies only when the validator is our current strong ETag. We send
 * no Last-Modified, so a date never matches and yields the whole file, which is always safe.
 */
export function ifRangeMatches(ifRange: string | undefined, etag: string): boolean {
  if (ifRange === undefined) return true;
  const v = ifRange.trim();
  return !v.startsWith("W/") && v === etag;
}

/** If-None-Match (RFC 9110 §13.1.2), weak comparison: any listed tag equal to ours, or "*". */
export function noneMatch(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  const opaque = etag.replace(/^W\//, "");
  return ifNoneMatch.split(",").some((t) => {
    const x = t.trim();
    return x === "*" || x.replace(/^W\//, "") === opaque;
  });
}
