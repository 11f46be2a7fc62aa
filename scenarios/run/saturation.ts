import { FRAME_MS } from "../../reference/mixer/frame.ts";
import type { GeneratorReport, SaturationReason, ThreadFigures } from "../../reports/format.ts";
import type { ThreadSample } from "./generator.ts";

// Is the load generator itself the bottleneck? The runner feeds every thread's per-second samples
// (generator.ts) and the process's CPU share here; any rule below that trips makes the run
// `generator_saturated`, with the reason (which thread, which figure, from when). The rules are meant to be
// ones a demanding user accepts: strict enough that a saturated harness cannot pass as a slow target, loose
// enough that one garbage collection or the first second's compilation does not condemn a run.
//
//   elu >= 0.9 for >= 3 s running (a worker)
//       A loop busy 90% of the time has no slack: every frame timer and socket callback queues behind other
//       work, so the latencies it records are its own queueing. 3 s of wall time (samples summed by the time
//       they cover) rules out one long GC or a burst of iteration starts.
//   event-loop delay p99 >= 50 ms for >= 3 s running (a worker)
//       Five frame periods: a timer 50 ms late in one sample in a hundred, second after second, means the thread
//       (or the machine under it) cannot serve its timers; it includes time the OS did not run the thread.
//   clock lag p50 >= 1 frame (10 ms), or p99 >= 5 frames (50 ms), for >= 3 s running (a worker)
//       The frame-period timer (or the frame ticker plugged in later) ran a whole frame behind most of the time,
//       or five frames behind once in a hundred ticks, second after second: the mixers of that thread cannot
//       hold real time. Stricter limits (p99 >= 2 frames) tripped on an idle worker of this shared 2-core
//       machine (load average ~5: p99 37 ms at ELU 0.05, the OS not running the thread), which is the
//       machine's noise, not a verdict; the mixers' own lateness (mix_lateness_ms) keeps the finer view.
//   one stall >= 1 s (event-loop delay max or clock lag max, any thread, the main one included)
//       A whole second without the thread: what it measured around it is the stall, not the target. On the main
//       thread it froze the flushes (and, embedded, the simulator) for that long.
//   process cpu >= 95% of the cores for >= 3 s running
//       The machine has nothing left for the generator's threads (and, embedded, for the simulator).
//
// A worker's samples from before any of its VUs started (ThreadSample.boot: the thread loading, warming up,
// waiting for its first scheduled start) are reported in its figures but not judged: no VU, no frame and no
// request of the run could be late then, so a lag there says nothing about what the run measured. From the first
// VU on, every sample is judged, start-up work included: a stall while VUs run is the generator's. (Boot work
// itself belongs before "ready": worker.ts warms up before the run's clock starts, warm-up.ts.)
//
// The main thread is held to the stall rule only: it generates no load (the workers do), and its lateness only
// delays flushes, which carry the real time anyway (runner.ts); with the simulator embedded it also runs the
// target, whose busy loop is the target's, not the generator's. Its ELU and delay are still reported (and
// thresholds may use them: generator_main_elu, generator_main_loop_delay_ms).
//
// Figures are kept per thread: `generator.workers[i]` and `generator.main`, maxima over the run's samples.

export const RULES = {
  eluLimit: 0.9,
  delayP99LimitMs: 50,
  lagP50LimitMs: FRAME_MS,
  lagP99LimitMs: 5 * FRAME_MS,
  stallMs: 1000,
  cpuLimit: 0.95,
  sustainMs: 3000,
} as const;

type Figure = SaturationReason["figure"];

interface Streak {
  startT: number;
  spanMs: number;
  worst: number;
  reason: SaturationReason | null;
}

const r3 = (v: number) => Math.round(v * 1000) / 1000;

function emptyFigures(): ThreadFigures {
  return {
    samples: 0,
    elu_mean: 0,
    elu_max: 0,
    loop_delay_p99_ms: 0,
    loop_delay_max_ms: 0,
    clock_lag_p50_ms: null,
    clock_lag_p99_ms: null,
    clock_lag_max_ms: null,
    cpu_s: null,
  };
}

