import { readFileSync } from "node:fs";
import { HttpResponse, http } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { VENDOR_ROUTES } from "../../protocol/vendor-routes.ts";
import { ContentPool } from "../audio/content-pool.ts";
import { SharedAudioStore } from "../audio/shared-audio.ts";
import { MemoryCache } from "./cache.ts";
import { ZegoCopyrightedMusic } from "./copyrighted-music.ts";
import {
  APP_SIGN,
  BASE,
  cutStream,
  envelope,
  instantRetry,
  monotone,
  slowStream,
  tempDir,
  wavBytes,
} from "./test-fixtures.ts";
import {
  ATTEMPT_ERROR,
  ATTEMPT_NO_ANSWER,
  ATTEMPT_OK,
  type AttemptOutcome,
  observeVendorAttempts,
} from "./transport.ts";

// download(): cuts, resumes, changed files, expiry, revocation, cancellation, verification: edge cases a live
// CDN produces only by bad luck, stood in for by msw.

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

interface File {
  bytes: Uint8Array;
  etag: string;
}

const FILE_A: File = { bytes: wavBytes(40_000, 8000, 1, (i) => (i * 7) % 2000), etag: '"a"' };
const FILE_B: File = { bytes: wavBytes(40_000, 8000, 1, (i) => (i * 13) % 3000), etag: '"b"' };

/** A well-behaved CDN answer: If-None-Match, single ranges with If-Range, 416. */
function serve(req: Request, f: File): Response {
  const len = f.bytes.length;
  if (req.headers.get("if-none-match") === f.etag) {
    return new HttpResponse(null, { status: 304, headers: { etag: f.etag } });
  }
  const range = /^bytes=(\d+)-$/.exec(req.headers.get("range") ?? "");
  const ifRange = req.headers.get("if-range");
  if (range && (ifRange === null || ifRange === f.etag)) {
    const start = Number(range[1]);
    if (start >= len)
      return new HttpResponse(null, { status: 416, headers: { "content-range": `bytes */${len}` } });
    return new HttpResponse(f.bytes.slice(start), {
      status: 206,
      headers: {
        etag: f.etag,
        "content-length": String(len - start),
        "content-range": `bytes ${start}-${len - 1}/${len}`,
      },
    });
  }
  return new HttpResponse(f.bytes, { status: 200, headers: { etag: f.etag, "content-length": String(len) } });
}

let cache: ReturnType<typeof tempDir>;
beforeEach(() => {
  cache = tempDir();
  return () => cache.remove();
});

/** The vendor's init and resource routes; each requestResource issues a new id for the same file. */
function vendor(o: { size?: number; ttl?: number } = {}) {
  let seq = 0;
  server.use(
    http.post(`${BASE}/v1/music/init`, () =>
      HttpResponse.json(envelope(0, { session: "s-1", user_id: "u1" })),
    ),
    http.post(`${BASE}/v1/music/resource`, async ({ request }) => {
      const b = (await request.json()) as { song_id: string };
      seq++;
      return HttpResponse.json(
        envelope(0, {
          is_accompany: 1,
          song_id: b.song_id,
          duration: 5000,
          resources_size: 1,
          resources: [
            {
              resource_id: `z_${b.song_id}_1_${seq}`,
              size: o.size ?? FILE_A.bytes.length,
              quality: "normal",
              resource_ttl: o.ttl ?? 3_600_000,
            },
          ],
        }),
      );
    }),
  );
}

/** Download answers from `answers` in order (the last repeats); records the requests. */
function cdn(answers: ((req: Request) => Response | Promise<Response>)[]) {
  const seen: Request[] = [];
  server.use(
    http.get(`${BASE}/v1/music/download/:id`, ({ request }) => {
      seen.push(request.clone());
      return answers[Math.min(seen.length - 1, answers.length - 1)]!(request);
    }),
  );
  return seen;
}

