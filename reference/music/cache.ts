import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import {
  type FileHandle,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  statfs,
  writeFile,
} from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import type { ContentPool, ContentRef } from "../audio/content-pool.ts";

// The download cache: one WAV per (vendor, song, resource type, quality), the key of queryCache, plus a small
// JSON sidecar with the ETag it was served with (so a later download can revalidate instead of re-fetching).
// Resource ids never appear on disk: they belong to one session. Files appear only by atomic rename of a
// finished, verified download; partial files end in `.part` and are unique per download.

export interface CacheKey {
  vendorID: number;
  songID: string;
  resourceType: number;
  quality: number;
}

export interface CacheMeta extends CacheKey {
  etag: string;
  size: number;
  savedAt: number;
}

/**
 * What download.ts and the music module need from a cache: the directory below (DownloadCache) or memory
 * (MemoryCache: load runs whose downloads must not touch the filesystem).
 */
export interface ResourceCache {
  /** Where the finished file is (for MemoryCache a name, `memory:...`, that no filesystem call accepts). */
  filePath(k: CacheKey): string;
  /** The cached file's metadata when it is complete, else null. */
  lookup(k: CacheKey): Promise<CacheMeta | null>;
  /** Room left for a download, or Infinity. */
  freeBytes(): Promise<number>;
  /** A fresh partial file for a download of `k` (`sizeHint`: the expected size, when known). */
  begin(k: CacheKey, sizeHint?: number): Promise<PartialResource>;
  /** Moves a finished, verified partial file into place. */
  commit(k: CacheKey, part: PartialResource, meta: { etag: string; size: number }): Promise<CacheMeta>;
  size(): Promise<number>;
  /** Removes cached files except the partial files named in `keep`. */
  clear(keep?: ReadonlySet<string>): Promise<void>;
  /** The complete file for the player, synchronously: its path, and its bytes when held in memory. */
  locate(k: CacheKey): { path: string; bytes?: Uint8Array } | null;
  /** Lets go of what the cache holds in memory (the music module's destroy); files on disk stay. */
  close(): void;
}

/** A download in progress. */
export interface PartialResource {
  /** Its name (a path on disk): clearCache leaves running downloads' partial files alone. */
  readonly name: string;
  write(data: Uint8Array, offset: number): Promise<void>;
  /** Empties it (the file changed: the download starts again from byte 0). */
  truncate(): Promise<void>;
  /** Flushes and closes it; resolves with the bytes it holds (what is on disk, not what was counted). */
  finish(): Promise<number>;
  /** Removes it (a failed or cancelled download). */
  discard(): Promise<void>;
}

class DiskPartial implements PartialResource {
  private fh: FileHandle | null = null;
  constructor(readonly name: string) {}
  private async handle(): Promise<FileHandle> {
    this.fh ??= await open(this.name, "w");
    return this.fh;
  }
  /** Creates the file, empty (opening with "w" truncates: no second call). */
  async create(): Promise<void> {
    await this.handle();
  }
  async write(data: Uint8Array, offset: number): Promise<void> {
    await (await this.handle()).write(data, 0, data.byteLength, offset);
  }
  async truncate(): Promise<void> {
    await (await this.handle()).truncate(0);
  }
  async finish(): Promise<number> {
    const fh = await this.handle();
    await fh.sync();
    const size = (await fh.stat()).size;
    this.fh = null;
    await fh.close();
    return size;
  }
  async discard(): Promise<void> {
    const fh = this.fh;
    this.fh = null;
    await fh?.close().catch(() => {});
    await rm(this.name, { force: true });
  }
}

const PART = ".part";
/**
 * Names this cache writes: `<vendor>_<type>_<quality>_<song>` + `.wav`, `.json`, `.<hex>.part` or
 * `.json.<hex>.tmp`. size() and clear() touch nothing else, so a cache directory shared with other files (or
 * pointed at the wrong place) loses only what this cache put there.
 */
const OURS = /^\d+_\d+_\d+_[A-Za-z0-9_-]+\.(wav|json|[0-9a-f]{12}\.part|json\.[0-9a-f]{12}\.tmp)$/;

