// One clock for everything time-dependent (TTLs, token expiry, ledger times), so tests and the fault engine
// can reason about "when" without racing the wall clock.
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** When the simulator started (ms since epoch): fault windows are relative to it. */
  readonly startedAt: number;
}

export function systemClock(): Clock {
  const startedAt = Date.now();
  return { now: () => Date.now(), startedAt };
}

/** A clock tests move by hand. */
export function manualClock(
  start = 1_700_000_000_000,
): Clock & { advance(ms: number): void; set(ms: number): void } {
  let t = start;
  return {
    startedAt: start,
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
    set(ms: number) {
      t = ms;
    },
  };
}