async function client(
  o: { maxAttempts?: number; idleMs?: number; memory?: MemoryCache; audio?: SharedAudioStore } = {},
) {
  const r = instantRetry({ maxAttempts: o.maxAttempts ?? 6 });
  const cm = new ZegoCopyrightedMusic({
    baseUrl: BASE,
    appId: 1000000001,
    appSign: APP_SIGN,
    cacheDir: cache.dir,
    ...(o.memory ? { cache: o.memory } : {}),
    ...(o.audio ? { sharedAudio: o.audio } : {}),
    retry: instantRetry().policy,
    downloadRetry: r.policy,
    downloadIdleTimeoutMs: o.idleMs ?? 5_000,
  });
  expect((await cm.initCopyrightedMusic({ user: { userID: "u1" } })).errorCode).toBe(0);
  const progress: number[] = [];
  cm.on("onDownloadProgressUpdate", (_id, rate) => progress.push(rate));
  const request = async (songID = "100") => {
    const res = await cm.requestResource({ songID, mode: 0, vendorID: 0, resourceType: 1 });
    expect(res.errorCode).toBe(0);
    return res.data!.resources[0]!.resource_id;
  };
  return { cm, progress, delays: r.delays, request };
}

const KEY = { songID: "100", resourceType: 1, resourceQualityType: 0, vendorID: 0 };
const cachedBytes = (cm: ZegoCopyrightedMusic) =>
  readFileSync(cm.cache.filePath({ vendorID: 0, songID: "100", resourceType: 1, quality: 0 }));

