import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Simulator } from "../../simulator/app.ts";
import type { SongFacts } from "../../simulator/catalog/types.ts";
import { call, devHeaders, session, testSimulator } from "../../test/sim.ts";
import { allocFrame, FRAME_FRAMES } from "../mixer/frame.ts";
import { MediaPlayerFactory } from "../player/factory.ts";
import { ZegoMediaPlayerState as S } from "../player/state.ts";
import { ZegoCopyrightedMusic } from "./copyrighted-music.ts";
import { monotone, tempDir } from "./test-fixtures.ts";
import { VendorTransport } from "./transport.ts";

// The reference client against the real simulator over real sockets: the whole request -> download -> play
// path, sharing in a room, lyrics and pitch, expiry, revocation, cuts, cancellation and the billing rule.

let sim: Simulator;
const caches: ReturnType<typeof tempDir>[] = [];
beforeAll(async () => {
  sim = await testSimulator();
});
afterAll(async () => {
  await sim.close();
  for (const c of caches) c.remove();
});

/** A singable vendor-0 song with dual-track accompaniment, KRC and a pitch line. */
function song(skip = 0): SongFacts {
  let seen = 0;
  for (let i = 0; i < sim.ctx.catalog.size; i++) {
    const f = sim.ctx.catalog.at(i);
    const ok =
      f.item.vendor_id === 0 &&
      f.item.copyright.song_lyric === 1 &&
      f.item.copyright.recording === 1 &&
      f.has_accompaniment &&
      f.has_original === 1 &&
      f.has_krc &&
      f.has_pitch &&
      !f.pure_music &&
      !sim.ctx.catalog.isRevoked(f.item.song_id);
    if (ok && seen++ === skip) return f;
  }
  throw new Error("no such song in the catalog");
}

async function client(userID: string, o: { now?: () => number } = {}) {
  const cache = tempDir();
  caches.push(cache);
  const cm = new ZegoCopyrightedMusic({
    baseUrl: sim.url,
    appId: Number(devHeaders["x-app-id"]),
    appSign: devHeaders["x-app-sign"],
    cacheDir: cache.dir,
    ...(o.now ? { now: o.now } : {}),
  });
  expect(await cm.initCopyrightedMusic({ user: { userID } })).toEqual({ errorCode: 0 });
  const progress: number[] = [];
  cm.on("onDownloadProgressUpdate", (_id, rate) => progress.push(rate));
  return { cm, progress, cache };
}

async function requestId(cm: ZegoCopyrightedMusic, songID: string, resourceType = 1, roomID?: string) {
  const r = await cm.requestResource({
    songID,
    mode: 0,
    vendorID: 0,
    resourceType,
    ...(roomID ? { roomID } : {}),
  });
  expect(r.errorCode, r.resource).toBe(0);
  return { id: r.data!.resources[0]!.resource_id, data: r.data! };
}

async function billedFor(userID: string): Promise<number> {
  const r = await call(sim.url, "GET", "/admin/ledger");
  return (r.body.data.rows as { user_id: string }[]).filter((row) => row.user_id === userID).length;
}

async function faults(profile: unknown[]): Promise<void> {
  const r = await call(sim.url, "PUT", "/admin/faults", { body: { faults: profile } });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
}

/** Bytes the simulator's CDN has sent so far. */
async function served(): Promise<number> {
  const m = await sim.ctx.metrics.bytesServed.get();
  return m.values.reduce((sum, v) => sum + v.value, 0);
}

/** The fault engine's injection log (NDJSON), parsed. */
async function faultEvents(): Promise<{ fault_id: string; effect: Record<string, unknown> }[]> {
  const text = await (await fetch(`${sim.url}/admin/faults/events`)).text();
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l));
}

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** The file exactly as a plain HTTP GET gets it, outside the SDK. */
async function plainFetch(cm: ZegoCopyrightedMusic, id: string): Promise<Uint8Array> {
  const res = await fetch(`${sim.url}/v1/music/download/${id}`, {
    headers: { ...devHeaders, "x-session": cm.sessionID! },
  });
  expect(res.status).toBe(200);
  return new Uint8Array(await res.arrayBuffer());
}

