import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SharedAudioStore } from "../audio/shared-audio.ts";
import { parseWavBytes } from "../audio/wav-bytes.ts";
import { codeOf } from "../errors.ts";
import { TypedEmitter } from "../events.ts";
import { WavFileReader } from "../mixer/wav-reader.ts";
import type { PlayableLookup, PlayableResources } from "../player/resources.ts";
import { type CacheKey, DownloadCache, type ResourceCache } from "./cache.ts";
import { runDownload } from "./download.ts";
import { parseResourceData } from "./resource-data.ts";
import { type ResourceInfo, ResourceRegistry } from "./resources.ts";
import { type RetryPolicy, retryPolicy } from "./retry.ts";
import { type Delivery, type TransportOptions, type VendorAnswer, VendorTransport } from "./transport.ts";
import type {
  LyricResult,
  RequestResourceResult,
  ResultBase,
  SendExtendedRequestResult,
  StandardPitchResult,
  ZegoCopyrightedMusicConfig,
  ZegoCopyrightedMusicGetSharedConfigV2,
  ZegoCopyrightedMusicQueryCacheConfigV2,
  ZegoCopyrightedMusicRequestConfigV2,
} from "./types.ts";

// The copyrighted-music module with the SDK's shape (spec §1–§4), over the simulator's wire API. Results carry
// the SDK's error codes; local checks (empty ids, not initialised, ids this session never obtained) answer
// without a network round trip, as the SDK does. Resource ids are held in memory for the session only.

export interface ZegoCopyrightedMusicOptions extends TransportOptions {
  /** Download cache directory (default: <os tmp>/ktv-reference-cache). */
  cacheDir?: string;
  /** The download cache itself, instead of a directory: e.g. a MemoryCache (nothing on the filesystem). */
  cache?: ResourceCache;
  /**
   * Not in the SDK: the worker thread's shared audio. Players of this module's resources read the decoded,
   * resampled song from it (one copy per thread for equal bytes) instead of a reader and resampler each.
   */
  sharedAudio?: SharedAudioStore;
  /** Download resume policy (default 6 attempts, 200 ms base, 5 s cap). */
  downloadRetry?: Partial<RetryPolicy>;
  /** An attempt without headers or bytes for this long counts as cut (default 15 s). */
  downloadIdleTimeoutMs?: number;
  /** The clock resource TTLs are measured on (default Date.now); injectable for tests. */
  now?: () => number;
}

export interface CopyrightedMusicEvents {
  /** progressRate in 0..1, monotone; 1 once the file is verified and in the cache. */
  onDownloadProgressUpdate: (resourceID: string, progressRate: number) => void;
}

interface ActiveDownload {
  controller: AbortController;
  done: Promise<ResultBase>;
  tempPath: string | null;
}

const NOT_INITIALISED = 1017096;

export class ZegoCopyrightedMusic extends TypedEmitter<CopyrightedMusicEvents> implements PlayableResources {
  readonly transport: VendorTransport;
  readonly cache: ResourceCache;
  private readonly sharedAudio: SharedAudioStore | undefined;
  private readonly now: () => number;
  private readonly downloadRetry: RetryPolicy;
  private readonly idleTimeoutMs: number;
  private session: { id: string; userID: string } | null = null;
  private readonly registry = new ResourceRegistry();
  private readonly active = new Map<string, ActiveDownload>();
  /** Resource ids whose download finished in this session: the player may load these. */
  private readonly downloaded = new Set<string>();

  constructor(o: ZegoCopyrightedMusicOptions) {
    super();
    this.transport = new VendorTransport(o);
    this.cache = o.cache ?? new DownloadCache(o.cacheDir ?? join(tmpdir(), "ktv-reference-cache"));
    this.sharedAudio = o.sharedAudio;
    this.now = o.now ?? Date.now;
    this.downloadRetry = retryPolicy({
      maxAttempts: 6,
      baseDelayMs: 200,
      maxDelayMs: 5_000,
      ...o.downloadRetry,
    });
    this.idleTimeoutMs = o.downloadIdleTimeoutMs ?? 15_000;
  }