describe("resume after a cut", () => {
  it("continues with Range + If-Range from the bytes on disk; the file is byte-exact", async () => {
    vendor();
    const seen = cdn([
      () =>
        new HttpResponse(cutStream(FILE_A.bytes, 30_000), {
          headers: { etag: FILE_A.etag, "content-length": String(FILE_A.bytes.length) },
        }),
      (req) => serve(req, FILE_A),
    ]);
    const { cm, progress, request } = await client();
    const id = await request();
    expect(await cm.download(id)).toEqual({ errorCode: 0 });
    expect(seen).toHaveLength(2);
    const from = Number(/^bytes=(\d+)-$/.exec(seen[1]!.headers.get("range") ?? "")?.[1]);
    expect(from).toBeGreaterThan(0);
    expect(from).toBeLessThanOrEqual(30_000);
    expect(seen[1]!.headers.get("if-range")).toBe(FILE_A.etag);
    expect(Buffer.compare(cachedBytes(cm), Buffer.from(FILE_A.bytes))).toBe(0);
    expect(monotone(progress)).toBe(true);
    expect(progress.at(-1)).toBe(1);
    expect(progress.filter((p) => p === 1)).toHaveLength(1);
    expect(cache.files().filter((f) => f.endsWith(".part"))).toEqual([]);
    expect(await cm.queryCache(KEY)).toBe(true);
    expect(await cm.getDuration(id)).toBe(5000);
  });

  it("a changed ETag on resume (If-Range fails, 200) restarts from byte 0 with the new file", async () => {
    vendor();
    const seen = cdn([
      () =>
        new HttpResponse(cutStream(FILE_A.bytes, 40_000), {
          headers: { etag: FILE_A.etag, "content-length": String(FILE_A.bytes.length) },
        }),
      (req) => serve(req, FILE_B),
    ]);
    const { cm, progress, request } = await client();
    expect(await cm.download(await request())).toEqual({ errorCode: 0 });
    expect(seen).toHaveLength(2);
    expect(seen[1]!.headers.get("if-range")).toBe(FILE_A.etag);
    expect(Buffer.compare(cachedBytes(cm), Buffer.from(FILE_B.bytes))).toBe(0);
    expect(monotone(progress)).toBe(true);
    expect(progress.at(-1)).toBe(1);
  });

  it("a 206 that does not continue our bytes is not trusted: it starts over", async () => {
    vendor();
    const len = FILE_A.bytes.length;
    const seen = cdn([
      () =>
        new HttpResponse(cutStream(FILE_A.bytes, 20_000), {
          headers: { etag: FILE_A.etag, "content-length": String(len) },
        }),
      () =>
        new HttpResponse(FILE_A.bytes, {
          status: 206,
          headers: { etag: FILE_A.etag, "content-range": `bytes 0-${len - 1}/${len}` },
        }),
      (req) => serve(req, FILE_A),
    ]);
    const { cm, request } = await client();
    expect(await cm.download(await request())).toEqual({ errorCode: 0 });
    expect(seen).toHaveLength(3);
    expect(seen[2]!.headers.get("range")).toBeNull();
    expect(Buffer.compare(cachedBytes(cm), Buffer.from(FILE_A.bytes))).toBe(0);
  });

  it("a connection that goes silent counts as cut after the idle timeout", async () => {
    vendor();
    let hung = 0;
    const seen = cdn([
      () => {
        let sent = false;
        const body = new ReadableStream<Uint8Array>({
          pull(c) {
            if (sent) return new Promise<void>(() => {}); // never another byte
            sent = true;
            c.enqueue(FILE_A.bytes.slice(0, 8192));
            hung++;
          },
        });
        return new HttpResponse(body, {
          headers: { etag: FILE_A.etag, "content-length": String(FILE_A.bytes.length) },
        });
      },
      (req) => serve(req, FILE_A),
    ]);
    const { cm, request } = await client({ idleMs: 100 });
    const t0 = performance.now();
    expect(await cm.download(await request())).toEqual({ errorCode: 0 });
    expect(hung).toBe(1);
    expect(seen).toHaveLength(2);
    expect(seen[1]!.headers.get("range")).toBe("bytes=8192-");
    expect(performance.now() - t0).toBeLessThan(3_000);
  });

  it("429 with Retry-After: waits what the CDN asked, then downloads", async () => {
    vendor();
    cdn([
      () => HttpResponse.json(envelope(1017097), { status: 429, headers: { "retry-after": "1" } }),
      (req) => serve(req, FILE_A),
    ]);
    const { cm, delays, request } = await client();
    expect(await cm.download(await request())).toEqual({ errorCode: 0 });
    expect(delays).toEqual([1000]);
  });

  it("an outage's 200 + JSON envelope is the vendor's error, not the file: backed off, then downloads", async () => {
    vendor();
    const seen = cdn([() => HttpResponse.json(envelope(1017098)), (req) => serve(req, FILE_A)]);
    const { cm, delays, request } = await client();
    expect(await cm.download(await request())).toEqual({ errorCode: 0 });
    expect(seen).toHaveLength(2);
    expect(delays).toHaveLength(1);
    expect(cachedBytes(cm).equals(Buffer.from(FILE_A.bytes))).toBe(true);
  });

  it("is bounded: a CDN that never delivers gives up with 1017098 after maxAttempts", async () => {
    vendor();
    const seen = cdn([() => HttpResponse.error()]);
    const { cm, delays, request } = await client({ maxAttempts: 3 });
    expect(await cm.download(await request())).toEqual({ errorCode: 1017098 });
    expect(seen).toHaveLength(3);
    expect(delays).toHaveLength(2);
    expect(cache.files()).toEqual([]);
  });

  it("a body that keeps ending early without progress gives up, leaving nothing in the cache", async () => {
    vendor();
    const len = FILE_A.bytes.length;
    const seen = cdn([
      () =>
        new HttpResponse(FILE_A.bytes.slice(0, 1000), {
          headers: { etag: '"a"', "content-length": String(len) },
        }),
    ]);
    const { cm, request } = await client({ maxAttempts: 3 });
    expect((await cm.download(await request())).errorCode).toBe(1017098);
    expect(seen.length).toBe(3);
    expect(cache.files()).toEqual([]);
    expect(await cm.queryCache(KEY)).toBe(false);
  });
});

