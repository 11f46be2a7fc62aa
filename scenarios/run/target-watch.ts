// Is the target still there? The runner probes its /healthz once per interval from the main thread and keeps
// the spans in which it did not answer: a simulator killed mid-run (kill -9, a crash, a restart) is then an
// outage with a start and an end in summary.json and two lines on stderr, not only a burst of network errors
// (1017098) that looks like a client bug. A restarted simulator's /metrics counters start over, so a run
// with an outage cannot compare its per-route counts with the vendor's (vendor-routes.ts says so instead).

import type { TargetAvailability, TargetOutage } from "../../reports/format.ts";
import { epochNow } from "./clock.ts";

export type { TargetAvailability, TargetOutage };

/** One probe: resolves when the target answered, rejects with why it did not. */
export type Probe = () => Promise<void>;

/** A /healthz probe with its own short timeout (a live but loaded simulator still answers well within it). */
export function healthProbe(target: string, timeoutMs: number): Probe {
  return async () => {
    const res = await fetch(`${target}/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    if (res.status !== 200) throw new Error(`GET /healthz: HTTP ${res.status}`);
  };
}

/**
 * Consecutive probe timeouts that make an outage. A refused or reset connection is one at once (nothing
 * listens: killed, crashed, restarting); a timeout is not, alone: when this runner's main thread stalls for
 * seconds (it happens under load: generator.late_intervals), the probe's timer fires before the answer that
 * already came is read. Three in a row (9 s or more) is a target that really hangs.
 */
const TIMEOUTS_FOR_OUTAGE = 3;

export class TargetWatch {
  private probes = 0;
  private failed = 0;
  /** Timeouts in a row not yet counted as an outage: when the first of them was sent, and why it failed. */
  private timeouts: { count: number; fromS: number; error: string } | null = null;
  private readonly outages: TargetOutage[] = [];
  private inFlight: Promise<void> | null = null;
  private lastProbeS = 0;

  constructor(
    private readonly probe: Probe,
    /** Epoch ms the run's seconds count from. */
    private readonly t0: number,
    private readonly warn: (text: string) => void,
  ) {}

  /** Starts one probe at `nowMs` unless one is still out (a hung target is one long failure, not many). */
  tick(nowMs: number): void {
    if (this.inFlight) return;
    const atS = (nowMs - this.t0) / 1000;
    this.probes++;
    this.lastProbeS = atS;
    this.inFlight = this.probe().then(
      () => this.answered(atS),
      (err: unknown) => this.unanswered(atS, err),
    );
    void this.inFlight.finally(() => {
      this.inFlight = null;
    });
  }

  private open(): TargetOutage | undefined {
    const last = this.outages.at(-1);
    return last && last.until_s === null ? last : undefined;
  }

  private answered(atS: number): void {
    this.timeouts = null;
    const o = this.open();
    if (!o) return;
    o.until_s = round(atS);
    this.warn(
      `the target answers again at ${o.until_s} s, after ${round(o.until_s - o.from_s)} s without an answer (${o.failed_probes} failed probes); iterations go on`,
    );
  }

  private unanswered(atS: number, err: unknown): void {
    this.failed++;
    const o = this.open();
    if (o) {
      o.failed_probes++;
      return;
    }
    let from = atS;
    let failedProbes = 1;
    let error = describe(err);
    if (isTimeout(err)) {
      this.timeouts ??= { count: 0, fromS: atS, error };
      if (++this.timeouts.count < TIMEOUTS_FOR_OUTAGE) return;
      ({ fromS: from, count: failedProbes, error } = this.timeouts);
      this.timeouts = null;
    }
    this.outages.push({ from_s: round(from), until_s: null, failed_probes: failedProbes, error });
    this.warn(
      `the target stopped answering at ${round(from)} s (${error}); the run goes on and counts the outage (summary.json target)`,
    );
  }

  /** Waits for a probe still out, at most `ms`. */
  async settle(ms: number): Promise<void> {
    if (!this.inFlight) return;
    await Promise.race([this.inFlight, new Promise((r) => setTimeout(r, ms).unref())]);
  }

  /**
   * Whether the target answers, waiting up to `ms` (probing every `everyMs`) if it is down: the run's end reads
   * the ledger from it, and a simulator being restarted comes back within seconds.
   */
  async waitUntilBack(ms: number, everyMs = 250): Promise<boolean> {
    await this.settle(ms);
    if (!this.open()) return true;
    const deadline = performance.now() + ms;
    this.warn(
      `the target is not answering at the end of the run: waiting up to ${ms / 1000} s to read its ledger`,
    );
    while (performance.now() < deadline) {
      this.tick(epochNow());
      await this.settle(ms);
      if (!this.open()) return true;
      await new Promise((r) => setTimeout(r, everyMs));
    }
    return false;
  }

  get hadOutage(): boolean {
    return this.outages.length > 0;
  }

  report(): TargetAvailability {
    let unreachable = 0;
    for (const o of this.outages) unreachable += (o.until_s ?? this.lastProbeS) - o.from_s;
    return {
      probes: this.probes,
      failed_probes: this.failed,
      unreachable_s: round(unreachable),
      outages: this.outages.map((o) => ({ ...o })),
    };
  }
}

const round = (s: number) => Math.round(s * 1000) / 1000;

function isTimeout(err: unknown): boolean {
  return err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  return cause instanceof Error ? `${err.message}: ${cause.message}` : err.message;
}