async function waitFor(cond: () => boolean, ms = 10_000): Promise<void> {
  const until = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > until) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("search -> requestResource -> download -> play", () => {
  it("works end to end, and the cached file is byte-identical to the CDN's", async () => {
    const f = song();
    const { cm, progress } = await client("flow-user");
    const search = await cm.sendExtendedRequest(
      "/search/song",
      JSON.stringify({ keyword: f.item.song_name, page: 1, vendor_id: 0 }),
    );
    expect(search.errorCode).toBe(0);
    const found = JSON.parse(search.result).data.songs as { song_id: string }[];
    expect(found.map((s) => s.song_id)).toContain(f.item.song_id);

    const { id, data } = await requestId(cm, f.item.song_id, 1);
    expect(data.has_original).toBe(1);
    expect(await cm.download(id)).toEqual({ errorCode: 0 });
    expect(progress.length).toBeGreaterThan(5);
    expect(monotone(progress)).toBe(true);
    expect(progress.at(-1)).toBe(1);
    expect(progress.slice(0, -1).every((p) => p > 0 && p < 1)).toBe(true);
    const file = readFileSync(
      cm.cache.filePath({ vendorID: 0, songID: f.item.song_id, resourceType: 1, quality: 0 }),
    );
    expect(file.length).toBe(data.resources[0]!.size);
    expect(sha(file)).toBe(sha(await plainFetch(cm, id)));
    expect(await cm.getDuration(id)).toBe(data.duration);
    expect(
      await cm.queryCache({ songID: f.item.song_id, resourceType: 1, resourceQualityType: 0, vendorID: 0 }),
    ).toBe(true);

    const factory = new MediaPlayerFactory({ resources: cm });
    const p = await factory.createMediaPlayer();
    const states: number[] = [];
    const ticks: number[] = [];
    p.on("onMediaPlayerStateUpdate", (_p, s) => states.push(s));
    p.on("onMediaPlayerPlayingProgress", (_p, ms) => ticks.push(ms));
    expect(await p.loadCopyrightedMusicResourceWithPosition(id, 10_000)).toEqual({ errorCode: 0 });
    expect(await p.getTotalDuration()).toBe(data.duration);
    expect(await p.getAudioTrackCount()).toBe(2);
    await p.start();
    const out = allocFrame();
    let loud = 0;
    for (let i = 0; i < 200; i++) {
      expect(p.source.read(out)).toBe(FRAME_FRAMES);
      if (out.some((s) => s !== 0)) loud++;
    }
    expect(loud).toBeGreaterThan(150);
    expect(await p.getCurrentProgress()).toBe(12_000);
    expect(ticks).toEqual([11_000, 12_000]);

    // The same 10 ms of the accompaniment and of the original differ (the original adds the vocal).
    const at = async (track: number) => {
      await p.setAudioTrackIndex(track);
      expect(await p.seekTo(30_000)).toEqual({ errorCode: 0 });
      for (let i = 0; i < 5; i++) p.source.read(out);
      return Int16Array.from(out);
    };
    const accompaniment = await at(0);
    const original = await at(1);
    expect(Buffer.compare(Buffer.from(accompaniment.buffer), Buffer.from(original.buffer))).not.toBe(0);
    expect(await at(0)).toEqual(accompaniment); // and a seek is exactly repeatable

    await p.pause();
    p.source.read(out);
    expect(out.every((s) => s === 0)).toBe(true);
    await p.resume();
    expect(await p.seekTo(data.duration! - 300)).toEqual({ errorCode: 0 });
    for (let i = 0; i < 40; i++) p.source.read(out);
    expect(await p.getCurrentProgress()).toBe(data.duration);
    await p.stop();
    expect(states).toEqual([S.Playing, S.Pausing, S.Playing, S.PlayEnded, S.NoPlay]);
    expect(await p.seekTo(0)).toEqual({ errorCode: 1008016 });
    expect(await p.loadCopyrightedMusicResourceWithPosition(id, data.duration! + 1)).toEqual({
      errorCode: 1017005,
    });
  });
});

