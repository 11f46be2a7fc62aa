import type { TickerSink } from "../../reference/mixer/ticker.ts";
import type { MetricSet } from "../metrics/set.ts";

// The mixers of a worker thread all run on the thread's one FrameTicker (reference/mixer/ticker.ts), which keeps
// the thread's lateness and cost counts. The worker drains it once per flush into the run's metrics, instead of
// every VU keeping two histograms (~141 KB per VU, measured) and re-recording them when its iteration ends.
// Frames land in the interval they were mixed in, not the one their iteration finished in. The drain hands
// value/count pairs over directly: going through an encoded histogram and back cost one worker 5-55 ms of its
// event loop per drain (measured), which showed up as the mixers' own lateness.

/** A sink that records into `metrics`: lateness in ms, cost in µs, one sample per device-frame. */
export function tickerSink(metrics: MetricSet): TickerSink {
  return {
    frames(frames, late) {
      metrics.add("mix_frames", frames);
      metrics.add("mix_late_frames", late);
    },
    lateness: (us, count) => metrics.record("mix_lateness_ms", us / 1000, count),
    cost: (us, count) => metrics.record("mix_cost_us", us, count),
  };
}