export class GeneratorWatch {
  private readonly streaks = new Map<string, Streak>();
  private readonly reasons: SaturationReason[] = [];
  private readonly figures = new Map<string, ThreadFigures & { spanMs: number; eluMs: number }>();
  private cpu = { samples: 0, spanMs: 0, busyMs: 0, max: 0 };
  lateIntervals = 0;

  /** `t0`: the run's start (epoch ms); times in the reasons count from it. */
  constructor(
    private readonly t0: number,
    private readonly cores: number,
  ) {}

  /** A thread's sample ("worker 2", "main"); returns the reasons that tripped with it (for a live warning). */
  addThread(thread: string, s: ThreadSample): SaturationReason[] {
    const f = this.figures.get(thread) ?? { ...emptyFigures(), spanMs: 0, eluMs: 0 };
    this.figures.set(thread, f);
    f.samples++;
    f.spanMs += s.spanMs;
    f.eluMs += s.elu * s.spanMs;
    f.elu_max = Math.max(f.elu_max, s.elu);
    f.loop_delay_p99_ms = Math.max(f.loop_delay_p99_ms, s.delayP99Ms);
    f.loop_delay_max_ms = Math.max(f.loop_delay_max_ms, s.delayMaxMs);
    if (s.lagP50Ms !== null) f.clock_lag_p50_ms = Math.max(f.clock_lag_p50_ms ?? 0, s.lagP50Ms);
    if (s.lagP99Ms !== null) f.clock_lag_p99_ms = Math.max(f.clock_lag_p99_ms ?? 0, s.lagP99Ms);
    if (s.lagMaxMs !== null) f.clock_lag_max_ms = Math.max(f.clock_lag_max_ms ?? 0, s.lagMaxMs);
    if (s.cpuMs !== null) f.cpu_s = (f.cpu_s ?? 0) + s.cpuMs / 1000;

    const out: SaturationReason[] = [];
    const check = (figure: Figure, value: number | null, limit: number, sustain: number) => {
      const r = this.step(thread, figure, s.t, s.spanMs, value, limit, sustain);
      if (r) out.push(r);
    };
    if (s.boot === true) return out;
    if (thread !== "main") {
      check("elu", s.elu, RULES.eluLimit, RULES.sustainMs);
      check("loop_delay_p99_ms", s.delayP99Ms, RULES.delayP99LimitMs, RULES.sustainMs);
      check("clock_lag_p50_ms", s.lagP50Ms, RULES.lagP50LimitMs, RULES.sustainMs);
      check("clock_lag_p99_ms", s.lagP99Ms, RULES.lagP99LimitMs, RULES.sustainMs);
    }
    check("loop_delay_max_ms", s.delayMaxMs, RULES.stallMs, 0);
    check("clock_lag_max_ms", s.lagMaxMs, RULES.stallMs, 0);
    return out;
  }

  /** The process's CPU share of all cores over `spanMs` ending at `t`. */
  addProcess(t: number, spanMs: number, share: number): SaturationReason[] {
    this.cpu.samples++;
    this.cpu.spanMs += spanMs;
    this.cpu.busyMs += share * spanMs;
    this.cpu.max = Math.max(this.cpu.max, share);
    const r = this.step("process", "process_cpu", t, spanMs, share, RULES.cpuLimit, RULES.sustainMs);
    return r ? [r] : [];
  }

