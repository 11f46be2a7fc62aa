import { cmp, ONE, ratString, ZERO } from "../segments/rational.ts";
import {
  fillSequence,
  parseSegment,
  parseSequence,
  type Segment,
  SegmentError,
  segmentString,
  sequenceString,
} from "../segments/segment.ts";

// Do N instances' execution segments fit together into one whole run? k6 splits a test by segments of [0, 1]
// (`--execution-segment 1/2:1`, within `--execution-segment-sequence 0,1/2,1`); merging instances is right only
// when their segments do not overlap (an overlap counts some VUs twice) and leave nothing out (a missing part's
// samples are not there), and when they split the same sequence. The segments and sequences are what each
// summary recorded (`execution_segment`, `execution_segment_sequence`), read by scenarios/segments (k6's
// notations, exact rationals: 1/3 + 2/3 is 1).

export { SegmentError };

/** A sequence in k6's canonical text, its gaps to 0 and 1 filled, for comparison. */
export function sequenceKey(text: string): string {
  const seq = parseSequence(text);
  return seq === null ? "" : sequenceString(fillSequence(seq, null));
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
  const segs: (Segment & { source: string; text: string })[] = withSeg
    .map((i) => ({ ...parseSegment(i.segment!), source: i.source, text: i.segment! }))
    .sort((a, b) => cmp(a.from, b.from));
  let end = ZERO;
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
        `execution segment ${segmentString({ from: end, to: s.from })} is missing (no input ran it): the merged run would not be whole`,
      );
    }
    end = s.to;
    prev = s;
  }
  if (cmp(end, ONE) !== 0)
    throw new SegmentError(
      `execution segment ${ratString(end)}:1 is missing (no input ran it): the merged run would not be whole`,
    );
  return "0:1";
}
