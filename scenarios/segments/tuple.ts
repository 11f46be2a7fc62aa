import { rat } from "./rational.ts";
import {
  fillSequence,
  makeSegment,
  parseSegment,
  parseSequence,
  type Segment,
  SegmentError,
  sameSegment,
  segmentLength,
  segmentString,
  sequenceString,
} from "./segment.ts";

// k6's ExecutionTuple and its striping (lib/execution_segment.go, ExecutionSegmentSequenceWrapper): how one
// instance's segment of a sequence owns whole things (VUs, iterations, arrivals) so that the instances of a
// sequence together own each exactly once, without talking to each other.
//
// Over the sequence's least common denominator L of the segment lengths, a segment of length a/L owns a of
// every L consecutive indices, as far apart as possible: indices go, in order, to the first segment (largest
// first) whose taken count c satisfies i >= c·L/a. The pattern repeats every L indices. From it:
//   scale(v)        how many of the indices 0..v-1 the segment owns (ScaleInt64): VU counts, iteration totals.
//                   The segments' values always sum to v, and never decrease as v grows (no wobble).
//   globalIndex(k)  the whole test's index of the segment's k-th owned thing (SegmentedIndex): which of the
//                   whole schedule's arrivals an instance starts, and its iterations' global numbers.
//   fromValue(v)    the tuple re-segmented over v things (GetNewExecutionTupleFromValue): each segment gets
//                   the length scale(v)/v. The arrival-rate executors stripe their arrivals by maxVUs this way,
//                   and shared-iterations its iterations by vus, so an instance's work follows its VUs.

/** A sequence whose least common denominator is above this is refused: striping costs O(L · segments). */
export const MAX_LCD = 1_000_000;

class Stripes {
  readonly lcd: number;
  /** Per segment: [first owned index, gap to the next, ..., gap from the last back to the first + L]. */
  readonly offsets: number[][];

  constructor(readonly sequence: readonly Segment[]) {
    let lcd = 1n;
    for (const s of sequence) {
      const d = segmentLength(s).d;
      lcd = (lcd * d) / gcd(lcd, d);
      if (lcd > BigInt(MAX_LCD))
        throw new SegmentError(
          `execution segment sequence ${sequenceString(sequence)}: its segments' least common denominator is above ${MAX_LCD}; use simpler fractions`,
        );
    }
    this.lcd = Number(lcd);
    const norm = sequence.map((s, i) => {
      const len = segmentLength(s);
      return { num: Number(len.n * (lcd / len.d)), index: i };
    });
    // Array.prototype.sort is stable: equal lengths keep their order, as k6's sort.SliceStable.
    const sorted = [...norm].sort((a, b) => b.num - a.num);
    this.offsets = sequence.map(() => []);
    const prev = new Array<number>(sequence.length).fill(0);
    const chosen = new Array<number>(sequence.length).fill(0);
    const L = this.lcd;
    for (let i = 0; i < L; i++) {
      for (let si = 0; si < sorted.length; si++) {
        const num = chosen[si]! * L;
        const denom = sorted[si]!.num;
        const q = Math.floor(num / denom);
        if (i > q || (i === q && num % denom === 0)) {
          chosen[si]!++;
          const idx = sorted[si]!.index;
          const own = this.offsets[idx]!;
          own.push(i - prev[idx]!);
          prev[idx] = i;
          if (own.length === denom) own.push(own[0]! + L - i);
          break;
        }
      }
    }
  }

  scale(index: number, value: number): number {
    const own = this.offsets[index]!;
    const per = own.length - 1;
    let result = Math.floor(value / this.lcd) * per;
    const rest = value % this.lcd;
    for (let gi = 1, i = own[0]!; i < rest; i += own[gi++]!) result++;
    return result;
  }
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

export class ExecutionTuple {
  private readonly positions: number[];