function safeName(songID: string): string {
  return /^[A-Za-z0-9_-]{1,80}$/.test(songID)
    ? songID
    : `h${createHash("sha256").update(songID).digest("hex").slice(0, 32)}`;
}

/**
 * What this thread knows of one cache directory: the metadata files (`<base>.json`) of its finished downloads,
 * and the directory's free space. Without it every download began with file-system calls before its request
 * could go out (the metadata read for the lookup, mkdir + statfs for the free-space check): each is a hop
 * through libuv's thread pool, four threads for the whole process, where the other downloads' writes and fsyncs
 * queue too; at `ktv run smoke` they took 1-67 ms of the user's time to first audio (traced), for a lookup that
 * nearly always misses (a fresh cache directory per song). Read once per DownloadCache (its construction starts
 * it, while the app logs in), a miss is then answered from memory.
 *
 * What it may get wrong, and why that is safe: a name listed whose file is gone (removed behind our back) is
 * checked on the file system as before, so a hit is never trusted from memory; a file another process or thread
 * committed since this thread last read the directory is missed, and downloaded again instead of revalidated
 * (same bytes; each new DownloadCache reads the directory again). Commits and clears by this thread's caches
 * update it at once.
 */
class DirectoryIndex {
  /** Metadata file names present; null while unknown (never read, or unreadable): then lookups ask the disk. */
  private names: Set<string> | null = null;
  /** Names committed while a read was in flight (the read may have missed them). */
  private added: Set<string> | null = null;
  private reading: Promise<void> = Promise.resolve();
  /** The directory is known to exist (mkdir done once, not before every download). */
  made = false;
  private free: { at: number; bytes: Promise<number> } | null = null;
  /** DownloadCaches open on it (it is dropped with the last one's close). */
  users = 0;

  constructor(readonly dir: string) {}

  /** Reads the directory's listing again (in the background: lookups wait for it only while it runs). */
  refresh(): void {
    const added = new Set<string>();
    this.added = added;
    // After any read still running, so that listings apply in the order they were asked for.
    this.reading = this.reading
      .then(() => readdir(this.dir))
      .then(
        (all) => {
          const names = new Set(all.filter((n) => n.endsWith(".json") && OURS.test(n)));
          for (const n of added) names.add(n);
          this.names = names;
          this.made = true;
        },
        (err: unknown) => {
          // No directory (yet): nothing is cached. Anything else: unknown, so lookups read the files.
          const missing = (err as { code?: unknown }).code === "ENOENT";
          this.names = missing ? new Set(added) : null;
          if (missing) this.made = false;
        },
      );
  }

  /** Whether `name` may be present: false only when the listing is known and lacks it. */
  async mayHave(name: string): Promise<boolean> {
    await this.reading;
    return this.names === null || this.names.has(name);
  }

  add(name: string): void {
    this.names?.add(name);
    this.added?.add(name);
  }

  delete(name: string): void {
    this.names?.delete(name);
    this.added?.delete(name);
  }

  /**
   * Free bytes, from a measure at most FREE_SPACE_FRESH_MS old: the check before a download is a courtesy (a
   * write that finds the disk full still ends the download with 1017011), and measuring it before each
   * request put a statfs in the thread pool's queue on every song's path.
   */
  freeBytes(now: number): Promise<number> {
    if (this.free && now - this.free.at <= FREE_SPACE_FRESH_MS) return this.free.bytes;
    const bytes = (async () => {
      try {
        await this.ensureDir();
        const s = await statfs(this.dir);
        return s.bavail * s.bsize;
      } catch {
        return Number.POSITIVE_INFINITY;
      }
    })();
    this.free = { at: now, bytes };
    return bytes;
  }

  /** Forgets the free-space measure (bytes were committed or removed). */
  spaceChanged(): void {
    this.free = null;
  }

  async ensureDir(): Promise<void> {
    if (this.made) return;
    await mkdir(this.dir, { recursive: true });
    this.made = true;
  }
}

