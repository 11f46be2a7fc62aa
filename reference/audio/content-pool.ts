// Content-addressed immutable bytes, one copy per worker thread: a song downloaded by a hundred virtual users
// is held once. Identity is the bytes themselves, never a song id, URL or ETag (a vendor may serve different
// files under one song id; a test serves two): `intern` looks candidates up by a cheap hint (length + FNV-1a of
// ~12 KB sampled from the head, the tail and 64 stripes across the file) and then proves equality with a full
// byte comparison (memcmp). Cost, measured by bench/audio/shared-audio.ts on this project's 2-core machine:
// the comparison runs at memcmp speed (several GB/s), far below the sha256 a hash-only key would need
// (~0.5-2 GB/s) and without trusting a hash. A miss costs only the hint.
//
// Entries are refcounted: whoever keeps bytes (a memory download cache, a shared audio entry) holds a ref and
// releases it; the last release drops the bytes from the pool.
//
// With an arena (shared-arena.ts, one per process), the copy kept is the process's: the first thread to intern a
// content copies it into the arena under the key "content|<hint>|<n>"; every other thread compares its own bytes
// with that copy, byte for byte, and on equality uses it and lets its own go (a VU's download is freed once
// verified). Different contents with one hint take the next n. The arena copy lives as long as the process.

import type { AudioArena } from "./shared-arena.ts";

export interface ContentRef {
  /** Unique per interned content in this pool (never reused): a key for what is derived from the bytes. */
  readonly id: number;
  /** The canonical bytes: treat as immutable. */
  readonly bytes: Uint8Array;
  /** True when the bytes are the process's copy in the shared arena (the id is then the same in every thread). */
  readonly shared: boolean;
}

interface Entry extends ContentRef {
  hint: string;
  refs: number;
}

const STRIPES = 64;
const STRIPE = 64;
const EDGE = 4096;

function fnv(h: number, b: Uint8Array, from: number, to: number): number {
  for (let i = from; i < to; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h;
}

/** Length plus a 32-bit FNV-1a of sampled bytes: equal content always has equal hints. */
export function contentHint(b: Uint8Array): string {
  const n = b.length;
  let h = 0x811c9dc5 | 0;
  if (n <= 2 * EDGE + STRIPES * STRIPE) {
    h = fnv(h, b, 0, n);
  } else {
    h = fnv(h, b, 0, EDGE);
    h = fnv(h, b, n - EDGE, n);
    const step = Math.floor((n - 2 * EDGE - STRIPE) / STRIPES);
    for (let s = 0; s < STRIPES; s++) {
      const at = EDGE + s * step;
      h = fnv(h, b, at, at + STRIPE);
    }
  }
  return `${n}:${(h >>> 0).toString(16)}`;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
}

export class ContentPool {
  private readonly byHint = new Map<string, Entry[]>();
  private readonly byBytes = new WeakMap<Uint8Array, Entry>();
  private nextId = 1;
  /** Full byte comparisons made (hits and hint collisions): for tests and the bench. */
  compares = 0;

  /** `arena`: the process's shared memory, where contents are kept once for every thread (absent: per pool). */
  constructor(readonly arena: AudioArena | null = null) {}

  /**
   * The pool's ref for content equal to `bytes` (+1 reference): the existing copy when the pool holds one,
   * else `bytes` itself, which must not change afterwards.
   */
  intern(bytes: Uint8Array): ContentRef {
    const known = this.byBytes.get(bytes);
    if (known && known.refs > 0) {
      known.refs++;
      return known;
    }
    const hint = contentHint(bytes);
    const list = this.byHint.get(hint);
    if (list) {
      for (const e of list) {
        this.compares++;
        if (sameBytes(e.bytes, bytes)) {
          e.refs++;
          return e;
        }
      }
    }
    const shared = this.arena ? this.internShared(bytes, hint) : null;
    const e: Entry = shared
      ? { id: -shared.offset, bytes: shared.bytes, hint, refs: 1, shared: true }
      : { id: this.nextId++, bytes, hint, refs: 1, shared: false };
    if (list) list.push(e);
    else this.byHint.set(hint, [e]);
    this.byBytes.set(e.bytes, e);
    return e;
  }

  /** The arena's copy of `bytes` (made by this call when no thread made one yet); null when the arena is full. */
  private internShared(bytes: Uint8Array, hint: string): { offset: number; bytes: Uint8Array } | null {
    const arena = this.arena!;
    const n = bytes.length;
    for (let k = 0; ; k++) {
      const e = arena.entry(`content|${hint}|${k}`, () => {
        const at = arena.alloc(n);
        if (at >= 0) arena.u8.set(bytes, at);
        return at;
      });
      if (!e) return null;
      const view = arena.u8.subarray(e.offset, e.offset + n);
      if (e.created) return { offset: e.offset, bytes: view };
      this.compares++;
      if (sameBytes(view, bytes)) return { offset: e.offset, bytes: view };
    }
  }

  /** Another reference to content already held. */
  retain(ref: ContentRef): ContentRef {
    const e = ref as Entry;
    if (e.refs <= 0) throw new Error("content pool: retain of released content");
    e.refs++;
    return e;
  }

  /** Drops one reference; the last one removes the bytes from the pool. */
  release(ref: ContentRef): void {
    const e = ref as Entry;
    if (e.refs <= 0) throw new Error("content pool: release of released content");
    if (--e.refs > 0) return;
    const list = this.byHint.get(e.hint);
    if (!list) return;
    const i = list.indexOf(e);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.byHint.delete(e.hint);
    this.byBytes.delete(e.bytes);
  }

  /**
   * The bytes of every content held of exactly `length` bytes: what a download of that announced size may turn
   * out to equal (MemoryCache compares as the bytes arrive). Few: one per distinct song of that size.
   */
  withLength(length: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    const prefix = `${length}:`;
    for (const [hint, list] of this.byHint) {
      if (hint.startsWith(prefix)) for (const e of list) out.push(e.bytes);
    }
    return out;
  }

  /** Distinct contents held, and their bytes. */
  get stats(): { contents: number; bytes: number } {
    let contents = 0;
    let bytes = 0;
    for (const list of this.byHint.values()) {
      for (const e of list) {
        contents++;
        bytes += e.bytes.length;
      }
    }
    return { contents, bytes };
  }
}