  private constructor(
    private readonly stripes: Stripes,
    readonly index: number,
  ) {
    // The owned indices within one cycle of L: the first, then each gap added (the last gap wraps around).
    const own = stripes.offsets[index]!;
    this.positions = [own[0]!];
    for (let m = 1; m < own.length - 1; m++) this.positions.push(this.positions[m - 1]! + own[m]!);
  }

  /** k6's NewExecutionTuple: the segment's place in the (filled) sequence, or a SegmentError. */
  static of(segment: Segment | null, sequence: Segment[] | null): ExecutionTuple {
    if (sequence !== null && segment === null)
      throw new SegmentError(
        `an execution segment sequence (${sequenceString(sequence)}) needs the execution segment this instance runs`,
      );
    const filled = fillSequence(sequence, segment);
    const stripes = new Stripes(filled);
    const wanted = segment ?? filled[0]!;
    const index = filled.findIndex((s) => sameSegment(s, wanted));
    if (index < 0)
      throw new SegmentError(
        `execution segment ${segmentString(wanted)} is not one of the sequence's segments (${filled.map(segmentString).join(", ")}): give one of them`,
      );
    return new ExecutionTuple(stripes, index);
  }

  static readonly FULL = ExecutionTuple.of(null, null);

  get segment(): Segment {
    return this.stripes.sequence[this.index]!;
  }

  /** The filled sequence this tuple's segment is one of. */
  get sequence(): readonly Segment[] {
    return this.stripes.sequence;
  }

  /** True when this instance runs the whole test (a one-segment sequence). */
  get whole(): boolean {
    return this.stripes.sequence.length === 1;
  }

  get lcd(): number {
    return this.stripes.lcd;
  }

  /** k6's GetStripedOffsets: the first owned index, the gaps to each next one, and the cycle length. */
  stripedOffsets(): { start: number; offsets: number[]; lcd: number } {
    const own = this.stripes.offsets[this.index]!;
    return { start: own[0]!, offsets: own.slice(1), lcd: this.stripes.lcd };
  }

  /** k6's ExecutionTuple.ScaleInt64: this segment's share of `value` whole things. */
  scale(value: number): number {
    if (this.whole) return value;
    return this.stripes.scale(this.index, value);
  }

  /** The whole test's (0-based) index of this segment's k-th (0-based) owned thing. */
  globalIndex(k: number): number {
    const per = this.positions.length;
    return Math.floor(k / per) * this.stripes.lcd + this.positions[k % per]!;
  }

  /**
   * k6's GetNewExecutionTupleFromValue: the sequence re-cut over `value` things (each segment of length
   * scale(value)/value, empty ones left out), this segment's place in it; null when it owns none of them.
   */
  fromValue(value: number): ExecutionTuple | null {
    if (value < 1) return null;
    if (value % this.stripes.lcd === 0) return this;
    const cut: Segment[] = [];
    let index = -1;
    let prev = 0;
    this.stripes.sequence.forEach((_, i) => {
      const n = this.stripes.scale(i, value);
      if (n === 0) return;
      if (i === this.index) index = cut.length;
      cut.push(makeSegment(rat(BigInt(prev), BigInt(value)), rat(BigInt(prev + n), BigInt(value))));
      prev += n;
    });
    return index < 0 ? null : new ExecutionTuple(new Stripes(cut), index);
  }

  /** What a result records: the segment and the sequence, in k6's canonical text ("0:1/2", "0,1/2,1"). */
  describe(): { segment: string; sequence: string } {
    return { segment: segmentString(this.segment), sequence: sequenceString(this.sequence) };
  }
}

/** Both flags as typed: undefined or "" is "not given". Throws SegmentError on bad input. */
export function executionTuple(segment?: string, sequence?: string): ExecutionTuple {
  const seg = segment === undefined || segment.trim() === "" ? null : parseSegment(segment);
  const seq = sequence === undefined ? null : parseSequence(sequence);
  if (seg === null && seq === null) return ExecutionTuple.FULL;
  return ExecutionTuple.of(seg, seq);
}
