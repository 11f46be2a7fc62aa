import { createHash, randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, statfs, writeFile } from "node:fs/promises";
import { join } from "node:path";

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

export class DownloadCache {
  constructor(readonly dir: string) {}

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
    await mkdir(this.dir, { recursive: true });
    return `${this.base(k)}.${randomBytes(6).toString("hex")}${PART}`;
  }

  /** The cached file's metadata when the file is complete (its size matches), else null. */
  async lookup(k: CacheKey): Promise<CacheMeta | null> {
    try {
      const meta = JSON.parse(await readFile(this.metaPath(k), "utf8")) as CacheMeta;
      const st = await stat(this.filePath(k));
      if (typeof meta.etag !== "string" || st.size !== meta.size) return null;
      return meta;
    } catch {
      return null;
    }
  }

  /** Moves a verified download into place, then records its metadata (also via rename). */
  async commit(k: CacheKey, tempPath: string, meta: { etag: string; size: number }): Promise<CacheMeta> {
    const full: CacheMeta = { ...k, ...meta, savedAt: Date.now() };
    await rename(tempPath, this.filePath(k));
    const tmpMeta = `${this.metaPath(k)}.${randomBytes(6).toString("hex")}.tmp`;
    await writeFile(tmpMeta, JSON.stringify(full));
    await rename(tmpMeta, this.metaPath(k));
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
      if (!keep.has(path)) await rm(path, { force: true });
    }
  }

  /** Free bytes on the cache's filesystem, or Infinity when it cannot be told. */
  async freeBytes(): Promise<number> {
    try {
      await mkdir(this.dir, { recursive: true });
      const s = await statfs(this.dir);
      return s.bavail * s.bsize;
    } catch {
      return Number.POSITIVE_INFINITY;
    }
  }

  private async names(): Promise<string[]> {
    try {
      return (await readdir(this.dir)).filter((n) => OURS.test(n));
    } catch {
      return [];
    }
  }
}
