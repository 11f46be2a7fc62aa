import { build, type Histogram } from "hdr-histogram-js";
import { FrameFlag, type FrameHeader, type LatencySummary } from "../../protocol/media.ts";
import { SequenceTracker } from "./sequence.ts";

// One stream's counters: what its publisher sent (frames, bytes, sequence health, relay latency) and what the
// relay did with it (frames sent to players, frames a full player buffer cost, frames refused from others).

/** Latencies above this (µs) are recorded as this: a minute late is "broken", the exact figure does not matter. */
const LATENCY_CAP_US = 60_000_000;

export class StreamStatsRecorder {
  frames = 0;
  bytes = 0;
  foreignDropped = 0;
  relayedFrames = 0;
  relayedBytes = 0;
  backpressureDrops = 0;
  lastSeq: number | null = null;
  readonly seq = new SequenceTracker();
  private latency: Histogram = build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: LATENCY_CAP_US,
    numberOfSignificantValueDigits: 2,
    autoResize: false,
  });
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
    this.latency.recordValue(Math.floor(lat));
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
    return {
      count: n,
      min: r(this.latMin),
      mean: r(this.latSum / n),
      p50: this.latency.getValueAtPercentile(50),
      p90: this.latency.getValueAtPercentile(90),
      p99: this.latency.getValueAtPercentile(99),
      max: r(this.latMax),
    };
  }
}