/** How old a free-space measure may be when a download checks it. */
export const FREE_SPACE_FRESH_MS = 2_000;

/** This thread's directory indexes, by directory: every open DownloadCache of one directory shares one. */
const indexes = new Map<string, DirectoryIndex>();

function openIndex(dir: string): DirectoryIndex {
  let idx = indexes.get(dir);
  if (!idx) {
    idx = new DirectoryIndex(dir);
    indexes.set(dir, idx);
  }
  idx.users++;
  return idx;
}

/** Directories this thread holds an index of (tests: closed caches let theirs go). */
export function openCacheIndexes(): number {
  return indexes.size;
}

export class DownloadCache implements ResourceCache {
  private readonly index: DirectoryIndex;
  /** Starts reading the directory's listing (DirectoryIndex), so that the first lookup finds it read. */
  constructor(
    readonly dir: string,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.index = openIndex(resolve(dir));
    this.index.refresh();
    // The free-space measure too: by the song's pick it is in.
    this.index.freeBytes(this.now()).catch(() => {});
  }

  private base(k: CacheKey): string {
    return join(this.dir, `${k.vendorID}_${k.resourceType}_${k.quality}_${safeName(k.songID)}`);
  }

  filePath(k: CacheKey): string {
    return `${this.base(k)}.wav`;
  }

  private metaPath(k: CacheKey): string {
    return `${this.base(k)}.json`;
  }

  /** A fresh partial-file path in the cache directory (same filesystem, so the final rename is atomic). */
  async tempPath(k: CacheKey): Promise<string> {
    await this.index.ensureDir();
    return `${this.base(k)}.${randomBytes(6).toString("hex")}${PART}`;
  }

  async begin(k: CacheKey): Promise<PartialResource> {
    const part = new DiskPartial(await this.tempPath(k));
    try {
      await part.create(); // the file exists from here on
    } catch (err) {
      // The directory was removed since it was made (mkdir is no longer asked before every download).
      if ((err as { code?: unknown }).code !== "ENOENT") throw err;
      this.index.made = false;
      await this.index.ensureDir();
      await part.create();
    }
    return part;
  }

  locate(k: CacheKey): { path: string } | null {
    const path = this.filePath(k);
    return existsSync(path) ? { path } : null;
  }

  private closed = false;

  /** Lets go of the directory's index (the last cache open on the directory drops it); files stay. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (--this.index.users === 0 && indexes.get(this.index.dir) === this.index)
      indexes.delete(this.index.dir);
  }

  /** The cached file's metadata when the file is complete (its size matches), else null. */
  async lookup(k: CacheKey): Promise<CacheMeta | null> {
    const path = this.metaPath(k);
    const name = basename(path);
    // A miss from memory; a listed name is read and checked on disk, never trusted from the listing.
    if (!(await this.index.mayHave(name))) return null;
    try {
      const meta = JSON.parse(await readFile(path, "utf8")) as CacheMeta;
      const st = await stat(this.filePath(k));
      if (typeof meta.etag !== "string" || st.size !== meta.size) return null;
      return meta;
    } catch {
      this.index.delete(name);
      return null;
    }
  }

  /** Moves a verified download into place, then records its metadata (also via rename). */
  async commit(
    k: CacheKey,
    part: PartialResource | string,
    meta: { etag: string; size: number },
  ): Promise<CacheMeta> {
    const full: CacheMeta = { ...k, ...meta, savedAt: Date.now() };
    await rename(typeof part === "string" ? part : part.name, this.filePath(k));
    const tmpMeta = `${this.metaPath(k)}.${randomBytes(6).toString("hex")}.tmp`;
    await writeFile(tmpMeta, JSON.stringify(full));
    await rename(tmpMeta, this.metaPath(k));
    this.index.add(basename(this.metaPath(k)));
    this.index.spaceChanged();
    return full;
  }

  /** Bytes of this cache's files (finished and partial). */
  async size(): Promise<number> {
    let total = 0;
    for (const name of await this.names()) {
      try {
        const st = await stat(join(this.dir, name));
        if (st.isFile()) total += st.size;
      } catch {
        // removed meanwhile
      }
    }
    return total;
  }

