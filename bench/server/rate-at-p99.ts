// "Throughput at equal p99" (issue 12): a server's rate is the highest constant offered rate it answers in full
// with a p99 within one bound that both servers of a race share. Closed-loop req/s alone rewards a server that
// lets its queue (and so its latency) grow; at a fixed offered rate and a fixed latency bound the two servers
// are held to the same service level. A step passes when the achieved rate is at least `minAchieved` of the
// offered one (a server that cannot keep up gets fewer requests from the paced load, wrk.ts) and its p99 is
// within the bound.
//
// The search starts from a guess near the edge (the previous round's edge for that server, or a fraction of
// its closed-loop rate) and moves geometrically: up while steps pass, down while they fail, each move the
// square of the last (x1.25, x1.56, x2.44...), then bisects (geometric mean) once the edge is bracketed. Each
// probe is seconds of load, so where the search starts is most of its cost: the bisection from 0 it replaces
// spent its first 2-3 probes (at 0.6x, 0.3x/0.9x... the closed-loop rate) finding a bracket a good guess gives
// in 1-2, and 4 probes left the edge within 7.5% of the closed-loop rate (~12% of the edge) where 3 from a good
// guess leave it within 6%. Pure over `probe`, so the search itself is tested without a server.

export interface ProbeResult {
  /** Achieved requests/s. */
  rps: number;
  p99_us: number;
}

export interface RateSearch {
  /** The first rate tried, req/s: where the edge is expected. */
  guess: number;
  /** Probes once the edge is bracketed or capped (>= 1). */
  steps: number;
  boundUs: number;
  /** No probe above this rate (e.g. 1.5x the closed-loop rate: a paced load cannot get much beyond it). */
  max?: number;
  /** The first move away from the guess, a factor > 1 (default 1.25). */
  factor?: number;
  /** Probes allowed beyond `steps` while nothing has passed yet (a busy machine; default 3). */
  extraDown?: number;
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
  /** The lowest rate that failed above `rate`, or null when every step up passed (the edge is beyond max). */
  failedAt: number | null;
  steps: RateStep[];
}

export function passes(offered: number, r: ProbeResult, s: Pick<RateSearch, "boundUs" | "minAchieved">) {
  return r.rps >= offered * (s.minAchieved ?? 0.95) && r.p99_us <= s.boundUs;
}

export async function rateAtP99(
  probe: (rate: number) => Promise<ProbeResult>,
  s: RateSearch,
): Promise<RateFound> {
  const factor = s.factor ?? 1.25;
  const max = s.max ?? Number.POSITIVE_INFINITY;
  const extraDown = s.extraDown ?? 3;
  if (
    !(s.guess > 0 && Number.isFinite(s.guess)) ||
    !Number.isInteger(s.steps) ||
    s.steps < 1 ||
    !(s.boundUs > 0) ||
    !(factor > 1) ||
    !(max > 0) ||
    !Number.isInteger(extraDown) ||
    extraDown < 0
  ) {
    throw new RangeError(`bad rate search ${JSON.stringify(s)}`);
  }
  let lo = 0; // highest rate that passed
  let hi = Number.POSITIVE_INFINITY; // lowest rate that failed
  let move = factor;
  let rate = Math.min(s.guess, max);
  const steps: RateStep[] = [];
  for (;;) {
    const r = await probe(rate);
    const ok = passes(rate, r, s);
    steps.push({ offered: rate, rps: r.rps, p99_us: r.p99_us, ok });
    if (ok) lo = Math.max(lo, rate);
    else hi = Math.min(hi, rate);
    const budget = lo === 0 ? s.steps + extraDown : s.steps;
    if (steps.length >= budget) break;
    if (hi === Number.POSITIVE_INFINITY) {
      if (rate >= max) break; // passed at the cap: the edge is beyond it
      rate = Math.min(max, rate * move);
      move *= move;
    } else if (lo === 0) {
      rate /= move;
      move *= move;
    } else {
      rate = Math.sqrt(lo * hi);
    }
  }
  return { rate: lo, failedAt: hi === Number.POSITIVE_INFINITY ? null : hi, steps };
}

/**
 * One step of the search as `windows` short probes at the same rate, judged by the median window: p99 is the
 * median of the windows' p99s, the achieved rate their mean. Why: on this 2-core VM a hiccup of 50-750 ms (both
 * servers, unrelated to the load; seen in interleaved probes at 64% of capacity) fails whichever 3-s probe it
 * lands in, and a search of 5 such steps met one in 1-2 steps of 3, so a server's edge was where its hiccups fell:
 * per-round edges of one server spread 2,716-8,522 req/s in one run. A slow server is slow in every window; a
 * hiccup spoils one. Each window is a fresh paced run (its own connections), the same for both servers.
 */
export async function medianOfWindows(
  probe: () => Promise<ProbeResult>,
  windows: number,
): Promise<ProbeResult & { windows: ProbeResult[] }> {
  if (!Number.isInteger(windows) || windows < 1 || windows % 2 === 0) {
    throw new RangeError(`windows must be an odd count >= 1 (a median of one window), got ${windows}`);
  }
  const all: ProbeResult[] = [];
  for (let i = 0; i < windows; i++) all.push(await probe());
  const p99s = all.map((w) => w.p99_us).sort((a, b) => a - b);
  return {
    rps: all.reduce((a, w) => a + w.rps, 0) / all.length,
    p99_us: p99s[p99s.length >> 1]!,
    windows: all,
  };
}

/**
 * Connections for a paced run: a connection waits for its slot (up to connections / rate ahead) and then for
 * the answer, so it takes `rate` x (slot wait + latency) connections to keep the schedule; 10 ms of cycle per
 * connection (4 ms left too few on a busy machine: steps came out "short" at a third of the closed-loop rate).
 * At most 128. There is no burst of first requests to dilute: wrk asks delay() before a connection's first
 * request too (wrk.c thread_main sets `delayed` before connecting), so the first requests take their slots.
 */
export function pacedConnections(rate: number): number {
  return Math.min(128, Math.max(8, Math.ceil(rate * 0.01)));
}