describe("two users in one room", () => {
  it("the second gets the first's resource free via getSharedResource, once; the ledger bills one request", async () => {
    const f = song(1);
    await call(sim.url, "POST", "/v1/room/login", {
      headers: await session(sim.url, "sharer"),
      body: { room_id: "r-share" },
    });
    await call(sim.url, "POST", "/v1/room/login", {
      headers: await session(sim.url, "listener"),
      body: { room_id: "r-share" },
    });
    const a = await client("sharer");
    const b = await client("listener");
    const outsider = await client("outsider");

    const before = await b.cm.getSharedResource({
      songID: f.item.song_id,
      roomID: "r-share",
      resourceType: 2,
    });
    expect(before.errorCode).toBe(1017050); // nobody requested it yet

    const { id: aId } = await requestId(a.cm, f.item.song_id, 2, "r-share");
    const shared = await b.cm.getSharedResource({
      songID: f.item.song_id,
      vendorID: 0,
      roomID: "r-share",
      resourceType: 2,
    });
    expect(shared.errorCode).toBe(0);
    const bId = shared.data!.resources[0]!.resource_id;
    expect(bId).not.toBe(aId);
    expect(b.cm.resourceInfo(bId)?.shared).toBe(true);

    expect(await a.cm.download(aId)).toEqual({ errorCode: 0 });
    expect(await b.cm.download(bId)).toEqual({ errorCode: 0 });
    const key = { vendorID: 0, songID: f.item.song_id, resourceType: 2, quality: 0 };
    expect(sha(readFileSync(b.cm.cache.filePath(key)))).toBe(sha(readFileSync(a.cm.cache.filePath(key))));

    expect(
      (await b.cm.getSharedResource({ songID: f.item.song_id, roomID: "r-share", resourceType: 2 }))
        .errorCode,
    ).toBe(1017051);
    expect(
      (await outsider.cm.getSharedResource({ songID: f.item.song_id, roomID: "r-share", resourceType: 2 }))
        .errorCode,
    ).toBe(1017054);
    // B's id is B's alone: A's session cannot use it.
    expect((await a.cm.getStandardPitch(bId)).errorCode).toBe(1017018);
    expect(await billedFor("sharer")).toBe(1);
    expect(await billedFor("listener")).toBe(0);
  });
});

describe("lyrics and pitch", () => {
  it("LRC by song, KRC by the request's krc_token, the standard pitch of the resource", async () => {
    const f = song(2);
    const { cm } = await client("lyrics-user");
    const lrc = await cm.getLrcLyric(f.item.song_id, 0);
    expect(lrc.errorCode).toBe(0);
    const l = JSON.parse(lrc.lyrics);
    expect(l.lines.length).toBeGreaterThan(3);
    expect(l.lrc_format).toMatch(/\[\d\d:\d\d\.\d\d\]/);

    const { id, data } = await requestId(cm, f.item.song_id, 1);
    const krc = await cm.getKrcLyricByToken(data.krc_token!);
    expect(krc.errorCode).toBe(0);
    const k = JSON.parse(krc.lyrics);
    expect(k.lines[0].words.length).toBeGreaterThan(0);
    expect(k.lines[0].words[0]).toHaveProperty("word");

    const pitch = await cm.getStandardPitch(id);
    expect(pitch.errorCode).toBe(0);
    const notes = JSON.parse(pitch.pitch).pitch as { begin_time: number; duration: number; value: number }[];
    expect(notes.length).toBeGreaterThan(10);
    expect(
      notes.every((n) => n.value >= 10 && n.value <= 90 && n.begin_time + n.duration <= data.duration!),
    ).toBe(true);

    const { id: songId } = await requestId(cm, f.item.song_id, 0);
    expect((await cm.getStandardPitch(songId)).errorCode).toBe(1017075);
    expect((await cm.getKrcLyricByToken("not-a-token")).errorCode).toBe(1017046);
    expect((await cm.getLrcLyric(f.item.song_id, 2)).errorCode).toBe(1017072);
  });
});