  /** Removes this cache's files except the partial files of downloads still running (`keep`). */
  async clear(keep: ReadonlySet<string> = new Set()): Promise<void> {
    for (const name of await this.names()) {
      const path = join(this.dir, name);
      if (keep.has(path)) continue;
      await rm(path, { force: true });
      this.index.delete(name);
    }
    this.index.spaceChanged();
  }

  /** Free bytes on the cache's filesystem, or Infinity when it cannot be told. */
  freeBytes(): Promise<number> {
    return this.index.freeBytes(this.now());
  }

  private async names(): Promise<string[]> {
    try {
      return (await readdir(this.dir)).filter((n) => OURS.test(n));
    } catch {
      return [];
    }
  }
}

/** Preallocated at most this much up front, whatever size the vendor announced; beyond, the buffer grows. */
const MAX_PREALLOCATION = 64 * 1024 * 1024;

/** An allocation that fails is the memory cache's "disk full": the download ends with 1017011. */
function allocate(bytes: number): Uint8Array {
  try {
    return new Uint8Array(bytes);
  } catch {
    throw Object.assign(new Error(`memory cache: cannot hold ${bytes} bytes`), { code: "ENOSPC" });
  }
}

/**
 * A download held in memory. With candidates (the pool's contents of the announced size) it first holds no
 * bytes of its own: each write is compared with the candidates at its offset, and only when no candidate
 * matches any more (or a write leaves a gap) is its own buffer made, from the prefix that still matched. Each
 * VU still receives and verifies every byte, and equality is proven byte for byte, never assumed; but a song
 * the worker already holds is not copied once more per VU while it downloads. Those copies (a whole file per
 * downloading VU, freed at the commit) were most of a load worker's RSS: 0.9 MB per VU at 100-300 VUs, kept by
 * the allocator after they were freed (bench/harness/vu-memory.ts).
 */
class MemoryPartial implements PartialResource {
  /** Its own bytes, once they differ from every candidate (or there were none). */
  private own: Uint8Array | null = null;
  /** Candidates equal to everything written so far. */
  private matching: readonly Uint8Array[];
  length = 0;
  discarded = false;
  constructor(
    readonly name: string,
    private readonly sizeHint: number,
    private readonly candidates: readonly Uint8Array[],
    private readonly onEnd: (p: MemoryPartial) => void,
  ) {
    this.matching = candidates;
    if (candidates.length === 0) this.own = allocate(Math.min(sizeHint, MAX_PREALLOCATION));
  }

  /** The bytes [0, length): its own, or a candidate's equal ones. */
  get buf(): Uint8Array {
    return this.own ?? this.matching[0] ?? new Uint8Array(0);
  }

  /** Bytes of its own it holds (0 while it still matches a candidate). */
  get ownBytes(): number {
    return this.own?.length ?? 0;
  }

  async write(data: Uint8Array, offset: number): Promise<void> {
    const end = offset + data.byteLength;
    if (this.own === null) {
      if (offset <= this.length) {
        const d = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
        const same = (c: Uint8Array) => end <= c.length && d.equals(c.subarray(offset, end));
        // Nearly always one candidate, still equal: no new list.
        const still = this.matching.every(same) ? this.matching : this.matching.filter(same);
        if (still.length > 0) {
          this.matching = still;
          this.length = Math.max(this.length, end);
          return;
        }
      }
      this.diverge();
    }
    let own = this.own!;
    if (end > own.length) {
      const grown = allocate(Math.max(end, own.length * 2));
      grown.set(own.subarray(0, this.length));
      own = grown;
      this.own = grown;
    }
    own.set(data, offset);
    this.length = Math.max(this.length, end);
  }

  /** From here on, bytes of its own: what matched so far, copied from a candidate. */
  private diverge(): void {
    const own = allocate(Math.min(Math.max(this.sizeHint, this.length), MAX_PREALLOCATION));
    const from = this.matching[0];
    if (from && this.length > 0) own.set(from.subarray(0, this.length));
    this.own = own;
    this.matching = [];
  }

