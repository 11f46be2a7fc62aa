// Memory every worker thread of a process sees: the song bytes and rendered streams of reference/audio, made
// once per process instead of once per thread. Two SharedArrayBuffers, created by the runner (main thread) and
// handed to each worker in its workerData:
//   - `data`: a bump-allocated arena (allocations are never freed: the arena lives as long as the run). It is
//     reserved, not committed: the OS backs a page when it is first written, so the arena costs the RSS of what
//     was rendered (measured: a 16 GiB SharedArrayBuffer leaves RSS unchanged until written). Nothing in it is
//     freed, so its size is the bound on what a run keeps shared: 1 GiB by default (40 songs' first 30 s and
//     320 voices of 30 s at 8 profiles, stereo songs and mono voices, are ~1.1 GiB); past it, new songs and
//     streams are per thread again, under the stores' budgets (render-store.ts), as without an arena.
//   - `control`: the bump pointer and an open-addressing table from string keys to arena offsets.
// A key's entry is made by the first thread that asks (`entry`), under a per-slot state word: 0 empty, 1 being
// made (others wait on it with Atomics.wait), 2 ready. Keys are compared byte for byte (a hash only picks the
// slot), so two different keys never share an entry. Offsets are in 16-byte blocks so an Int32 reaches 32 GiB.
//
// Every cross-thread publication goes through Atomics (sequentially consistent): a writer fills memory with
// plain stores, then Atomics.store's the word that announces it; a reader Atomics.load's that word first, so it
// never sees memory written after (a torn or unfinished chunk).

export interface AudioArenaHandle {
  control: SharedArrayBuffer;
  data: SharedArrayBuffer;
}

export interface AudioArenaOptions {
  /** Arena bytes reserved (virtual; committed as written). Default 1 GiB, at most 32 GiB. */
  bytes?: number;
  /** Entries the key table holds (songs, streams), default 16,384. */
  slots?: number;
}

export const DEFAULT_ARENA_BYTES = 1024 ** 3;
const BLOCK = 16;
/** Control words: [0] next free block, [1] slot count, [2] blocks in the arena; slots from HEAD. */
const HEAD = 16;
/** Per slot: state, key hash, key block, key bytes, value block. */
const SLOT = 5;
const EMPTY = 0;
const MAKING = 1;
const READY = 2;
/** A thread making an entry takes microseconds; this long means it died mid-way. */
export const WAIT_LIMIT_MS = 10_000;

export function createAudioArena(o: AudioArenaOptions = {}): AudioArenaHandle {
  const bytes = o.bytes ?? DEFAULT_ARENA_BYTES;
  const slots = o.slots ?? 16_384;
  if (!Number.isInteger(bytes) || bytes < BLOCK * 2 || bytes > 32 * 1024 ** 3 || bytes % BLOCK !== 0) {
    throw new RangeError("audio arena: bytes must be a multiple of 16 in 32 B..32 GiB");
  }
  if (!Number.isInteger(slots) || slots < 1 || slots > 1 << 22) {
    throw new RangeError("audio arena: slots must be an integer in 1..4194304");
  }
  const control = new SharedArrayBuffer((HEAD + slots * SLOT) * 4);
  const c = new Int32Array(control);
  c[0] = 1; // block 0 stays unused: offset 0 means "none"
  c[1] = slots;
  c[2] = bytes / BLOCK;
  return { control, data: new SharedArrayBuffer(bytes) };
}

function fnv32(b: Uint8Array): number {
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h;
}

const encoder = new TextEncoder();

/** Waits while `a[i]` is `value`; throws after WAIT_LIMIT_MS (the thread that set it is gone). */
export function waitWhile(a: Int32Array, i: number, value: number, what: string): void {
  const until = Date.now() + WAIT_LIMIT_MS;
  while (Atomics.load(a, i) === value) {
    const left = until - Date.now();
    if (left <= 0) throw new Error(`audio arena: ${what} held for over ${WAIT_LIMIT_MS / 1000} s`);
    Atomics.wait(a, i, value, left);
  }
}