describe("expiry", () => {
  it("an expired resource downloads as 1017019, loads as 1008011; requesting again recovers (and bills again)", async () => {
    const f = song(3);
    const { cm } = await client("expiry-user");
    const { id } = await requestId(cm, f.item.song_id, 2);
    expect((await call(sim.url, "POST", `/admin/resources/${id}/expire`)).status).toBe(200);
    expect(await cm.download(id)).toEqual({ errorCode: 1017019 });
    const factory = new MediaPlayerFactory({ resources: cm });
    const p = await factory.createMediaPlayer();
    expect(await p.loadCopyrightedMusicResourceWithPosition(id, 0)).toEqual({ errorCode: 1008011 });
    const { id: again } = await requestId(cm, f.item.song_id, 2);
    expect(await cm.download(again)).toEqual({ errorCode: 0 });
    expect(await p.loadCopyrightedMusicResourceWithPosition(again, 0)).toEqual({ errorCode: 0 });
    expect(await billedFor("expiry-user")).toBe(2);
  });

  it("the client honours resource_ttl on its own clock: a lapsed id is 1017019 / 1008011 without asking", async () => {
    const f = song(3);
    let now = 1_000_000;
    const { cm } = await client("ttl-user", { now: () => now });
    const { id, data } = await requestId(cm, f.item.song_id, 2);
    expect(await cm.download(id)).toEqual({ errorCode: 0 });
    expect(cm.resolvePlayable(id)).toMatchObject({ errorCode: 0 });
    now += data.resources[0]!.resource_ttl;
    expect(cm.resolvePlayable(id)).toEqual({ errorCode: 1008011 });
    expect(await cm.download(id)).toEqual({ errorCode: 1017019 });
  });
});

describe("the download path's bad days (fault engine)", () => {
  it("a connection reset mid-file is resumed with Range; the file is still byte-exact", async () => {
    const f = song(4);
    const { cm, progress } = await client("reset-user");
    const { id, data } = await requestId(cm, f.item.song_id, 2);
    await faults([
      {
        id: "reset",
        kind: "cdn",
        reset_after_bytes: 300_000,
        first: 1,
        selector: { route: "GET /v1/music/download/:resource_id" },
      },
    ]);
    const servedBefore = await served();
    try {
      expect(await cm.download(id)).toEqual({ errorCode: 0 });
      // Resumed, not restarted: the CDN sent the bytes before the cut only once.
      expect((await served()) - servedBefore - data.resources[0]!.size).toBeLessThan(300_000);
      const resets = (await faultEvents()).filter((e) => e.effect.reset_after_bytes === 300_000);
      expect(resets).toHaveLength(1);
    } finally {
      await call(sim.url, "POST", "/admin/faults/reset");
    }
    expect(monotone(progress)).toBe(true);
    const key = { vendorID: 0, songID: f.item.song_id, resourceType: 2, quality: 0 };
    expect(sha(readFileSync(cm.cache.filePath(key)))).toBe(sha(await plainFetch(cm, id)));
  });

  it("1017012 while downloading; cancelDownload ends it with 1017016 and nothing is cached", async () => {
    const f = song(5);
    const { cm, progress } = await client("cancel-user");
    const { id } = await requestId(cm, f.item.song_id, 2);
    await faults([{ id: "slow", kind: "cdn", bandwidth: { bytes_per_sec: 100_000 } }]);
    try {
      const running = cm.download(id);
      await waitFor(() => progress.length > 0);
      expect(await cm.download(id)).toEqual({ errorCode: 1017012 });
      cm.cancelDownload(id);
      expect(await running).toEqual({ errorCode: 1017016 });
    } finally {
      await call(sim.url, "POST", "/admin/faults/reset");
    }
    expect(
      await cm.queryCache({ songID: f.item.song_id, resourceType: 2, resourceQualityType: 0, vendorID: 0 }),
    ).toBe(false);
    expect(await cm.getCacheSize()).toBe(0);
  });

  it("revoked mid-download: the download ends with 1017030 (skip the song, show why)", async () => {
    const f = song(6);
    const { cm, progress } = await client("revoke-user");
    const { id } = await requestId(cm, f.item.song_id, 2);
    await faults([{ id: "slow", kind: "cdn", bandwidth: { bytes_per_sec: 100_000 } }]);
    try {
      const running = cm.download(id);
      await waitFor(() => progress.length > 0);
      expect((await call(sim.url, "POST", `/admin/songs/${f.item.song_id}/revoke`)).status).toBe(200);
      expect(await running).toEqual({ errorCode: 1017030 });
    } finally {
      await call(sim.url, "POST", "/admin/faults/reset");
      await call(sim.url, "POST", `/admin/songs/${f.item.song_id}/restore`);
    }
    expect(await cm.getCacheSize()).toBe(0);
  });
});

