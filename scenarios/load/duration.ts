// k6 durations: Go's time.ParseDuration strings ("1h30m", "1.5s", "250ms", "0") or a number of milliseconds,
// as k6 accepts both in its options. Everything in the scenario layer is in milliseconds.

const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1, us: 0.001, µs: 0.001 };
const PART = /(\d+(?:\.\d*)?|\.\d+)(h|ms|m|s|us|µs)/y;

export type Duration = string | number;

/** Milliseconds, or an Error saying what is wrong (callers collect errors instead of throwing). */
export function parseDuration(d: unknown): number | Error {
  if (typeof d === "number") {
    return Number.isFinite(d) && d >= 0 ? d : new Error(`must be >= 0 ms, got ${d}`);
  }
  if (typeof d !== "string") return new Error(`must be a duration such as "30s" or "1m30s", got ${typeof d}`);
  const text = d.trim();
  if (text === "0") return 0;
  if (text === "") return new Error('must be a duration such as "30s", got an empty string');
  let ms = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const at = PART.lastIndex;
    const m = PART.exec(text);
    if (!m || m.index !== at)
      return new Error(`"${d}" is not a duration (e.g. "500ms", "30s", "1m30s", "1h")`);
    ms += Number(m[1]) * UNIT_MS[m[2]!]!;
  }
  return ms;
}

/** As parseDuration, throwing a RangeError naming `what` (for values already validated). */
export function durationMs(d: Duration, what = "duration"): number {
  const v = parseDuration(d);
  if (v instanceof Error) throw new RangeError(`${what}: ${v.message}`);
  return v;
}

/** 90_000 -> "1m30s": for messages and plans. */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  if (ms < 1000) return `${Math.round(ms)}ms`;
  let s = Math.round(ms / 100) / 10;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s = Math.round((s - m * 60) * 10) / 10;
  return `${h ? `${h}h` : ""}${m ? `${m}m` : ""}${s || (!h && !m) ? `${s}s` : ""}`;
}