/** One thread's view of a process's arena. */
export class AudioArena {
  readonly control: Int32Array;
  readonly u8: Uint8Array;
  readonly i16: Int16Array;
  readonly i32: Int32Array;
  private readonly slots: number;
  /** Entries this thread already found: key -> byte offset. */
  private readonly known = new Map<string, number>();

  constructor(readonly handle: AudioArenaHandle) {
    if (!(handle?.control instanceof SharedArrayBuffer) || !(handle.data instanceof SharedArrayBuffer)) {
      throw new TypeError("audio arena: the handle must hold two SharedArrayBuffers (createAudioArena)");
    }
    this.control = new Int32Array(handle.control);
    this.u8 = new Uint8Array(handle.data);
    this.i16 = new Int16Array(handle.data);
    this.i32 = new Int32Array(handle.data);
    this.slots = this.control[1]!;
  }

  /** Bytes of the arena handed out so far (all threads). */
  get usedBytes(): number {
    return Atomics.load(this.control, 0) * BLOCK;
  }

  get capacityBytes(): number {
    return this.control[2]! * BLOCK;
  }

  /** `bytes` of zeroed arena memory, 16-byte aligned: its byte offset, or -1 when the arena is full. */
  alloc(bytes: number): number {
    const blocks = Math.ceil(bytes / BLOCK);
    const cap = this.control[2]!;
    for (;;) {
      const at = Atomics.load(this.control, 0);
      if (at + blocks > cap) return -1;
      if (Atomics.compareExchange(this.control, 0, at, at + blocks) === at) return at * BLOCK;
    }
  }

  /**
   * The byte offset of `key`'s value, made by `make` (which allocates and fills it, returning its byte offset,
   * or -1 when it cannot) if no thread made it yet; `created` says whether this call made it. Null when the
   * table or the arena is full (the caller goes on without sharing).
   */
  entry(key: string, make: () => number): { offset: number; created: boolean } | null {
    const seen = this.known.get(key);
    if (seen !== undefined) return { offset: seen, created: false };
    const kb = encoder.encode(key);
    const h = fnv32(kb);
    const c = this.control;
    let i = (h >>> 0) % this.slots;
    for (let probe = 0; probe < this.slots; probe++, i = (i + 1) % this.slots) {
      const s = HEAD + i * SLOT;
      let state = Atomics.load(c, s);
      if (state === EMPTY) {
        if (Atomics.compareExchange(c, s, EMPTY, MAKING) === EMPTY) {
          return this.make(s, key, kb, h, make);
        }
        state = Atomics.load(c, s);
      }
      if (state === MAKING) {
        waitWhile(c, s, MAKING, "a shared audio entry");
        state = Atomics.load(c, s);
      }
      // READY (or made and abandoned: -1 value with the key kept, so a full arena is not retried forever).
      if (c[s + 1] !== h || c[s + 3] !== kb.length) continue;
      const kOff = c[s + 2]! * BLOCK;
      if (!this.sameKey(kOff, kb)) continue;
      const value = c[s + 4]!;
      if (value <= 0) return null;
      this.known.set(key, value * BLOCK);
      return { offset: value * BLOCK, created: false };
    }
    return null;
  }

  private make(s: number, key: string, kb: Uint8Array, h: number, make: () => number) {
    const c = this.control;
    let value = -1;
    let kOff = -1;
    try {
      kOff = this.alloc(kb.length);
      if (kOff >= 0) {
        this.u8.set(kb, kOff);
        value = make();
      }
    } finally {
      c[s + 1] = h;
      c[s + 2] = kOff >= 0 ? kOff / BLOCK : 0;
      c[s + 3] = kOff >= 0 ? kb.length : -1;
      c[s + 4] = value >= 0 ? value / BLOCK : 0;
      Atomics.store(c, s, READY);
      Atomics.notify(c, s);
    }
    if (value < 0) return null;
    this.known.set(key, value);
    return { offset: value, created: true };
  }

  private sameKey(off: number, kb: Uint8Array): boolean {
    const u8 = this.u8;
    for (let j = 0; j < kb.length; j++) if (u8[off + j] !== kb[j]) return false;
    return true;
  }
}