describe("cache", () => {
  it("queryCache / getCacheSize / clearCache; a cleared file cannot be loaded (1017013)", async () => {
    const f = song(7);
    const { cm } = await client("cache-user");
    const q = { songID: f.item.song_id, resourceType: 2, resourceQualityType: 0, vendorID: 0 };
    expect(await cm.queryCache(q)).toBe(false);
    expect(await cm.getCacheSize()).toBe(0);
    const { id, data } = await requestId(cm, f.item.song_id, 2);
    expect(await cm.download(id)).toEqual({ errorCode: 0 });
    expect(await cm.queryCache(q)).toBe(true);
    expect(await cm.queryCache({ ...q, resourceQualityType: 1 })).toBe(false);
    const size = await cm.getCacheSize();
    expect(size).toBeGreaterThanOrEqual(data.resources[0]!.size);
    expect(size).toBeLessThan(data.resources[0]!.size + 4096); // the file plus its small metadata
    await cm.clearCache();
    expect(await cm.getCacheSize()).toBe(0);
    expect(await cm.queryCache(q)).toBe(false);
    const p = await new MediaPlayerFactory({ resources: cm }).createMediaPlayer();
    expect(await p.loadCopyrightedMusicResourceWithPosition(id, 0)).toEqual({ errorCode: 1017013 });
  });
});

describe("a billable request is never blindly repeated", () => {
  it("a dropped connection (answer lost) is not retried; the ledger holds exactly the requests made", async () => {
    const f = song(8);
    const { cm } = await client("drop-user");
    await faults([
      { id: "drop", kind: "error", drop: true, first: 1, selector: { route: "POST /v1/music/resource" } },
    ]);
    try {
      const lost = await cm.requestResource({
        songID: f.item.song_id,
        mode: 0,
        vendorID: 0,
        resourceType: 2,
      });
      expect(lost.errorCode).toBe(1017098);
      expect((await faultEvents()).filter((e) => e.effect.drop === true)).toHaveLength(1);
      expect(await billedFor("drop-user")).toBe(0);
      await requestId(cm, f.item.song_id, 2); // the user asked again
      expect(await billedFor("drop-user")).toBe(1);
    } finally {
      await call(sim.url, "POST", "/admin/faults/reset");
    }
  });

  it("an error envelope (503) is retried, and bills once", async () => {
    const f = song(8);
    const { cm } = await client("busy-user");
    await faults([
      {
        id: "busy",
        kind: "error",
        http_status: 503,
        first: 1,
        selector: { route: "POST /v1/music/resource" },
      },
    ]);
    try {
      await requestId(cm, f.item.song_id, 2);
      expect(await billedFor("busy-user")).toBe(1);
    } finally {
      await call(sim.url, "POST", "/admin/faults/reset");
    }
  });

  it("a refused connection provably sent nothing, so even a billable call is retried (bounded)", async () => {
    const port = await closedPort();
    let attempts = 0;
    const t = new VendorTransport({
      baseUrl: `http://127.0.0.1:${port}`,
      appId: 1,
      appSign: devHeaders["x-app-sign"],
      retry: { maxAttempts: 3, baseDelayMs: 1 },
      fetch: (input, init) => {
        attempts++;
        return fetch(input, init);
      },
    });
    await expect(
      t.call({ method: "POST", path: "/v1/music/resource", delivery: "once", body: {} }),
    ).rejects.toMatchObject({
      code: 1017098,
    });
    expect(attempts).toBe(3);
  });
});

/** A loopback port with nothing listening (bound, then released). */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
