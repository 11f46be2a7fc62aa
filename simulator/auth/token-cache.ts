// What token04 verification decided, remembered per exact token string: decoding a token (base64, AES-256-CBC
// decrypt, two JSON parses) cost ~10 µs CPU per request, and a client sends the same token on every call until
// it renews it. An entry holds only what the token's bytes and its app's secret decide (the app that verified it,
// that secret, the user, the payload, the expiry); what depends on the moment is still judged on every call:
// the expiry against the current clock (refused 1002078 like an uncached check), and the app the request names
// (a hit counts only for the very app object and secret that verified the token, else the full check runs and
// answers as it always did). A different user's or a tampered token is a different string: it never finds an
// entry. Only successes are kept, so a refused token is decoded (and refused) every time.
//
// Bounded: at most MAX_ENTRIES tokens of at most MAX_TOKEN_CHARS chars (real tokens are 200-400 chars), the
// oldest entry dropped when full (a ring of the keys in insertion order; a hit does not reorder, which would
// cost a delete and a set per request). Not the Map's own order: a Map keeps a deleted entry as a hole until it
// rehashes, and taking its first key after many evictions walks the holes before it: with a new token every
// call that eviction made each call ~4 µs dearer than no cache (bench/server/token-verify-cpu.ts's all-miss
// case); with the ring, ~1 µs. Memory at the bound, measured (heap after GC, a
// full cache of ~200-char tokens): 2.1 MB, ~545 bytes per entry (the key keeps its "Bearer ..." header string);
// tokens at the 1,024-char limit would add ~0.8 KB each, ~6 MB in all. When full, only every ADMIT_WHEN_FULL-th new token is let in: with
// more clients than entries calling in turn, admitting every one would evict each entry before its next use
// (no hit at all); admitting rarely keeps most of the set and still lets new clients in as old ones fall out.

import type { AppConfig } from "../options.ts";

export interface TokenVerdict {
  app: AppConfig;
  /** The app's token secret when the token was verified: a changed secret makes the entry stale. */
  secret: string;
  userId: string;
  payload: string;
  /** Unix seconds; the token is refused from this second on. */
  expire: number;
}

export const MAX_ENTRIES = 4096;
export const MAX_TOKEN_CHARS = 1024;
export const ADMIT_WHEN_FULL = 8;

export class Token04Cache {
  private readonly entries = new Map<string, TokenVerdict>();
  /** Every kept token in one slot, the next to be overwritten at `slot`: the map's keys are a subset. */
  private readonly ring: (string | undefined)[];
  private slot = 0;
  /** New tokens seen while full, for ADMIT_WHEN_FULL. */
  private refusedWhenFull = 0;
  /** Calls answered from the cache (tests read it: a tampered token must never count here). */
  hits = 0;

  constructor(
    readonly maxEntries = MAX_ENTRIES,
    readonly maxTokenChars = MAX_TOKEN_CHARS,
  ) {
    if (!(Number.isInteger(maxEntries) && maxEntries > 0))
      throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`);
    this.ring = new Array<string | undefined>(maxEntries).fill(undefined);
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * The verdict for this exact token if it was verified for `app` (the same object, with the same secret);
   * undefined when the full check must run. The caller still judges the expiry.
   */
  get(token: string, app: AppConfig): TokenVerdict | undefined {
    const v = this.entries.get(token);
    if (v === undefined || v.app !== app || v.secret !== app.token_secret) return undefined;
    this.hits++;
    return v;
  }

  /** The app a cached token was verified for (a request without X-App-Id), or undefined. */
  appOf(token: string): AppConfig | undefined {
    return this.entries.get(token)?.app;
  }

  /**
   * Remembers a verification that passed. Tokens longer than maxTokenChars are not kept; when full, one new
   * token in ADMIT_WHEN_FULL replaces the oldest entry and the others are not kept.
   */
  set(token: string, v: TokenVerdict): void {
    if (token.length > this.maxTokenChars) return;
    if (this.entries.has(token)) {
      this.entries.set(token, v);
      return;
    }
    if (this.entries.size >= this.maxEntries && ++this.refusedWhenFull % ADMIT_WHEN_FULL !== 0) return;
    // The slot's old token (if still kept) goes: a token deleted and kept again can hold two slots, so the map
    // never holds more tokens than the ring has slots; the stale slot only drops it early.
    const old = this.ring[this.slot];
    if (old !== undefined) this.entries.delete(old);
    this.ring[this.slot] = token;
    this.slot = (this.slot + 1) % this.maxEntries;
    this.entries.set(token, v);
  }

  /** An expired token will never pass again (unless the clock goes back: then it is simply decoded anew). */
  delete(token: string): void {
    this.entries.delete(token);
  }
}