  /**
   * Follows one (thread, figure): a streak of samples at or over `limit` trips once it covers `sustainMs` of
   * wall time (0: the first sample over trips). The first trip of each (thread, figure) is its reason; while
   * the streak goes on, the reason's end and worst value follow it.
   */
  private step(
    thread: string,
    figure: Figure,
    t: number,
    spanMs: number,
    value: number | null,
    limit: number,
    sustainMs: number,
  ): SaturationReason | null {
    const key = `${thread}\u0000${figure}`;
    let st = this.streaks.get(key);
    if (value === null || value < limit) {
      if (st) st.reason = null;
      this.streaks.delete(key);
      return null;
    }
    if (!st) {
      st = { startT: t - spanMs, spanMs: 0, worst: value, reason: null };
      this.streaks.set(key, st);
    }
    st.spanMs += spanMs;
    st.worst = Math.max(st.worst, value);
    const at = (ms: number) => r3(Math.max(0, ms - this.t0) / 1000);
    if (st.reason) {
      st.reason.observed = r3(st.worst);
      st.reason.to_s = at(t);
      return null;
    }
    if (st.spanMs < sustainMs) return null;
    if (this.reasons.some((r) => r.thread === thread && r.figure === figure)) return null;
    const reason: SaturationReason = {
      thread,
      figure,
      observed: r3(st.worst),
      limit,
      sustained_s: sustainMs / 1000,
      from_s: at(st.startT),
      to_s: at(t),
    };
    st.reason = reason;
    this.reasons.push(reason);
    return reason;
  }

  get saturated(): boolean {
    return this.reasons.length > 0;
  }

  /** When the generator first became saturated: the earliest tripped streak's start (s since t0), or null. */
  get saturatedFromS(): number | null {
    return this.reasons.length > 0 ? Math.min(...this.reasons.map((r) => r.from_s)) : null;
  }

  report(): GeneratorReport {
    const figures = (name: string): ThreadFigures => {
      const f = this.figures.get(name);
      if (!f) return emptyFigures();
      const { spanMs, eluMs, ...rest } = f;
      return {
        ...rest,
        elu_mean: r3(spanMs > 0 ? eluMs / spanMs : 0),
        elu_max: r3(rest.elu_max),
        loop_delay_p99_ms: r3(rest.loop_delay_p99_ms),
        loop_delay_max_ms: r3(rest.loop_delay_max_ms),
        clock_lag_p50_ms: rest.clock_lag_p50_ms === null ? null : r3(rest.clock_lag_p50_ms),
        clock_lag_p99_ms: rest.clock_lag_p99_ms === null ? null : r3(rest.clock_lag_p99_ms),
        clock_lag_max_ms: rest.clock_lag_max_ms === null ? null : r3(rest.clock_lag_max_ms),
        cpu_s: rest.cpu_s == null ? null : r3(rest.cpu_s),
      };
    };
    const workers = [...this.figures.keys()]
      .filter((k) => k.startsWith("worker "))
      .sort((a, b) => Number(a.slice(7)) - Number(b.slice(7)))
      .map((k) => ({ worker: Number(k.slice(7)), ...figures(k) }));
    return {
      cores: this.cores,
      process_cpu: {
        mean: r3(this.cpu.spanMs > 0 ? this.cpu.busyMs / this.cpu.spanMs : 0),
        max: r3(this.cpu.max),
      },
      main: figures("main"),
      workers,
      late_intervals: this.lateIntervals,
      rules: {
        elu: RULES.eluLimit,
        loop_delay_p99_ms: RULES.delayP99LimitMs,
        clock_lag_p50_ms: RULES.lagP50LimitMs,
        clock_lag_p99_ms: RULES.lagP99LimitMs,
        stall_ms: RULES.stallMs,
        process_cpu: RULES.cpuLimit,
        sustain_s: RULES.sustainMs / 1000,
      },
      saturated_from_s: this.saturatedFromS,
      reasons: this.reasons.map((r) => ({ ...r })),
    };
  }
}

/** One line for stderr: what tripped, how far, since when. */
export function describeReason(r: SaturationReason): string {
  const what: Record<Figure, string> = {
    elu: "event-loop utilisation",
    loop_delay_p99_ms: "event-loop delay p99 (ms)",
    loop_delay_max_ms: "event-loop stall (ms)",
    clock_lag_p50_ms: "clock lag p50 (ms)",
    clock_lag_p99_ms: "clock lag p99 (ms)",
    clock_lag_max_ms: "clock lag stall (ms)",
    process_cpu: "process CPU (share of the cores)",
  };
  const held = r.sustained_s > 0 ? ` for ${r3(r.to_s - r.from_s)} s` : "";
  return `${r.thread}: ${what[r.figure]} ${r.observed} >= ${r.limit}${held} (from ${r.from_s} s to ${r.to_s} s)`;
}