  /**
   * The vendor session (X-Session) of this SDK lifetime, or null: for the engine's HTTP room login and for
   * tools that talk to the simulator beside the SDK. A bearer credential: never log or share it.
   */
  get sessionID(): string | null {
    return this.session?.id ?? null;
  }

  /** The user the module was initialised for, or null. */
  get userID(): string | null {
    return this.session?.userID ?? null;
  }

  /** Opens a session for `config.user` (the room login user). 1017009 without an app sign or token. */
  async initCopyrightedMusic(config: ZegoCopyrightedMusicConfig): Promise<ResultBase> {
    if (!this.transport.hasCredentials) return { errorCode: 1017009 };
    await this.endSession();
    const { userID, userName } = config.user;
    const a = await this.send<{ session?: unknown }>("POST", "/v1/music/init", "idempotent", {
      body: { user_id: userID, user_name: userName ?? userID },
      withSession: false,
    });
    if (a.errorCode !== 0) return { errorCode: a.errorCode };
    const session = a.answer?.envelope.data?.session;
    if (typeof session !== "string" || session === "") return { errorCode: 1017010 };
    this.session = { id: session, userID };
    return { errorCode: 0 };
  }

  /** Cancels downloads and forgets the session and every resource id (they belong to it). */
  async destroy(): Promise<void> {
    await this.endSession();
    this.cache.close();
  }

  async sendExtendedRequest(command: string, params: string): Promise<SendExtendedRequestResult> {
    if (!command) return { errorCode: 1017000, command, result: "" };
    if (!params) return { errorCode: 1017001, command, result: "" };
    const a = await this.send("POST", "/v1/music/extended", "idempotent", { body: { command, params } });
    return { errorCode: a.errorCode, command, result: a.answer?.text ?? "" };
  }

  /**
   * Billed once per call: never retried unless the first attempt provably did not reach the vendor or the
   * vendor answered an error (see transport.ts). A lost answer gives 1017098; the app decides what to do.
   */
  async requestResource(config: ZegoCopyrightedMusicRequestConfigV2): Promise<RequestResourceResult> {
    if (!config.songID) return { errorCode: 1017002, resource: "" };
    const body = {
      song_id: config.songID,
      resource_type: config.resourceType,
      billing_mode: config.mode,
      vendor_id: config.vendorID,
      ...(config.sceneID !== undefined ? { scene_id: config.sceneID } : {}),
      ...(config.roomID !== undefined ? { room_id: config.roomID } : {}),
      ...(config.masterID !== undefined ? { master_id: config.masterID } : {}),
      ...(config.resourceQualityType !== undefined ? { quality: config.resourceQualityType } : {}),
    };
    return this.resourceCall("/v1/music/resource", body, config.resourceType, config.vendorID, false);
  }

  /** Free, once per user and resource: a lost answer is not retried either (the retry would get 1017051). */
  async getSharedResource(config: ZegoCopyrightedMusicGetSharedConfigV2): Promise<RequestResourceResult> {
    if (!config.songID) return { errorCode: 1017002, resource: "" };
    const vendorID = config.vendorID ?? 0;
    const body = {
      song_id: config.songID,
      resource_type: config.resourceType,
      vendor_id: vendorID,
      room_id: config.roomID,
    };
    return this.resourceCall("/v1/music/shared-resource", body, config.resourceType, vendorID, true);
  }

