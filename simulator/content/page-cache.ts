import { okEnvelope } from "../../protocol/envelope.ts";
import type { Catalog } from "../catalog/types.ts";

// Rendered list pages (/top/song, /search/song, /tag/song). Between two revocation changes a page is the same
// for every caller, yet building it re-derives 20 songs from the seed and the response serializer walks them
// again: together about a fifth of the simulator's CPU under a chart-heavy load (profile at dc30b28). So the
// `data` JSON of a page is kept, keyed by the command's validated params, and the whole cache is dropped the
// moment `catalog.version()` moves (admin revoke/restore/reset, a new revocation-overlay version) or the
// catalog itself is replaced. Only the envelope around it (request_id) is written per request. Pages are kept
// as UTF-8 bytes: song names are mostly CJK, so a page as a JS string is two-byte and Node would encode its
// ~13 KB to UTF-8 twice per answer (content-length, then the socket write) — the largest cost left after
// caching, measured as `writev`/`writevGeneric` at about a sixth of the simulator's CPU.

/** Pages kept: a page is ~13 KB of JSON, so this bounds the cache near 7 MB whatever keys callers send. */
export const PAGE_CACHE_PAGES = 512;

interface Page {
  json: Buffer;
  /** The cache's use count at this page's last use: the least recently used page has the smallest. */
  used: number;
  /** Written-out answers of this page, free to carry the next request's envelope (see envelope()). */
  spare: PageAnswer[];
  /** False once the page left the cache: its answers are then not kept on return. */
  live: boolean;
}

/**
 * One answer of a cached page: the whole envelope, `{"code":0,...,"request_id":"<id>","data":<page>}`, in a
 * buffer of its own that is lent to one request at a time (PageCache.envelope / release).
 */
export interface PageAnswer {
  readonly bytes: Buffer;
  readonly page: Page;
}

/** Spare answers kept per page: enough for every connection of a 16-64-connection load on one hot page. */
export const SPARE_ANSWERS_PER_PAGE = 64;
/** All spare answers of a cache together stay under this (a page is ~13 KB: ~1,200 answers). */
export const SPARE_ANSWER_BYTES = 16 << 20;

export class PageCache {
  // Least-recently-used by a use stamp per page rather than by Map order (Lru): a hit is then one Map look-up
  // and a store, where moving the key to the back (delete + set) was ~1-3 µs of each hit under load. Eviction
  // scans for the oldest stamp, which only a miss at capacity pays (it builds and serializes a page anyway).
  private readonly pages = new Map<string, Page>();
  private uses = 0;
  /** The page render() answered last: envelope() is called right after it for the same page. */
  private last: Page | null = null;
  private spareBytes = 0;
  private catalog: Catalog | null = null;
  private version = Number.NaN;
  hits = 0;
  misses = 0;

  constructor(private readonly capacity = PAGE_CACHE_PAGES) {}

  /** The JSON of `build()` for `key` under the catalog's current version; `build` runs only on a miss. */
  render(catalog: Catalog, key: string, build: () => unknown): Buffer {
    const hit = this.lookup(catalog, key);
    if (hit !== undefined) return hit;
    const v = this.version;
    this.misses++;
    const json = Buffer.from(JSON.stringify(build()));
    this.last = null;
    // build() reads the catalog, which never changes its version while answering; checked anyway so a
    // page built across a change is not kept under the older version.
    if (catalog.version() === v) {
      if (this.pages.size >= this.capacity) this.evictOldest();
      const fresh: Page = { json, used: ++this.uses, spare: [], live: true };
      this.pages.set(key, fresh);
      this.last = fresh;
    }
    return json;
  }

  /**
   * render() on a hit (the page's JSON, counted as a hit, ready for envelope()); undefined on a miss, which
   * builds nothing and counts nothing: the caller then calls render(), which counts it. No `build` closure to
   * make for a request the cache answers.
   */
  lookup(catalog: Catalog, key: string): Buffer | undefined {
    const v = catalog.version();
    if (catalog !== this.catalog || v !== this.version) {
      this.clear();
      this.catalog = catalog;
      this.version = v;
    }
    const page = this.pages.get(key);
    if (page === undefined) return undefined;
    this.hits++;
    page.used = ++this.uses;
    this.last = page;
    return page.json;
  }

