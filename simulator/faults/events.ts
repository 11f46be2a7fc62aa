// The injected-fault event log: one entry per fault that hit a request, kept in a bounded ring so a long load
// test cannot grow it without limit (the oldest entries go first; `dropped` says how many). Scenarios and
// reports read it back (GET /admin/faults/events) and overlay it on their timelines.

/** What a fault did, in wire names. */
export interface FaultEffect {
  delay_ms?: number;
  code?: number;
  http_status?: number;
  drop?: boolean;
  /** expiry: validity given to a resource being issued. */
  ttl_ms?: number;
  /** expiry: a resource force-expired (swept when the fault started, or found expired by a download). */
  expired?: boolean;
  /** revocation: rights withdrawn from the fault's songs from now on. */
  revoked?: "all" | "listen_only";
  /** A download in flight was cut (with `code`). */
  cut?: boolean;
  /** cdn: the effects planned for one download. */
  first_byte_ms?: number;
  stall_ms?: number;
  stall_after_bytes?: number;
  reset_after_bytes?: number;
  bytes_per_sec?: number;
  cap_scope?: "connection" | "global";
  /** media: what one fault did to one stream's frames in one second (media-plan.ts): frames affected, ... */
  frames?: number;
  dropped?: number;
  duplicated?: number;
  delayed?: number;
  /** ... frames held back behind later ones, ... */
  reordered?: number;
  delay_ms_mean?: number;
  delay_ms_max?: number;
  /** ... and the sequence numbers of the first and last affected frame. */
  seq_first?: number;
  seq_last?: number;
}

export interface FaultEvent {
  /** 1, 2, 3... in injection order; survives ring overwrites, so gaps show lost entries. */
  seq: number;
  /** Clock time, ms since the epoch. */
  time: number;
  fault_id: string;
  kind: string;
  route: string;
  /** The deterministic request key (see engine.ts). */
  request_key: string;
  effect: FaultEffect;
}

export interface EventLog {
  push(e: Omit<FaultEvent, "seq">): void;
  /** Entries with time >= sinceMs (all when undefined), oldest first. */
  since(sinceMs?: number): FaultEvent[];
  clear(): void;
  readonly size: number;
  /** Entries overwritten because the ring was full, since the last clear. */
  readonly dropped: number;
}

export const DEFAULT_EVENT_CAPACITY = 100_000;

export function createEventLog(capacity = DEFAULT_EVENT_CAPACITY): EventLog {
  if (!Number.isInteger(capacity) || capacity < 1) {
    throw new Error(`event log capacity must be >= 1, got ${capacity}`);
  }
  const ring: (FaultEvent | undefined)[] = new Array(capacity);
  let next = 0;
  let size = 0;
  let seq = 0;
  let dropped = 0;
  return {
    push(e) {
      if (size === capacity) dropped++;
      else size++;
      ring[next] = { seq: ++seq, ...e };
      next = (next + 1) % capacity;
    },
    since(sinceMs) {
      const out: FaultEvent[] = [];
      const start = (next - size + capacity) % capacity;
      for (let i = 0; i < size; i++) {
        const e = ring[(start + i) % capacity]!;
        if (sinceMs === undefined || e.time >= sinceMs) out.push(e);
      }
      return out;
    },
    clear() {
      ring.fill(undefined);
      next = 0;
      size = 0;
      seq = 0;
      dropped = 0;
    },
    get size() {
      return size;
    },
    get dropped() {
      return dropped;
    },
  };
}
