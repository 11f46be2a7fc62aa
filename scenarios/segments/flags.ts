import { type Command, InvalidArgumentError } from "commander";
import { parseSegment, parseSequence, SegmentError } from "./segment.ts";
import { type ExecutionTuple, executionTuple } from "./tuple.ts";

// k6's two flags, the same on `ktv run` and `ktv k6`. Each value is checked as it is parsed (a bad one is a
// usage error naming it); whether the segment is one of the sequence's is checked once both are known.

export interface SegmentFlags {
  executionSegment?: string;
  executionSegmentSequence?: string;
}

const check =
  (parse: (s: string) => unknown) =>
  (v: string): string => {
    try {
      parse(v);
      return v;
    } catch (e) {
      if (e instanceof SegmentError) throw new InvalidArgumentError(e.message);
      throw e;
    }
  };

export const SEGMENT_HELP =
  "this instance's share of the test, k6's execution segment: from:to in [0,1] as fractions, decimals or percentages (0:1/2, 1/2:1, 50%:100%, 0.5:1; 1/3 is 0:1/3)";
export const SEQUENCE_HELP =
  "all instances' segments, k6's execution segment sequence, e.g. 0,1/3,2/3,1: give it to every instance so their shares interleave and cover the test exactly once";

export function addSegmentFlags(cmd: Command): Command {
  return cmd
    .option("--execution-segment <segment>", SEGMENT_HELP, check(parseSegment))
    .option("--execution-segment-sequence <sequence>", SEQUENCE_HELP, check(parseSequence));
}

/** The tuple the flags name (the whole test without them); a SegmentError says what is wrong. */
export function tupleOfFlags(f: SegmentFlags): ExecutionTuple {
  return executionTuple(f.executionSegment, f.executionSegmentSequence);
}
