// "Throughput at equal p99" (issue 12): a server's rate is the highest constant offered rate it answers in full
// with a p99 within one bound that both servers of a race share. Closed-loop req/s alone rewards a server that
// lets its queue (and so its latency) grow; at a fixed offered rate and a fixed latency bound the two servers
// are held to the same service level. The search is a bisection over offered rates between 0 (good by
// definition) and `hi`: a step passes when the achieved rate is at least `minAchieved` of the offered one
// (a server that cannot keep up gets fewer requests from the paced load, wrk.ts) and its p99 is within the
// bound. Pure over `probe`, so the search itself is tested without a server.

export interface ProbeResult {
  /** Achieved requests/s. */
  rps: number;
  p99_us: number;
}

export interface RateSearch {
  /** Upper end of the search, req/s (e.g. 1.2x the server's closed-loop rate). */
  hi: number;
  /** Bisection steps: the answer is within hi / 2^steps of the true edge. */
  steps: number;
  boundUs: number;
  /** Fraction of the offered rate that must be achieved (default 0.95). */
  minAchieved?: number;
}

export interface RateStep {
  offered: number;
  rps: number;
  p99_us: number;
  ok: boolean;
}

export interface RateFound {
  /** Highest offered rate that passed; 0 when none did. */
  rate: number;
  steps: RateStep[];
}

export function passes(offered: number, r: ProbeResult, s: Pick<RateSearch, "boundUs" | "minAchieved">) {
  return r.rps >= offered * (s.minAchieved ?? 0.95) && r.p99_us <= s.boundUs;
}

export async function rateAtP99(
  probe: (rate: number) => Promise<ProbeResult>,
  s: RateSearch,
): Promise<RateFound> {
  if (!(s.hi > 0) || !Number.isInteger(s.steps) || s.steps < 1 || !(s.boundUs > 0)) {
    throw new RangeError(`bad rate search ${JSON.stringify(s)}`);
  }
  let lo = 0;
  let hi = s.hi;
  const steps: RateStep[] = [];
  for (let i = 0; i < s.steps; i++) {
    const offered = (lo + hi) / 2;
    const r = await probe(offered);
    const ok = passes(offered, r, s);
    steps.push({ offered, rps: r.rps, p99_us: r.p99_us, ok });
    if (ok) lo = offered;
    else hi = offered;
  }
  return { rate: lo, steps };
}

/**
 * Connections for a paced run: a connection waits for its slot (up to connections / rate ahead) and then for
 * the answer, so it takes `rate` x (slot wait + latency) connections to keep the schedule; 10 ms of cycle per
 * connection (4 ms left too few on a busy machine: steps came out "short" at a third of the closed-loop rate).
 * At most 128, so the burst of first requests (one per connection, before pacing starts) stays near 0.5% of a
 * 2 s probe at 12,000 req/s.
 */
export function pacedConnections(rate: number): number {
  return Math.min(128, Math.max(8, Math.ceil(rate * 0.01)));
}