  /**
   * Downloads the resource's file into the cache, emitting onDownloadProgressUpdate; see download.ts.
   * `onData` (not in the SDK) sees each piece as it is written, for playing while downloading.
   */
  async download(
    resourceID: string,
    opts: { onData?: (data: Uint8Array, offset: number) => void } = {},
  ): Promise<ResultBase> {
    if (!resourceID) return { errorCode: 1017004 };
    const session = this.session;
    if (!session) return { errorCode: NOT_INITIALISED };
    const info = this.registry.get(resourceID);
    if (!info) return { errorCode: 1017018 };
    if (this.active.has(resourceID)) return { errorCode: 1017012 };
    if (this.registry.isExpired(info, this.now())) return { errorCode: 1017019 };
    const controller = new AbortController();
    const entry: ActiveDownload = { controller, done: Promise.resolve({ errorCode: 0 }), tempPath: null };
    entry.done = runDownload({
      transport: this.transport,
      session: session.id,
      resourceID,
      expectedSize: info.size,
      cache: this.cache,
      key: keyOf(info),
      signal: controller.signal,
      onProgress: (rate) => this.emit("onDownloadProgressUpdate", resourceID, rate),
      retry: this.downloadRetry,
      idleTimeoutMs: this.idleTimeoutMs,
      ...(opts.onData ? { onData: opts.onData } : {}),
      onTempFile: (path) => {
        entry.tempPath = path;
      },
    })
      .then((outcome) => {
        if (outcome.errorCode === 0) this.downloaded.add(resourceID);
        if (outcome.errorCode === 1017019) this.registry.markExpired(resourceID);
        return { errorCode: outcome.errorCode };
      })
      .catch((err: unknown) => {
        this.transport.logger.warn({ resource_id: resourceID, err: String(err) }, "download crashed");
        return { errorCode: codeOf(err, 1017099) };
      })
      .finally(() => this.active.delete(resourceID));
    this.active.set(resourceID, entry);
    return entry.done;
  }

  /** Cancels an unfinished download (its download() resolves 1017016); an empty id cancels all. */
  cancelDownload(resourceID = ""): void {
    for (const [id, d] of this.active) {
      if (resourceID === "" || id === resourceID) d.controller.abort(new Error("cancelDownload"));
    }
  }

  /** Whether the (song, type, quality, vendor) file is complete in the cache. */
  async queryCache(config: ZegoCopyrightedMusicQueryCacheConfigV2): Promise<boolean> {
    if (!config.songID) return false;
    return (
      (await this.cache.lookup({
        vendorID: config.vendorID,
        songID: config.songID,
        resourceType: config.resourceType,
        quality: config.resourceQualityType,
      })) !== null
    );
  }

  /** Bytes the cache occupies. */
  async getCacheSize(): Promise<number> {
    return this.cache.size();
  }

  /** Deletes cached files (downloads in flight keep their partial files). */
  async clearCache(): Promise<void> {
    const keep = new Set<string>();
    for (const d of this.active.values()) if (d.tempPath) keep.add(d.tempPath);
    await this.cache.clear(keep);
  }

  /** The downloaded file's play length in ms; 0 when the resource is unknown or not downloaded. */
  async getDuration(resourceID: string): Promise<number> {
    const info = this.registry.get(resourceID);
    if (!info || !this.downloaded.has(resourceID)) return 0;
    try {
      const file = this.cache.locate(keyOf(info));
      if (!file) return 0;
      if (file.bytes) {
        const layout = parseWavBytes(file.bytes);
        return Math.round((layout.frames * 1000) / layout.sampleRate);
      }
      const wav = new WavFileReader(file.path, 1);
      wav.close();
      return Math.round((wav.frames * 1000) / wav.sampleRate);
    } catch {
      return 0;
    }
  }

  async getLrcLyric(songID: string, vendorID = 0): Promise<LyricResult> {
    if (!songID) return { errorCode: 1017002, lyrics: "" };
    const a = await this.send("GET", "/v1/music/lyrics/lrc", "idempotent", {
      query: { song_id: songID, vendor_id: String(vendorID) },
    });
    return {
      errorCode: a.errorCode,
      lyrics: a.errorCode === 0 ? JSON.stringify(a.answer?.envelope.data) : "",
    };
  }

