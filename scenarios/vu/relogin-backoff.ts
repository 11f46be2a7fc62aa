import { abortableSleep } from "../../reference/music/retry.ts";

// A VU whose room login failed because the media server could not take it (unreachable, timed out, rate
// limited) waits before it logs in again: exponential, with equal jitter (half the ceiling fixed, half
// random), reset by the next login that succeeds. Without it a failed VU logs in again at once, so an
// overloaded target (or harness) meets a login storm exactly when it can least take one: one overloaded
// rooms-250 run made 551 logins for 300 VUs. A real SDK backs off between its own login attempts for the same
// reason. Half fixed, not full jitter: a full-jitter draw near 0 is an immediate retry, which is the storm.
// A network error at any stage (1017098: the target did not answer at all, after the client's own retries) gets
// the same wait: while the target is down, a VU that starts its next iteration at once fails it in
// microseconds, so a closed-model run spun thousands of failed iterations a second into its error counts and
// burnt the generator's CPU exactly while the target watch reported the outage; an app whose network is gone
// waits before it tries again. Other failures (a vendor error, a refused song) say nothing about the server's
// reachability or load: no wait.

/** Login refusals that mean "the server cannot take you now" (protocol/codes.ts). */
export const OVERLOAD_LOGIN_CODES: ReadonlySet<number> = new Set([1002030, 1002031, 1002071]);
/** Failures at any stage that mean "the target did not answer" (protocol/codes.ts NETWORK_ERROR). */
export const UNREACHABLE_CODES: ReadonlySet<number> = new Set([1017098]);

export interface ReloginPolicy {
  /** Ceiling of the first wait, ms; each further failure in a row doubles it up to maxMs. */
  baseMs: number;
  maxMs: number;
  /** Uniform [0, 1): injectable so tests pin the jitter. */
  random: () => number;
  /** Waits `ms` unless `signal` aborts first (then rejects). */
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
}

export const DEFAULT_RELOGIN: ReloginPolicy = {
  baseMs: 500,
  maxMs: 8_000,
  random: Math.random,
  sleep: abortableSleep,
};

export class ReloginBackoff {
  /** Overload login failures in a row. */
  private failures = 0;
  private readonly p: ReloginPolicy;

  constructor(policy: Partial<ReloginPolicy> = {}) {
    this.p = { ...DEFAULT_RELOGIN, ...policy };
    if (!(this.p.baseMs >= 0 && this.p.maxMs >= this.p.baseMs)) {
      throw new RangeError(
        `relogin backoff: need 0 <= baseMs <= maxMs, got ${this.p.baseMs}, ${this.p.maxMs}`,
      );
    }
  }

  /**
   * An iteration ended: a login refused for overload, or the target unreachable at any stage, counts; anything
   * else (a success included) resets.
   */
  record(failure: { stage: string; code: number } | null): void {
    if (failure === null) this.failures = 0;
    else if (failure.stage === "login" && OVERLOAD_LOGIN_CODES.has(failure.code)) this.failures++;
    else if (UNREACHABLE_CODES.has(failure.code)) this.failures++;
    else this.failures = 0;
  }

  /** The wait before the next login, ms (0 when the last login did not fail for overload). */
  nextDelayMs(): number {
    if (this.failures === 0) return 0;
    const ceiling = Math.min(this.p.maxMs, this.p.baseMs * 2 ** Math.min(this.failures - 1, 30));
    return Math.floor(ceiling / 2 + this.p.random() * (ceiling / 2));
  }

  /** Waits out nextDelayMs(); false when `signal` aborted the wait (the VU is stopping). */
  async wait(signal: AbortSignal): Promise<boolean> {
    const ms = this.nextDelayMs();
    if (ms === 0) return !signal.aborted;
    try {
      await this.p.sleep(ms, signal);
      return true;
    } catch {
      return false;
    }
  }
}