describe("vendor verdicts end the download", () => {
  it("revoked mid-download: the resume answers 403 1017030, nothing is cached", async () => {
    vendor();
    const seen = cdn([
      () =>
        new HttpResponse(cutStream(FILE_A.bytes, 24_000), {
          headers: { etag: FILE_A.etag, "content-length": String(FILE_A.bytes.length) },
        }),
      () => HttpResponse.json(envelope(1017030), { status: 403 }),
    ]);
    const { cm, progress, request } = await client();
    expect(await cm.download(await request())).toEqual({ errorCode: 1017030 });
    expect(seen).toHaveLength(2);
    expect(progress.every((p) => p < 1)).toBe(true);
    expect(cache.files()).toEqual([]);
    expect(await cm.queryCache(KEY)).toBe(false);
  });

  it("1017019 (410): the id is dead; requesting again gives an id that downloads", async () => {
    vendor();
    const seen = cdn([
      () => HttpResponse.json(envelope(1017019), { status: 410 }),
      (req) => serve(req, FILE_A),
    ]);
    const { cm, request } = await client();
    const first = await request();
    expect(await cm.download(first)).toEqual({ errorCode: 1017019 });
    // Known dead: answered locally, no second round trip; the player refuses it as expired.
    expect(await cm.download(first)).toEqual({ errorCode: 1017019 });
    expect(seen).toHaveLength(1);
    expect(cm.resolvePlayable(first)).toEqual({ errorCode: 1008011 });
    const second = await request();
    expect(second).not.toBe(first);
    expect(await cm.download(second)).toEqual({ errorCode: 0 });
    expect(cm.resolvePlayable(second)).toMatchObject({ errorCode: 0 });
  });

  it("a resource whose TTL ran out is 1017019 without asking the CDN", async () => {
    vendor({ ttl: 0 });
    const seen = cdn([(req) => serve(req, FILE_A)]);
    const { cm, request } = await client();
    expect(await cm.download(await request())).toEqual({ errorCode: 1017019 });
    expect(seen).toHaveLength(0);
  });

  it("404 is 1017018; a status without an envelope maps by status", async () => {
    vendor();
    cdn([
      () => HttpResponse.json(envelope(1017018), { status: 404 }),
      () => new HttpResponse("gone", { status: 403 }),
    ]);
    const { cm, request } = await client();
    expect(await cm.download(await request())).toEqual({ errorCode: 1017018 });
    expect(await cm.download(await request())).toEqual({ errorCode: 1017030 });
  });
});

describe("verification", () => {
  it("a file shorter than the size the vendor announced is 1017015 and never enters the cache", async () => {
    vendor({ size: FILE_A.bytes.length + 10 });
    cdn([(req) => serve(req, FILE_A)]);
    const { cm, request } = await client();
    expect(await cm.download(await request())).toEqual({ errorCode: 1017015 });
    expect(cache.files()).toEqual([]);
  });

  it("not enough free disk for the announced size is 1017011", async () => {
    vendor({ size: Number.MAX_SAFE_INTEGER });
    const seen = cdn([(req) => serve(req, FILE_A)]);
    const { cm, request } = await client();
    expect(await cm.download(await request())).toEqual({ errorCode: 1017011 });
    expect(seen).toHaveLength(0);
  });

  it("a cached file is revalidated with If-None-Match: 304 completes without transferring it", async () => {
    vendor();
    const seen = cdn([(req) => serve(req, FILE_A)]);
    const { cm, progress, request } = await client();
    expect(await cm.download(await request())).toEqual({ errorCode: 0 });
    progress.length = 0;
    const again = await request();
    expect(await cm.download(again)).toEqual({ errorCode: 0 });
    expect(seen).toHaveLength(2);
    expect(seen[1]!.headers.get("if-none-match")).toBe(FILE_A.etag);
    expect(progress).toEqual([1]);
    expect(cm.resolvePlayable(again)).toMatchObject({ errorCode: 0 });
  });
});

