import { build, type Histogram } from "hdr-histogram-js";
import { FrameFlag, type FrameHeader, type LatencySummary } from "../../protocol/media.ts";
import { SequenceTracker } from "./sequence.ts";

// One stream's counters: what its publisher sent (frames, bytes, sequence health, relay latency) and what the
// relay did with it (frames sent to players, frames a full player buffer cost, frames refused from others).

/** Latencies above this (µs) are recorded as this: a minute late is "broken", the exact figure does not matter. */
const LATENCY_CAP_US = 60_000_000;

// The latency percentiles are HdrHistogram's (1 µs .. LATENCY_CAP_US, 2 significant digits), but a frame does not
// go through hdr-histogram-js: its recordValue takes a log2, a floor and a pow per value (1% of the simulator
// thread on rooms-250). A frame here bumps the same counts-array slot hdr would, found with clz32 and a shift;
// a summary (every stats interval, or on request) replays the non-empty slots into one shared hdr histogram, at
// each slot's lowest value, so hdr holds the same counts and answers the same percentiles (stream-stats.test.ts).
// Layout for these parameters: sub-buckets of 256 (half 128, magnitude 7), 19 buckets, 20 * 128 slots.
const SUB_HALF_MAGNITUDE = 7;
const SUB_HALF = 1 << SUB_HALF_MAGNITUDE;
const COUNTS_LENGTH = 20 * SUB_HALF;

function hdrParams() {
  return {
    lowestDiscernibleValue: 1,
    highestTrackableValue: LATENCY_CAP_US,
    numberOfSignificantValueDigits: 2 as const,
    autoResize: false,
  };
}

/** hdr's countsArrayIndex for an integer 0 <= v <= LATENCY_CAP_US (floor(log2 v) is 31 - clz32(v) there). */
export function latencySlot(v: number): number {
  const bucket = Math.max(0, 31 - Math.clz32(v) - SUB_HALF_MAGNITUDE);
  return (bucket << SUB_HALF_MAGNITUDE) + (v >>> bucket);
}

/** hdr's valueFromIndex: the lowest value counted in `slot`. */
export function slotValue(slot: number): number {
  let bucket = (slot >> SUB_HALF_MAGNITUDE) - 1;
  let sub = (slot & (SUB_HALF - 1)) + SUB_HALF;
  if (bucket < 0) {
    sub -= SUB_HALF;
    bucket = 0;
  }
  return sub * 2 ** bucket;
}

let scratch: Histogram | null = null;

/** The hdr histogram holding exactly `counts` (shared: valid until the next call). */
function asHdr(counts: Uint32Array): Histogram {
  scratch ??= build(hdrParams());
  scratch.reset();
  for (let i = 0; i < counts.length; i++)
    if (counts[i]! > 0) scratch.recordValueWithCount(slotValue(i), counts[i]!);
  return scratch;
}

/** An hdr histogram of `values` recorded one by one, as this file did before (tests compare the two). */
export function hdrOf(values: Iterable<number>): Histogram {
  const h = build(hdrParams());
  for (const v of values) h.recordValue(v);
  return h;
}

export class StreamStatsRecorder {
  frames = 0;
  bytes = 0;
  foreignDropped = 0;
  relayedFrames = 0;
  relayedBytes = 0;
  backpressureDrops = 0;
  lastSeq: number | null = null;
  readonly seq = new SequenceTracker();
  /** hdr's counts array for this stream's latencies (see the header). */
  private readonly latency = new Uint32Array(COUNTS_LENGTH);
  private latMin = Number.POSITIVE_INFINITY;
  private latMax = 0;
  private latSum = 0;

  /** A frame from the publisher, received at `nowUs`; returns its relay latency in µs (0 when clocks disagree). */
  onFrame(h: FrameHeader, frameBytes: number, nowUs: number): number {
    if ((h.flags & FrameFlag.Discontinuity) !== 0) this.seq.restart();
    this.seq.push(h.seq);
    this.lastSeq = h.seq;
    this.frames++;
    this.bytes += frameBytes;
    const lat = Math.min(Math.max(0, nowUs - h.captureUs), LATENCY_CAP_US);
    this.latency[latencySlot(Math.floor(lat))]!++;
    if (lat < this.latMin) this.latMin = lat;
    if (lat > this.latMax) this.latMax = lat;
    this.latSum += lat;
    return lat;
  }

  /** A new publisher numbers its frames from wherever it likes. */
  onNewPublisher(): void {
    this.seq.restart();
  }

  latencySummary(): LatencySummary {
    const n = this.frames;
    if (n === 0) return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 };
    const r = (v: number) => Math.round(v * 10) / 10;
    const hist = asHdr(this.latency);
    return {
      count: n,
      min: r(this.latMin),
      mean: r(this.latSum / n),
      p50: hist.getValueAtPercentile(50),
      p90: hist.getValueAtPercentile(90),
      p99: hist.getValueAtPercentile(99),
      max: r(this.latMax),
    };
  }
}