  async getKrcLyricByToken(krcToken: string): Promise<LyricResult> {
    if (!krcToken) return { errorCode: 1017008, lyrics: "" };
    const a = await this.send("GET", "/v1/music/lyrics/krc", "idempotent", {
      query: { krc_token: krcToken },
    });
    return {
      errorCode: a.errorCode,
      lyrics: a.errorCode === 0 ? JSON.stringify(a.answer?.envelope.data) : "",
    };
  }

  async getStandardPitch(resourceID: string): Promise<StandardPitchResult> {
    if (!resourceID) return { errorCode: 1017004, pitch: "" };
    if (this.session && !this.registry.get(resourceID)) return { errorCode: 1017018, pitch: "" };
    const a = await this.send("GET", "/v1/music/pitch", "idempotent", { query: { resource_id: resourceID } });
    return {
      errorCode: a.errorCode,
      pitch: a.errorCode === 0 ? JSON.stringify(a.answer?.envelope.data) : "",
    };
  }

  /** What this session knows about a resource id (type, quality, size, TTL, krc token), if anything. */
  resourceInfo(resourceID: string): Readonly<ResourceInfo> | undefined {
    return this.registry.get(resourceID);
  }

  resolvePlayable(resourceID: string): PlayableLookup {
    if (!resourceID) return { errorCode: 1017004 };
    if (!this.session) return { errorCode: NOT_INITIALISED };
    const info = this.registry.get(resourceID);
    if (!info) return { errorCode: 1017018 };
    if (this.registry.isExpired(info, this.now())) return { errorCode: 1008011 };
    const file = this.downloaded.has(resourceID) ? this.cache.locate(keyOf(info)) : null;
    if (!file) return { errorCode: 1017013 };
    return {
      errorCode: 0,
      path: file.path,
      quality: info.qualityName,
      ...(file.bytes ? { bytes: file.bytes } : {}),
      ...(this.sharedAudio ? { audio: this.sharedAudio } : {}),
    };
  }

  private async resourceCall(
    path: string,
    body: object,
    resourceType: number,
    vendorID: number,
    shared: boolean,
  ): Promise<RequestResourceResult> {
    const a = await this.send("POST", path, "once", { body });
    if (a.errorCode !== 0 || !a.answer) return { errorCode: a.errorCode, resource: a.answer?.text ?? "" };
    const data = parseResourceData(a.answer.envelope.data);
    if (!data) return { errorCode: 1017010, resource: a.answer.text };
    this.registry.addAll(data, { resourceType, vendorID, shared, now: this.now() });
    return { errorCode: 0, resource: a.answer.text, data };
  }

  /** One vendor call mapped to the SDK's error code: the envelope's code, or the transport's failure. */
  private async send<T = unknown>(
    method: "GET" | "POST",
    path: string,
    delivery: Delivery,
    o: { body?: unknown; query?: Record<string, string>; withSession?: boolean } = {},
  ): Promise<{ errorCode: number; answer?: VendorAnswer<T> }> {
    const withSession = o.withSession ?? true;
    if (withSession && !this.session) return { errorCode: NOT_INITIALISED };
    try {
      const answer = await this.transport.call<T>({
        method,
        path,
        delivery,
        ...(o.body !== undefined ? { body: o.body } : {}),
        ...(o.query ? { query: o.query } : {}),
        ...(withSession && this.session ? { session: this.session.id } : {}),
      });
      return { errorCode: answer.envelope.code, answer };
    } catch (err) {
      return { errorCode: codeOf(err, 1017098) };
    }
  }

  private async endSession(): Promise<void> {
    this.cancelDownload();
    await Promise.all([...this.active.values()].map((d) => d.done));
    this.session = null;
    this.registry.clear();
    this.downloaded.clear();
  }
}

function keyOf(info: ResourceInfo): CacheKey {
  return {
    vendorID: info.vendorID,
    songID: info.songID,
    resourceType: info.resourceType,
    quality: info.quality,
  };
}