describe("concurrency and cancellation", () => {
  it("the same resource twice at once is 1017012; cancelDownload ends it with 1017016 and removes the part file", async () => {
    vendor();
    cdn([
      () =>
        new HttpResponse(slowStream(FILE_A.bytes, 5), {
          headers: { etag: FILE_A.etag, "content-length": String(FILE_A.bytes.length) },
        }),
    ]);
    const { cm, progress, request } = await client();
    const id = await request();
    const first = cm.download(id);
    expect(await cm.download(id)).toEqual({ errorCode: 1017012 });
    await waitFor(() => progress.length > 0);
    expect(cache.files().some((f) => f.endsWith(".part"))).toBe(true);
    cm.cancelDownload(id);
    expect(await first).toEqual({ errorCode: 1017016 });
    expect(cache.files()).toEqual([]);
    expect(cm.resolvePlayable(id)).toEqual({ errorCode: 1017013 });
  });

  it("cancelDownload() with no id cancels every download; clearCache leaves running downloads alone", async () => {
    vendor();
    cdn([
      () =>
        new HttpResponse(slowStream(FILE_A.bytes, 5), {
          headers: { etag: FILE_A.etag, "content-length": String(FILE_A.bytes.length) },
        }),
    ]);
    const { cm, progress, request } = await client();
    const a = cm.download(await request("100"));
    const b = cm.download(await request("200"));
    await waitFor(() => progress.length >= 2);
    await cm.clearCache();
    expect(cache.files().filter((f) => f.endsWith(".part"))).toHaveLength(2);
    cm.cancelDownload();
    expect(await Promise.all([a, b])).toEqual([{ errorCode: 1017016 }, { errorCode: 1017016 }]);
    expect(cache.files()).toEqual([]);
  });

  it("cancelling during a backoff wait is 1017016 too", async () => {
    vendor();
    cdn([() => HttpResponse.json(envelope(1017097), { status: 503 })]);
    const { cm, request } = await client();
    const id = await request();
    let release: () => void = () => {};
    // A real wait this time, so the cancel lands inside it.
    (cm as unknown as { downloadRetry: { sleep: unknown } }).downloadRetry.sleep = (
      _ms: number,
      s: AbortSignal,
    ) =>
      new Promise<void>((resolve, reject) => {
        release = resolve;
        s.addEventListener("abort", () => reject(s.reason), { once: true });
      });
    const p = cm.download(id);
    await waitFor(() => release.name !== "");
    cm.cancelDownload(id);
    expect(await p).toEqual({ errorCode: 1017016 });
  });
});

