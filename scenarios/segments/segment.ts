import { cmp, ONE, parseRat, type Rat, ratString, sub, ZERO } from "./rational.ts";

// k6's execution segments (lib/execution_segment.go): a segment (from, to] of the whole test's work, 0 <= from
// < to <= 1, and a sequence r1,r2,...,rn of adjacent segments (r1,r2], (r2,r3], ... that the instances of one
// distributed run share. Parsing accepts what k6 accepts: "1/2:1", "50%:100%", "0.5:1", and a single value v
// meaning 0:v ("1/3" is 0:1/3); an empty string is the whole test. Errors say what is wrong with which value.

export interface Segment {
  readonly from: Rat;
  readonly to: Rat;
}

export const FULL: Segment = { from: ZERO, to: ONE };

export const segmentLength = (s: Segment): Rat => sub(s.to, s.from);
export const segmentString = (s: Segment): string => `${ratString(s.from)}:${ratString(s.to)}`;
export const sameSegment = (a: Segment, b: Segment): boolean =>
  cmp(a.from, b.from) === 0 && cmp(a.to, b.to) === 0;

export class SegmentError extends Error {
  override name = "SegmentError";
}

function bound(s: string, what: string): Rat {
  const r = parseRat(s);
  if (r instanceof Error) throw new SegmentError(`${what}: ${r.message}`);
  return r;
}

/** k6's NewExecutionSegment checks, with the offending values in the message. */
export function makeSegment(from: Rat, to: Rat, what = "execution segment"): Segment {
  if (cmp(from, ZERO) < 0)
    throw new SegmentError(`${what}: the start must be at least 0, got ${ratString(from)}`);
  if (cmp(to, ONE) > 0) throw new SegmentError(`${what}: the end must be at most 1, got ${ratString(to)}`);
  if (cmp(from, to) >= 0)
    throw new SegmentError(
      `${what}: the start (${ratString(from)}) must be less than the end (${ratString(to)})`,
    );
  return { from, to };
}

/** `--execution-segment`: "from:to" or "to" (from 0); "" is the whole test. */
export function parseSegment(text: string): Segment {
  const s = text.trim();
  const what = `execution segment "${text}"`;
  if (s === "") return FULL;
  const colon = s.indexOf(":");
  if (colon < 0) return makeSegment(ZERO, bound(s, what), what);
  return makeSegment(bound(s.slice(0, colon), what), bound(s.slice(colon + 1), what), what);
}

/**
 * `--execution-segment-sequence`: "r1,r2,...,rn", at least two points, each above the one before, in [0, 1].
 * "" is no sequence (null). The sequence need not start at 0 or end at 1: the gaps are filled (fillSequence).
 */
export function parseSequence(text: string): Segment[] | null {
  const s = text.trim();
  if (s === "") return null;
  const what = `execution segment sequence "${text}"`;
  const points = s.split(",").map((p) => bound(p.trim(), what));
  if (points.length < 2)
    throw new SegmentError(`${what}: at least 2 points are needed (e.g. 0,1/2,1), got ${points.length}`);
  const out: Segment[] = [];
  for (let i = 1; i < points.length; i++)
    out.push(makeSegment(points[i - 1]!, points[i]!, `${what}, point ${i + 1}`));
  return out;
}

export const sequenceString = (seq: readonly Segment[]): string =>
  [seq[0]!.from, ...seq.map((s) => s.to)].map(ratString).join(",");

/**
 * k6's GetFilledExecutionSegmentSequence: the sequence (or, without one, the segment alone) with (0, first]
 * and (last, 1] added where missing, so that it covers [0, 1] exactly.
 */
export function fillSequence(seq: readonly Segment[] | null, segment: Segment | null): Segment[] {
  if (seq === null || seq.length === 0) {
    if (segment === null || sameSegment(segment, FULL)) return [FULL];
    seq = [segment];
  }
  const out = [...seq];
  if (cmp(out[0]!.from, ZERO) !== 0) out.unshift({ from: ZERO, to: out[0]!.from });
  if (cmp(out[out.length - 1]!.to, ONE) !== 0) out.push({ from: out[out.length - 1]!.to, to: ONE });
  return out;
}
