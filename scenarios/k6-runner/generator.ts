import type { GeneratorReport } from "../../reports/format.ts";
import { ProcessCpu, ThreadSampler, TimerLag } from "../run/generator.ts";
import { describeReason, GeneratorWatch } from "../run/saturation.ts";
import type { Registry } from "./metrics.ts";

// Is `ktv k6` itself the bottleneck? The same self-watch as `ktv run` (run/generator.ts samples, run/saturation.ts
// rules), once a second. Every VU of this runner runs on the one thread that also runs the sampler, so that
// thread is the load generator and is judged by the worker rules (ELU, loop delay, clock lag, stalls), as
// "worker 0" in the report; the process CPU rule applies as in `ktv run`. The samples also go to the metrics
// under `ktv run`'s names (generator_elu, generator_loop_delay_ms, generator_clock_lag_ms, generator_cpu), so a
// threshold or handleSummary may read them; summary data gains `generator` and `generator_saturated`.

export const GENERATOR_THREAD = "worker 0";

const METRICS = [
  ["generator_elu", false],
  ["generator_loop_delay_ms", true],
  ["generator_clock_lag_ms", true],
  ["generator_cpu", false],
] as const;

export class K6GeneratorWatch {
  private readonly cpu = new ProcessCpu();
  private readonly watch: GeneratorWatch;
  private readonly sampler = new ThreadSampler(new TimerLag());

  constructor(
    private readonly registry: Registry,
    private readonly warn: (line: string) => void,
    t0: number,
  ) {
    this.watch = new GeneratorWatch(t0, this.cpu.cores);
    for (const [name, isTime] of METRICS) registry.define(name, "trend", isTime);
  }

  /** One sample (call once a second): into the metrics and the rules; a rule that trips is said at once. */
  sample(): void {
    const s = this.sampler.sample();
    const r = this.registry;
    r.add("generator_elu", s.elu, {});
    r.add("generator_loop_delay_ms", s.delayP99Ms, {});
    if (s.lagP99Ms !== null) r.add("generator_clock_lag_ms", s.lagP99Ms, {});
    const c = this.cpu.sample();
    r.add("generator_cpu", c.share, {});
    for (const reason of [
      ...this.watch.addThread(GENERATOR_THREAD, s),
      ...this.watch.addProcess(c.t, c.spanMs, c.share),
    ])
      this.warn(
        `the load generator is saturated: ${describeReason(reason)}; figures from then on may be the runner's, not the target's`,
      );
  }

  get saturated(): boolean {
    return this.watch.saturated;
  }

  report(): GeneratorReport {
    return this.watch.report();
  }

  close(): void {
    this.sampler.close();
  }
}
