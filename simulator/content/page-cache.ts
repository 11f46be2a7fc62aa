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
}

export class PageCache {
  // Least-recently-used by a use stamp per page rather than by Map order (Lru): a hit is then one Map look-up
  // and a store, where moving the key to the back (delete + set) was ~1-3 µs of each hit under load. Eviction
  // scans for the oldest stamp, which only a miss at capacity pays (it builds and serializes a page anyway).
  private readonly pages = new Map<string, Page>();
  private uses = 0;
  private catalog: Catalog | null = null;
  private version = Number.NaN;
  hits = 0;
  misses = 0;

  constructor(private readonly capacity = PAGE_CACHE_PAGES) {}

  /** The JSON of `build()` for `key` under the catalog's current version; `build` runs only on a miss. */
  render(catalog: Catalog, key: string, build: () => unknown): Buffer {
    const v = catalog.version();
    if (catalog !== this.catalog || v !== this.version) {
      this.pages.clear();
      this.catalog = catalog;
      this.version = v;
    }
    const page = this.pages.get(key);
    if (page !== undefined) {
      this.hits++;
      page.used = ++this.uses;
      return page.json;
    }
    this.misses++;
    const json = Buffer.from(JSON.stringify(build()));
    // build() reads the catalog, which never changes its version while answering; checked anyway so a
    // page built across a change is not kept under the older version.
    if (catalog.version() === v) {
      if (this.pages.size >= this.capacity) this.evictOldest();
      this.pages.set(key, { json, used: ++this.uses });
    }
    return json;
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
    if (oldest !== undefined) this.pages.delete(oldest);
  }

  get size(): number {
    return this.pages.size;
  }

  clear(): void {
    this.pages.clear();
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

const ok = okEnvelope("", null);
const OK_HEAD = `{"code":${ok.code},"message":${JSON.stringify(ok.message)},"request_id":`;

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