  async truncate(): Promise<void> {
    this.length = 0;
    // Empty again: every candidate matches the nothing written so far.
    if (this.candidates.length > 0) {
      this.own = null;
      this.matching = this.candidates;
    }
  }
  async finish(): Promise<number> {
    return this.length;
  }
  async discard(): Promise<void> {
    this.discarded = true;
    this.own = new Uint8Array(0);
    this.matching = [];
    this.length = 0;
    this.onEnd(this);
  }
}

interface MemoryEntry {
  meta: CacheMeta;
  bytes: Uint8Array;
  ref: ContentRef | null;
}

/**
 * The download cache in memory: nothing touches the filesystem (load runs, where per-VU temp-file I/O showed
 * in the profiles). Same keys and semantics as DownloadCache; a committed file's bytes are immutable. With a
 * ContentPool (one per worker thread), equal files downloaded by many VUs are held once: each VU still
 * downloads and verifies its own bytes, which are then swapped for the pool's copy when they are equal.
 */
export class MemoryCache implements ResourceCache {
  private readonly files = new Map<string, MemoryEntry>();
  private readonly partials = new Set<MemoryPartial>();
  private seq = 0;

  constructor(private readonly pool?: ContentPool) {}

  private name(k: CacheKey): string {
    return `${k.vendorID}_${k.resourceType}_${k.quality}_${safeName(k.songID)}`;
  }

  filePath(k: CacheKey): string {
    return `memory:${this.name(k)}.wav`;
  }

  async lookup(k: CacheKey): Promise<CacheMeta | null> {
    return this.files.get(this.name(k))?.meta ?? null;
  }

  async freeBytes(): Promise<number> {
    return Number.POSITIVE_INFINITY;
  }

  async begin(k: CacheKey, sizeHint = 0): Promise<PartialResource> {
    const known = Number.isSafeInteger(sizeHint) && sizeHint > 0;
    const hint = known ? sizeHint : 64 * 1024;
    // Only with the size announced: the pool's contents of exactly that size are what it may turn out to be.
    const candidates = known && this.pool ? this.pool.withLength(sizeHint) : [];
    const p = new MemoryPartial(`memory:${this.name(k)}.${++this.seq}.part`, hint, candidates, (x) =>
      this.partials.delete(x),
    );
    this.partials.add(p);
    return p;
  }

  async commit(k: CacheKey, part: PartialResource, meta: { etag: string; size: number }): Promise<CacheMeta> {
    if (!(part instanceof MemoryPartial) || part.discarded)
      throw new Error("memory cache: not a live partial");
    this.partials.delete(part);
    let bytes = part.length === part.buf.length ? part.buf : part.buf.slice(0, part.length);
    let ref: ContentRef | null = null;
    if (this.pool) {
      ref = this.pool.intern(bytes);
      bytes = ref.bytes;
    }
    const full: CacheMeta = { ...k, ...meta, savedAt: Date.now() };
    this.drop(this.name(k));
    this.files.set(this.name(k), { meta: full, bytes, ref });
    return full;
  }

  async size(): Promise<number> {
    let total = 0;
    for (const f of this.files.values()) total += f.bytes.length;
    for (const p of this.partials) total += p.length;
    return total;
  }

  async clear(keep: ReadonlySet<string> = new Set()): Promise<void> {
    for (const name of [...this.files.keys()]) this.drop(name);
    for (const p of [...this.partials]) if (!keep.has(p.name)) this.partials.delete(p);
  }

  locate(k: CacheKey): { path: string; bytes: Uint8Array } | null {
    const f = this.files.get(this.name(k));
    return f ? { path: this.filePath(k), bytes: f.bytes } : null;
  }

  close(): void {
    for (const name of [...this.files.keys()]) this.drop(name);
    this.partials.clear();
  }

  private drop(name: string): void {
    const f = this.files.get(name);
    if (!f) return;
    this.files.delete(name);
    if (f.ref && this.pool) this.pool.release(f.ref);
  }
}