async function waitFor(cond: () => boolean, ms = 5_000): Promise<void> {
  const until = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > until) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("cache in memory", () => {
  it("round trip: downloaded, resumed after a cut, verified and played from memory; nothing on disk", async () => {
    vendor();
    const seen = cdn([
      () =>
        new HttpResponse(cutStream(FILE_A.bytes, 30_000), {
          headers: { etag: FILE_A.etag, "content-length": String(FILE_A.bytes.length) },
        }),
      (req) => serve(req, FILE_A),
    ]);
    const memory = new MemoryCache();
    const { cm, progress, request } = await client({ memory });
    const id = await request();
    expect(await cm.download(id)).toEqual({ errorCode: 0 });
    expect(seen).toHaveLength(2);
    expect(seen[1]!.headers.get("range")).toMatch(/^bytes=\d+-$/);
    expect(progress.at(-1)).toBe(1);
    expect(cache.files()).toEqual([]);
    const found = cm.resolvePlayable(id);
    expect(found).toMatchObject({ errorCode: 0, quality: "normal" });
    const bytes = (found as { bytes?: Uint8Array }).bytes!;
    expect(Buffer.compare(Buffer.from(bytes), Buffer.from(FILE_A.bytes))).toBe(0);
    expect(await cm.queryCache(KEY)).toBe(true);
    expect(await cm.getDuration(id)).toBe(5000);
    expect(await cm.getCacheSize()).toBe(FILE_A.bytes.length);
    // A second download revalidates with the ETag the memory copy was served with.
    expect(await cm.download(id)).toEqual({ errorCode: 0 });
    expect(seen[2]!.headers.get("if-none-match")).toBe(FILE_A.etag);
    await cm.clearCache();
    expect(await cm.queryCache(KEY)).toBe(false);
    expect(cm.resolvePlayable(id)).toEqual({ errorCode: 1017013 });
  });

  it("a corrupt length leaves nothing in memory", async () => {
    vendor({ size: FILE_A.bytes.length + 10 });
    cdn([(req) => serve(req, FILE_A)]);
    const memory = new MemoryCache();
    const { cm, request } = await client({ memory });
    expect(await cm.download(await request())).toEqual({ errorCode: 1017015 });
    expect(await cm.getCacheSize()).toBe(0);
  });

  it("VUs of one thread hold one copy of equal downloads; each still transfers its own bytes", async () => {
    vendor();
    const seen = cdn([(req) => serve(req, FILE_A)]);
    const pool = new ContentPool();
    const audio = new SharedAudioStore({ pool });
    const a = await client({ memory: new MemoryCache(pool), audio });
    const b = await client({ memory: new MemoryCache(pool), audio });
    const [ia, ib] = [await a.request(), await b.request()];
    expect(await a.cm.download(ia)).toEqual({ errorCode: 0 });
    expect(await b.cm.download(ib)).toEqual({ errorCode: 0 });
    expect(seen).toHaveLength(2);
    const fa = a.cm.resolvePlayable(ia) as { bytes: Uint8Array; audio: SharedAudioStore };
    const fb = b.cm.resolvePlayable(ib) as { bytes: Uint8Array; audio: SharedAudioStore };
    expect(fb.bytes).toBe(fa.bytes);
    expect(fa.audio).toBe(audio);
    expect(pool.stats).toEqual({ contents: 1, bytes: FILE_A.bytes.length });
    await a.cm.destroy();
    expect(pool.stats.contents).toBe(1);
    await b.cm.destroy();
    expect(pool.stats.contents).toBe(0);
  });
});

describe("the thread's vendor-attempt observer", () => {
  afterEach(() => observeVendorAttempts(null));

  it("hears each download attempt: a cut body is no answer, a 503 an error, the resume a success", async () => {
    vendor();
    cdn([
      () =>
        new HttpResponse(cutStream(FILE_A.bytes, 30_000), {
          headers: { etag: FILE_A.etag, "content-length": String(FILE_A.bytes.length) },
        }),
      () => HttpResponse.json(envelope(1017097), { status: 503 }),
      (req) => serve(req, FILE_A),
    ]);
    const { cm, request } = await client();
    const id = await request();
    const heard: [string, AttemptOutcome][] = [];
    observeVendorAttempts((route, outcome) => heard.push([VENDOR_ROUTES[route]!, outcome]));
    expect(await cm.download(id)).toEqual({ errorCode: 0 });
    expect(heard).toEqual([
      ["download", ATTEMPT_NO_ANSWER],
      ["download", ATTEMPT_ERROR],
      ["download", ATTEMPT_OK],
    ]);
  });
});

