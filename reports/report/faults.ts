// Turns the injected-fault event log (one line per faulted request) into what a timeline can show: per fault
// id, the spans in which it fired (events closer than a gap merge into one span) and a count per interval.

import type { FaultEventLine } from "../format.ts";
import { firstAtLeast } from "../intervals.ts";

export interface FaultSpan {
  /** Seconds since the run started. */
  from_s: number;
  to_s: number;
  events: number;
}

export interface FaultTrack {
  fault_id: string;
  kind: string;
  color: string;
  events: number;
  first_s: number;
  last_s: number;
  spans: FaultSpan[];
  /** e.g. "code 1017097", "delay_ms median 250 (max 870)". */
  effect: string;
}

/** Muted colors, distinct from the series palette, for shaded spans. */
export const FAULT_COLORS = ["#8e6cc4", "#8c564b", "#d36fb4", "#6f7b8a", "#a5a41f", "#1fa8b8"];

/** Events further apart than this start a new span. */
export const SPAN_GAP_S = 3;

export function faultTracks(
  events: readonly FaultEventLine[],
  startMs: number,
  durationS: number,
): FaultTrack[] {
  const byId = new Map<string, FaultEventLine[]>();
  for (const e of events) {
    const s = (e.time - startMs) / 1000;
    // Events from before or after the run (the simulator's log outlives it) are not this run's.
    if (s < 0 || s > durationS + 1) continue;
    const list = byId.get(e.fault_id) ?? [];
    if (list.length === 0) byId.set(e.fault_id, list);
    list.push(e);
  }
  return [...byId.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([id, list], i) => {
      list.sort((a, b) => a.time - b.time);
      const spans: FaultSpan[] = [];
      for (const e of list) {
        const s = (e.time - startMs) / 1000;
        const last = spans.at(-1);
        if (last && s - last.to_s <= SPAN_GAP_S) {
          last.to_s = s;
          last.events++;
        } else spans.push({ from_s: s, to_s: s, events: 1 });
      }
      return {
        fault_id: id,
        kind: list[0]!.kind,
        color: FAULT_COLORS[i % FAULT_COLORS.length]!,
        events: list.length,
        first_s: spans[0]!.from_s,
        last_s: spans.at(-1)!.to_s,
        spans,
        effect: describeEffects(list),
      };
    });
}

/** Events per interval for each fault id, aligned to the ascending interval ends `xs` (seconds since start). */
export function faultCounts(
  events: readonly FaultEventLine[],
  startMs: number,
  xs: readonly number[],
): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const e of events) {
    const s = (e.time - startMs) / 1000;
    const i = firstAtLeast(xs, s);
    if (i === xs.length || (i === 0 && s < 0)) continue;
    const counts = out.get(e.fault_id) ?? xs.map(() => 0);
    if (!out.has(e.fault_id)) out.set(e.fault_id, counts);
    counts[i]!++;
  }
  return out;
}

function describeEffects(list: readonly FaultEventLine[]): string {
  const codes = new Map<string, number>();
  const delays: number[] = [];
  let drops = 0;
  for (const { effect } of list) {
    const tag =
      typeof effect.code === "number"
        ? `code ${effect.code}`
        : typeof effect.http_status === "number"
          ? `HTTP ${effect.http_status}`
          : null;
    if (tag) codes.set(tag, (codes.get(tag) ?? 0) + 1);
    if (typeof effect.delay_ms === "number") delays.push(effect.delay_ms);
    if (effect.drop === true) drops++;
  }
  const parts = [...codes.entries()].map(([k, n]) => `${k} ×${n}`);
  if (delays.length > 0) {
    delays.sort((a, b) => a - b);
    const med = delays[(delays.length - 1) >> 1]!;
    parts.push(`delay median ${Math.round(med)} ms (max ${Math.round(delays.at(-1)!)} ms)`);
  }
  if (drops > 0) parts.push(`dropped ×${drops}`);
  return parts.length > 0 ? parts.join(", ") : "—";
}
