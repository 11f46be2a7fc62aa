import type { Socket } from "node:net";
import { type Static, Type } from "@sinclair/typebox";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { requireSession } from "../auth/guards.ts";
import { VendorError } from "../errors.ts";
import { DownloadShaping, holdHeaders } from "../faults/download-shaping.ts";
import { type DownloadPlan, NO_PLAN } from "../faults/seam.ts";
import { authHeaders, errorEnvelopeSchema } from "../http.ts";
import type { ResourceRecord } from "../resources/types.ts";
import { type AudioFile, audioFileFor } from "./audio-file.ts";
import { createChunkCache } from "./chunk-cache.ts";
import { DownloadStream } from "./download-stream.ts";
import { ifRangeMatches, noneMatch, parseRange } from "./range.ts";
import { createTokenBucket, pieceBytes, type TokenBucket } from "./token-bucket.ts";
import { registerChunkCache, warmUpRenderer } from "./warm.ts";
import { createWholeFiles } from "./whole-files.ts";

// The download CDN: GET/HEAD /v1/music/download/:resource_id serves the resource's WAV file, rendered on
// demand, with single byte ranges, a strong ETag and bandwidth caps. Failures answer the vendor envelope with
// an HTTP status a download client understands: 400 1017004/1017040 bad id, 404 1017018 unknown id or another
// user's (one answer for both, so ids cannot be probed), 410 1017019 expired, 403 1017030 revoked song
// (1017031 for an accompaniment of a song that became listen-only), 416 unsatisfiable range. The fault engine
// plans each download once (faults/seam.ts decideDownload): expiry, a slow first byte, stalls, resets, caps.

/** How often a download sent in one write checks, until the socket has taken it, whether it must be cut. */
const FAST_CUT_CHECK_MS = 50;

/**
 * Rendered chunks shared by all downloads of one simulator (64 KiB each, so 2,048 chunks). It was 32 MiB: a load
 * run cycling through 40 clips of ~810 KB (rooms-250's pool) needs ~32 MB, and an LRU cycled over a set a little
 * larger than itself misses on nearly every chunk (re-rendering was ~11% of the simulator thread in a 20-VU
 * turnover profile). `ktv_cdn_chunk_cache_{hits,misses,bytes}` in /metrics show how it does.
 */
const CACHE_BYTES = 128 * 1024 * 1024;

const Params = Type.Object({
  resource_id: Type.String({
    // The router's own limit is 100 characters; real ids are about 50.
    maxLength: 100,
    pattern: "^[A-Za-z0-9_.~-]*$",
    description: "resources[].resource_id from requestResource / getSharedResource",
  }),
});