describe("bytes while downloading (onData) and writes in flight", () => {
  it("onData sees every byte once, in file order, across a cut and its resume", async () => {
    vendor();
    const seen = cdn([
      () =>
        new HttpResponse(cutStream(FILE_A.bytes, 30_000), {
          headers: { etag: FILE_A.etag, "content-length": String(FILE_A.bytes.length) },
        }),
      (req) => serve(req, FILE_A),
    ]);
    const { cm, request } = await client();
    const got = new Uint8Array(FILE_A.bytes.length);
    const pieces: [number, number][] = [];
    const r = await cm.download(await request(), {
      onData: (data, offset) => {
        pieces.push([offset, data.byteLength]);
        got.set(data, offset);
      },
    });
    expect(r).toEqual({ errorCode: 0 });
    expect(seen).toHaveLength(2);
    expect(seen[1]!.headers.get("range")).toMatch(/^bytes=\d+-$/);
    // Contiguous: each piece starts where the last ended, the resume's first one included.
    for (let i = 1; i < pieces.length; i++) {
      const [prev, len] = pieces[i - 1]!;
      expect(pieces[i]![0]).toBe(prev + len);
    }
    expect(pieces[0]![0]).toBe(0);
    expect(pieces.reduce((n, [, len]) => n + len, 0)).toBe(FILE_A.bytes.length);
    expect(Buffer.compare(Buffer.from(got), Buffer.from(FILE_A.bytes))).toBe(0);
  });

  it("the first piece reaches onData while the partial file is still being created; the file is byte-exact", async () => {
    vendor();
    cdn([(req) => serve(req, FILE_A)]);
    const memory = new MemoryCache();
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let created = false;
    // The memory cache, its partial file's creation held (a thread pool queued behind other downloads' writes).
    const slow = new Proxy(memory, {
      get(target, prop, receiver) {
        if (prop !== "begin") return Reflect.get(target, prop, receiver);
        return async (...args: Parameters<MemoryCache["begin"]>) => {
          await gate;
          created = true;
          return target.begin(...args);
        };
      },
    });
    const { cm, request } = await client({ memory: slow });
    const id = await request();
    let firstPieceBeforeCreate: boolean | null = null;
    const got = new Uint8Array(FILE_A.bytes.length);
    const done = cm.download(id, {
      onData: (data, offset) => {
        firstPieceBeforeCreate ??= !created;
        got.set(data, offset);
        release();
      },
    });
    // Released by the first piece: without it, the download would wait for the gate forever.
    expect(await done).toEqual({ errorCode: 0 });
    expect(firstPieceBeforeCreate).toBe(true);
    expect(Buffer.compare(Buffer.from(got), Buffer.from(FILE_A.bytes))).toBe(0);
    const file = cm.resolvePlayable(id) as { bytes: Uint8Array };
    expect(Buffer.compare(Buffer.from(file.bytes), Buffer.from(FILE_A.bytes))).toBe(0);
    // A download that waits for its file before reading never releases the gate: the timeout is its failure.
  }, 10_000);

  it("a write that fails mid-body resumes after the bytes really written: the file is byte-exact", async () => {
    vendor();
    const seen = cdn([
      // 4 KiB pieces, so that writes are many.
      () =>
        new HttpResponse(slowStream(FILE_A.bytes, 0), {
          headers: { etag: FILE_A.etag, "content-length": String(FILE_A.bytes.length) },
        }),
      (req) => serve(req, FILE_A),
    ]);
    const memory = new MemoryCache();
    let failed = false;
    const writes: number[] = [];
    // The memory cache, with one write (the one at or past byte 20,000) failing like a flaky disk.
    const flaky = new Proxy(memory, {
      get(target, prop, receiver) {
        if (prop !== "begin") return Reflect.get(target, prop, receiver);
        return async (...args: Parameters<MemoryCache["begin"]>) => {
          const part = await target.begin(...args);
          const write = part.write.bind(part);
          part.write = async (data: Uint8Array, offset: number) => {
            writes.push(offset);
            if (!failed && offset >= 20_000) {
              failed = true;
              throw new Error("EIO: i/o error (test)");
            }
            return write(data, offset);
          };
          return part;
        };
      },
    });
    const { cm, request } = await client({ memory: flaky });
    const id = await request();
    expect(await cm.download(id)).toEqual({ errorCode: 0 });
    expect(failed).toBe(true);
    expect(seen).toHaveLength(2);
    const failedAt = writes.find((o) => o >= 20_000)!;
    // The resume asks for the failed piece again, not for what came after it.
    expect(seen[1]!.headers.get("range")).toBe(`bytes=${failedAt}-`);
    const file = cm.resolvePlayable(id) as { bytes: Uint8Array };
    expect(Buffer.compare(Buffer.from(file.bytes), Buffer.from(FILE_A.bytes))).toBe(0);
  });
});