  /**
   * The success envelope around `json` (what render() just returned) for `requestId`: byte for byte
   * okEnvelopeJson(requestId, json). For a cached page it is one of the page's own answer buffers, with only
   * the head rewritten: copying the ~13 KB page into fresh memory per request (and the page faults of that
   * fresh memory) was the largest cost the simulator itself added to a cached answer. The caller gives it back
   * with release() once it has been written out, and never touches it after.
   */
  envelope(requestId: string, json: Buffer): PageAnswer {
    const page = this.last;
    if (page === null || page.json !== json) {
      // Not a cached page (built across a catalog change): a one-off answer that nobody keeps.
      return { bytes: okEnvelopeJson(requestId, json), page: DETACHED };
    }
    // A plain id (printable ASCII, nothing JSON escapes: every id the simulator makes) is its own JSON text
    // between two quotes, one byte a character. A reused answer of the same size then differs from this one's
    // only in the id's bytes: the quotes around the id (any JSON string starts and ends with one) and the text
    // around them are the same in every answer of the page. Rebuilding and re-encoding the whole head
    // (`JSON.stringify`, a concatenation, `Buffer.byteLength`, a UTF-8 write) was most of this method.
    const plain = plainId(requestId);
    const head = plain ? "" : `${OK_HEAD}${JSON.stringify(requestId)},"data":`;
    const headBytes = plain
      ? OK_HEAD_BYTES + requestId.length + 2 + DATA_KEY.length
      : Buffer.byteLength(head);
    const size = headBytes + json.length + 1;
    let answer = page.spare.pop();
    while (answer !== undefined && answer.bytes.length !== size) {
      // Sized for a request id of another length (ids grow a character now and then): let it go.
      this.spareBytes -= answer.bytes.length;
      answer = page.spare.pop();
    }
    if (answer === undefined) {
      const bytes = Buffer.allocUnsafeSlow(size);
      json.copy(bytes, headBytes);
      bytes[size - 1] = 0x7d; // }
      answer = { bytes, page };
      bytes.write(plain ? `${OK_HEAD}"${requestId}"${DATA_KEY}` : head, 0, "utf8");
    } else {
      this.spareBytes -= size;
      if (plain) answer.bytes.write(requestId, OK_HEAD_BYTES + 1, "latin1");
      else answer.bytes.write(head, 0, "utf8");
    }
    return answer;
  }

  /**
   * Takes an answer back once the response carrying it has been written out (its bytes are no longer needed by
   * the socket). Kept for the page's next request unless the page has left the cache or the spares are full.
   */
  release(answer: PageAnswer): void {
    const page = answer.page;
    if (!page.live || page.spare.length >= SPARE_ANSWERS_PER_PAGE) return;
    if (this.spareBytes + answer.bytes.length > SPARE_ANSWER_BYTES) return;
    page.spare.push(answer);
    this.spareBytes += answer.bytes.length;
  }

  /** Bytes held in spare answers (for tests and the memory bound). */
  get spareAnswerBytes(): number {
    return this.spareBytes;
  }

  private evictOldest(): void {
    let oldest: string | undefined;
    let min = Number.POSITIVE_INFINITY;
    for (const [key, p] of this.pages) {
      if (p.used < min) {
        min = p.used;
        oldest = key;
      }
    }
    if (oldest !== undefined) {
      this.drop(this.pages.get(oldest)!);
      this.pages.delete(oldest);
    }
  }

  private drop(page: Page): void {
    page.live = false;
    for (const a of page.spare) this.spareBytes -= a.bytes.length;
    page.spare.length = 0;
    if (this.last === page) this.last = null;
  }

  get size(): number {
    return this.pages.size;
  }

  clear(): void {
    for (const page of this.pages.values()) this.drop(page);
    this.pages.clear();
    this.last = null;
  }
}

/** Filter codes as a key: order and repeats do not change the answer. */
export const codesKey = (codes: readonly number[]): string =>
  codes.length === 0 ? "" : [...new Set(codes)].sort((a, b) => a - b).join(",");

/**
 * The success envelope around an already-serialized `data`, byte for byte what the route's response schema
 * serializes for okEnvelope(requestId, data): code, message, request_id, data, in that order.
 */
export function okEnvelopeJson(requestId: string, dataJson: Buffer): Buffer {
  const head = `${OK_HEAD}${JSON.stringify(requestId)},"data":`;
  const headBytes = Buffer.byteLength(head);
  const out = carve(headBytes + dataJson.length + 1);
  out.write(head, 0, "utf8");
  dataJson.copy(out, headBytes);
  out[out.length - 1] = 0x7d; // }
  return out;
}

/** The page of answers no cache keeps (release() lets them go). */
const DETACHED: Page = { json: Buffer.alloc(0), used: 0, spare: [], live: false };

const ok = okEnvelope("", null);
const OK_HEAD = `{"code":${ok.code},"message":${JSON.stringify(ok.message)},"request_id":`;
const OK_HEAD_BYTES = Buffer.byteLength(OK_HEAD);
const DATA_KEY = ',"data":';

/** An id JSON.stringify leaves as it is between its quotes, one byte a character (printable ASCII, no `"` `\`). */
function plainId(id: string): boolean {
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}

// Answers are carved from 1 MB slabs, as Node's own Buffer pool does for small buffers (it stops at 4 KB): a
// page answer is ~13 KB, and a fresh ArrayBuffer for each one (allocation, external-memory accounting, GC) cost
// more than the copy into it (~6-11 µs of ~8-13 per answer, measured in process at load 15-20). A slab is never
// written again once carved past, so a slice waiting in a slow socket's queue keeps its bytes; it is freed when
// its last slice is.
const SLAB_BYTES = 1 << 20;
let slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
let slabUsed = 0;

function carve(bytes: number): Buffer {
  if (bytes > SLAB_BYTES >> 3) return Buffer.allocUnsafe(bytes);
  if (slabUsed + bytes > SLAB_BYTES) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    slabUsed = 0;
  }
  const out = slab.subarray(slabUsed, slabUsed + bytes);
  slabUsed = (slabUsed + bytes + 7) & ~7;
  return out;
}