const Headers = Type.Object(
  {
    ...authHeaders.properties,
    range: Type.Optional(Type.String({ description: "one byte range, e.g. bytes=1000- (multi-range: 200)" })),
    "if-range": Type.Optional(Type.String({ description: "the ETag: apply Range only if unchanged" })),
    "if-none-match": Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);

const audioBody = {
  content: { "audio/wav": { schema: { type: "string", format: "binary" } } },
};

/** Callbacks for each socket's close: one listener per socket, however many pipelined downloads it carries. */
const socketClosers = new WeakMap<Socket, Set<() => void>>();

/** Calls `fn` when `socket` closes; returns the function that cancels it. */
function whenSocketCloses(socket: Socket, fn: () => void): () => void {
  let fns = socketClosers.get(socket);
  if (!fns) {
    const set = new Set<() => void>();
    fns = set;
    socketClosers.set(socket, set);
    socket.once("close", () => {
      socketClosers.delete(socket);
      for (const f of set) f();
    });
  }
  fns.add(fn);
  return () => fns.delete(fn);
}

export default async function cdnRoutes(app: FastifyInstance): Promise<void> {
  const sim = app.sim;
  const cache = createChunkCache(CACHE_BYTES);
  registerChunkCache(sim, cache);
  // Before the server listens: the renderer's first-use cost is the start-up's, not the first user's.
  if (sim.options.warmUp) app.addHook("onReady", async () => warmUpRenderer(sim));
  const wholeFiles = createWholeFiles();
  /** Downloads sent in one write whose bytes the socket has not all taken yet: still cut on revocation. */
  const unfinished = new Map<FastifyRequest, ResourceRecord>();
  let cutTimer: NodeJS.Timeout | undefined;
  function checkUnfinished(): void {
    for (const [req, rec] of unfinished) {
      const why = cutReason(rec);
      if (!why) continue;
      unfinished.delete(req);
      sim.faults.downloadCut(req.faultKey, rec, why.code);
      req.raw.socket.destroy();
    }
    if (unfinished.size === 0 && cutTimer) {
      clearInterval(cutTimer);
      cutTimer = undefined;
    }
  }
  function watchUntilSent(req: FastifyRequest, reply: FastifyReply, rec: ResourceRecord): void {
    unfinished.set(req, rec);
    const done = () => unfinished.delete(req);
    reply.raw.once("finish", done);
    reply.raw.once("close", done);
    cutTimer ??= setInterval(checkUnfinished, FAST_CUT_CHECK_MS).unref();
  }
  let globalBucket: TokenBucket = createTokenBucket(sim.options.cdnGlobalBytesPerSec);

  /** The record, or the vendor error a download client should get (with a download-friendly status). */
  function resourceFor(req: FastifyRequest, id: string): ResourceRecord {
    if (id === "") throw new VendorError(1017004, undefined, 400);
    let rec: ResourceRecord;
    try {
      rec = sim.resources.use(id, req.musicSession!, { expiredStatus: 410 });
    } catch (e) {
      if (e instanceof VendorError && e.code === 1017018) throw new VendorError(1017018, e.message, 404);
      throw e;
    }
    const gone = rightsGone(rec);
    if (gone) throw gone;
    return rec;
  }

  /** Why the song's rights no longer cover this resource (admin or fault revocation), or null. */
  function rightsGone(rec: ResourceRecord): VendorError | null {
    const r = sim.catalog.revocation(rec.song_id);
    if (r === "all") return new VendorError(1017030, "no copyright: the song was revoked", 403);
    if (r === "listen_only" && rec.resource_type !== 0) {
      return new VendorError(1017031, "no accompaniment rights: the song is listen-only now", 403);
    }
    return null;
  }

  function cutReason(rec: ResourceRecord): VendorError | null {
    const live = sim.resources.get(rec.resource_id);
    if (!live || live.forced_expired) return new VendorError(1017019, undefined, 410);
    return rightsGone(rec);
  }

  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

  function serve(
    req: FastifyRequest,
    reply: FastifyReply,
    rec: ResourceRecord,
    file: AudioFile,
    plan: DownloadPlan,
  ) {
    const headers = req.headers;
    reply.header("accept-ranges", "bytes");
    reply.header("etag", file.etag);
    // Per-user resources: shared caches must not keep them.
    reply.header("cache-control", "private, no-transform");
    // Preconditions before Range (RFC 9110 §13.2.2): a cached copy wins over any range question.
    if (noneMatch(one(headers["if-none-match"]), file.etag)) return reply.code(304).send();
    const range = parseRange(
      ifRangeMatches(one(headers["if-range"]), file.etag) ? headers.range : undefined,
      file.size,
    );
    if (range.kind === "unsatisfiable") {
      reply.header("content-range", `bytes */${file.size}`);
      throw new VendorError(1017040, `illegal parameter: range not satisfiable (size ${file.size})`, 416);
    }
    reply.header("content-type", "audio/wav");

    let start = 0;
    let end = file.size;
    if (range.kind === "ignored") req.log.info({ range: headers.range, why: range.reason }, "range ignored");
    if (range.kind === "range") {
      start = range.start;
      end = range.end + 1;
      reply.code(206).header("content-range", `bytes ${start}-${range.end}/${file.size}`);
    } else {
      reply.code(200);
    }
    reply.header("content-length", String(end - start));
    if (req.method === "HEAD" || end === start) return reply.send();

    const connRate = sim.options.cdnConnBytesPerSec;
    if (globalBucket.rate !== sim.options.cdnGlobalBytesPerSec) {
      globalBucket = createTokenBucket(sim.options.cdnGlobalBytesPerSec);
    }
    const { bytesServed, activeDownloads } = sim.metrics;
    activeDownloads.inc();
    // A response queued behind a pipelined one never gets its own 'close' when the connection dies (seen: a
    // stalled reader's socket cut with 5 pipelined downloads left this gauge at 4): the socket's ends it too.
    let counted = true;
    // Both may fire in one emit (the socket's 'close' emits the response's): the flag makes it once.
    const ended = () => {
      if (!counted) return;
      counted = false;
      reply.raw.off("close", ended);
      forget();
      activeDownloads.dec();
    };
    reply.raw.once("close", ended);
    const forget = whenSocketCloses(req.raw.socket, ended);
    // The fast path: nothing shapes this download and the file is rendered, so it goes in one write.
    const whole =
      connRate === 0 && globalBucket.rate === 0 && plan === NO_PLAN ? wholeFiles.get(file, cache) : undefined;
    if (whole) {
      bytesServed.inc({ quality: file.quality }, end - start);
      watchUntilSent(req, reply, rec);
      return reply.send(whole.subarray(start, end));
    }
    const body = new DownloadStream({
      file,
      start,
      end,
      pieceBytes: pieceBytes(connRate, globalBucket.rate, ...plan.buckets.map((b) => b.rate)),
      buckets: [createTokenBucket(connRate), globalBucket],
      cache,
      cutReason: () => {
        const why = cutReason(rec);
        if (why) sim.faults.downloadCut(req.faultKey, rec, why.code);
        return why;
      },
      onBytes: (n) => bytesServed.inc({ quality: file.quality }, n),
      faults: plan === NO_PLAN ? undefined : new DownloadShaping(plan),
    });
    // A reset fault: the body ended early on purpose; close once those bytes are out, so the client sees
    // exactly them and then a broken connection.
    reply.raw.once("finish", () => {
      if (body.cutShort) req.raw.socket.destroy();
    });
    return reply.send(body);
  }

  app.route({
    method: ["GET", "HEAD"],
    url: "/v1/music/download/:resource_id",
    schema: {
      summary: "download: the resource's audio file (WAV PCM s16le at the tier's bitrate)",
      description:
        "Single byte ranges (206 + Content-Range; 416 + `Content-Range: bytes */size` when the range starts past " +
        "the end; malformed or multi-range headers are ignored and the whole file is sent with 200), strong ETag " +
        "with If-Range / If-None-Match, HEAD. Bandwidth is capped per connection and globally when configured. " +
        "Dual-track accompaniments interleave accompaniment channels then original (accompaniment + vocal) " +
        "channels in each frame. A download in flight is cut when the song is revoked or the resource " +
        "force-expired (also by expiry and revocation faults; cdn faults add a slow first byte, stalls, resets " +
        "and caps). Errors: 400 1017004 (empty id) / 1017040 (malformed id), 404 1017018 (unknown or " +
        "another user's id), 410 1017019 (expired), 403 1017030 (revoked) / 1017031 (accompaniment of a " +
        "song that became listen-only).",
      tags: ["vendor"],
      headers: Headers,
      params: Params,
      response: {
        200: { description: "the whole file", ...audioBody },
        206: { description: "the requested byte range", ...audioBody },
        304: { description: "not modified (If-None-Match)", type: "null" },
        400: errorEnvelopeSchema,
        401: errorEnvelopeSchema,
        403: errorEnvelopeSchema,
        404: errorEnvelopeSchema,
        410: errorEnvelopeSchema,
        416: errorEnvelopeSchema,
      },
    },
    preHandler: requireSession,
    handler: async (req, reply) => {
      const { resource_id } = req.params as Static<typeof Params>;
      let rec = resourceFor(req, resource_id);
      const plan = sim.faults.decideDownload(req.faultKey, `${req.method} ${req.routeOptions.url}`, rec);
      if (plan.firstByteDelayMs > 0) {
        if (!(await holdHeaders(req.raw.socket, plan.firstByteDelayMs, plan.signal))) return reply.hijack();
        // The wait may have been long: answer what is true now.
        rec = resourceFor(req, resource_id);
      }
      if (plan.expired) throw new VendorError(1017019, undefined, 410);
      const facts = sim.catalog.get(rec.song_id);
      if (!facts) throw new VendorError(1017018, "the resource's song no longer exists", 404);
      return serve(req, reply, rec, audioFileFor(rec, facts), plan);
    },
  });
}
