// Do N instances' execution segments fit together into one whole run? k6 splits a test by segments of [0, 1]
// (`--execution-segment 1/2:1`, within `--execution-segment-sequence 0,1/2,1`); merging instances is right only
// when their segments do not overlap (an overlap counts some VUs twice) and leave nothing out (a missing part's
// samples are not there), and when they split the same sequence. The segments module of `ktv run` (s5/segments)
// parses and applies the flags; this file only reads what a summary recorded (`execution_segment`,
// `execution_segment_sequence`), in k6's notations: "a:b", a lone "b" meaning "0:b", each bound a fraction
// ("1/3"), a decimal ("0.5") or a percentage ("50%"). Bounds are exact rationals (BigInt), so 1/3 + 2/3 is 1.

export class SegmentError extends Error {
  override name = "SegmentError";
}

/** A non-negative rational n/d, d > 0, in lowest terms. */
export interface Ratio {
  n: bigint;
  d: bigint;
}

const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? (a < 0n ? -a : a) : gcd(b, a % b));
const ratio = (n: bigint, d: bigint): Ratio => {
  const g = gcd(n, d) || 1n;
  return { n: n / g, d: d / g };
};
const cmp = (a: Ratio, b: Ratio): number => {
  const l = a.n * b.d;
  const r = b.n * a.d;
  return l < r ? -1 : l > r ? 1 : 0;
};
const show = (r: Ratio): string => (r.d === 1n ? String(r.n) : `${r.n}/${r.d}`);

export function parseBound(text: string): Ratio {
  const t = text.trim();
  let m = /^(\d+)\s*\/\s*(\d+)$/.exec(t);
  if (m) {
    if (BigInt(m[2]!) === 0n) throw new SegmentError(`"${text}": division by zero`);
    return check(ratio(BigInt(m[1]!), BigInt(m[2]!)), text);
  }
  m = /^(\d*)(?:\.(\d+))?(%?)$/.exec(t);
  if (m && (m[1] !== "" || m[2] !== undefined)) {
    const frac = m[2] ?? "";
    const d = 10n ** BigInt(frac.length) * (m[3] ? 100n : 1n);
    return check(ratio(BigInt(`${m[1] || "0"}${frac}`), d), text);
  }
  throw new SegmentError(
    `"${text}" is not a segment bound (a fraction 1/3, a decimal 0.5 or a percentage 50%)`,
  );
}

function check(r: Ratio, text: string): Ratio {
  if (r.n > r.d) throw new SegmentError(`"${text}" is above 1`);
  return r;
}

export interface Segment {
  from: Ratio;
  to: Ratio;
  text: string;
}

export function parseSegment(text: string): Segment {
  const parts = text.split(":");
  if (parts.length > 2) throw new SegmentError(`"${text}" is not a segment (from:to)`);
  const from = parts.length === 2 ? parseBound(parts[0]!) : { n: 0n, d: 1n };
  const to = parseBound(parts.at(-1)!);
  if (cmp(from, to) >= 0) throw new SegmentError(`segment "${text}": its start is not before its end`);
  return { from, to, text };
}

/** A sequence "0,1/3,2/3,1" as its bounds, normalised for comparison. */
export function sequenceKey(text: string): string {
  return text
    .split(",")
    .map((b) => show(parseBound(b)))
    .join(",");
}

export interface SegmentInfo {
  /** What the input is, for messages (its path). */
  source: string;
  segment: string | null;
  sequence: string | null;
}

/**
 * The segment the inputs cover together ("0:1" when whole; null when none recorded one), or a SegmentError saying
 * which inputs do not fit: some with a segment and some without, different sequences, an overlap, a gap.
 */
export function checkSegments(inputs: SegmentInfo[]): string | null {
  const withSeg = inputs.filter((i) => i.segment !== null);
  if (withSeg.length === 0) return null;
  if (withSeg.length < inputs.length) {
    const without = inputs.filter((i) => i.segment === null).map((i) => i.source);
    throw new SegmentError(
      `${without.join(", ")} recorded no execution segment while ${withSeg[0]!.source} ran ${withSeg[0]!.segment}: a whole run merged with a part counts that part twice`,
    );
  }
  const seqs = new Set(withSeg.map((i) => (i.sequence === null ? "" : sequenceKey(i.sequence))));
  if (seqs.size > 1) {
    throw new SegmentError(
      `the inputs split different execution segment sequences: ${withSeg.map((i) => `${i.source}: ${i.sequence ?? "(none)"}`).join("; ")}`,
    );
  }
  const segs = withSeg
    .map((i) => ({ ...parseSegment(i.segment!), source: i.source }))
    .sort((a, b) => cmp(a.from, b.from));
  let end: Ratio = { n: 0n, d: 1n };
  let prev: (typeof segs)[number] | null = null;
  for (const s of segs) {
    const c = cmp(s.from, end);
    if (c < 0) {
      throw new SegmentError(
        `execution segments overlap: ${prev!.source} ran ${prev!.text} and ${s.source} ran ${s.text}; their common part would count twice`,
      );
    }
    if (c > 0) {
      throw new SegmentError(
        `execution segment ${show(end)}:${show(s.from)} is missing (no input ran it): the merged run would not be whole`,
      );
    }
    end = s.to;
    prev = s;
  }
  if (cmp(end, { n: 1n, d: 1n }) !== 0)
    throw new SegmentError(
      `execution segment ${show(end)}:1 is missing (no input ran it): the merged run would not be whole`,
    );
  return "0:1";
}
