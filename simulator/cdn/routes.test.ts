import { createHash } from "node:crypto";
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isEnvelope } from "../../protocol/envelope.ts";
import { call, session, testSimulator } from "../../test/sim.ts";
import type { Simulator } from "../app.ts";
import type { SongFacts } from "../catalog/types.ts";
import { audioFileFor, renderBytes } from "./audio-file.ts";
import { parseWavHeader } from "./wav.ts";

// The download CDN over real HTTP against the whole simulator: a resource from requestResource, then the file
// with Range resumes, validators, errors, bandwidth caps and cuts.

let sim: Simulator;
let alice: Record<string, string>;
let bob: Record<string, string>;

beforeAll(async () => {
  sim = await testSimulator();
  alice = await session(sim.url, "alice");
  bob = await session(sim.url, "bob");
});
afterAll(() => sim.close());

function findSong(s: Simulator, pred: (f: SongFacts) => boolean, skip = 0): SongFacts {
  let seen = 0;
  for (let i = 0; i < s.ctx.catalog.size; i++) {
    const f = s.ctx.catalog.at(i);
    const ok =
      f.item.vendor_id === 0 &&
      f.item.copyright.song_lyric === 1 &&
      f.item.copyright.recording === 1 &&
      f.has_accompaniment &&
      f.item.has_clip === 1 &&
      !s.ctx.catalog.isRevoked(f.item.song_id);
    if (ok && pred(f) && seen++ >= skip) return f;
  }
  throw new Error("no such song in the test catalog");
}

async function resource(
  s: Simulator,
  headers: Record<string, string>,
  song: SongFacts,
  resource_type: number,
  quality = 0,
): Promise<{ id: string; size: number }> {
  const r = await call(s.url, "POST", "/v1/music/resource", {
    headers,
    body: { song_id: song.item.song_id, resource_type, billing_mode: 0, vendor_id: 0, quality },
  });
  expect(r.body.code, JSON.stringify(r.body)).toBe(0);
  const res = r.body.data.resources[0];
  return { id: res.resource_id, size: res.size };
}

const path = (id: string) => `/v1/music/download/${id}`;

async function get(s: Simulator, id: string, headers: Record<string, string>, method = "GET") {
  const res = await fetch(s.url + path(id), { method, headers });
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, body };
}

const json = (b: Buffer) => JSON.parse(b.toString("utf8"));
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

describe("download", () => {
  it("serves the whole file: WAV of the announced size, with validators", async () => {
    const song = findSong(sim, (f) => f.has_original === 1);
    const r = await resource(sim, alice, song, 2);
    const full = await get(sim, r.id, alice);
    expect(full.status).toBe(200);
    expect(full.headers.get("content-type")).toBe("audio/wav");
    expect(full.headers.get("accept-ranges")).toBe("bytes");
    expect(full.headers.get("content-length")).toBe(String(r.size));
    expect(full.headers.get("etag")).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(full.body.length).toBe(r.size);
    const info = parseWavHeader(full.body);
    // Normal tier, dual-track: 8 kHz, mono accompaniment + mono original.
    expect(info).toMatchObject({ format: 1, sampleRate: 8000, channels: 2, dataBytes: r.size - 44 });
    const clipMs = song.clip.segment_end - song.clip.segment_begin;
    expect(info.dataBytes).toBe(Math.round((clipMs * 8000) / 1000) * 4);
  });

  it("full download equals the concatenation of Range resumes, and suffix ranges work", async () => {
    const song = findSong(sim, () => true, 1);
    const r = await resource(sim, alice, song, 2);
    const full = await get(sim, r.id, alice);
    const cuts = [0, 1, 44, 45, 65_535, 65_536, 100_001, Math.floor(r.size / 2), r.size - 1, r.size];
    const parts: Buffer[] = [];
    for (let i = 0; i + 1 < cuts.length; i++) {
      const a = cuts[i]!;
      const b = cuts[i + 1]! - 1;
      const range = i === cuts.length - 2 ? `bytes=${a}-` : `bytes=${a}-${b}`;
      const part = await get(sim, r.id, { ...alice, range });
      expect(part.status, range).toBe(206);
      expect(part.headers.get("content-range")).toBe(`bytes ${a}-${b}/${r.size}`);
      expect(part.headers.get("content-length")).toBe(String(b - a + 1));
      parts.push(part.body);
    }
    expect(Buffer.concat(parts).equals(full.body)).toBe(true);
    const tail = await get(sim, r.id, { ...alice, range: "bytes=-1000" });
    expect(tail.status).toBe(206);
    expect(tail.body.equals(full.body.subarray(r.size - 1000))).toBe(true);
  });

  it("has a strong ETag stable across requests and resources of the same content; If-Range and If-None-Match", async () => {
    const song = findSong(sim, () => true, 2);
    const r1 = await resource(sim, alice, song, 2);
    const r2 = await resource(sim, alice, song, 2);
    const other = await resource(sim, alice, song, 1);
    const h1 = await get(sim, r1.id, alice, "HEAD");
    const h2 = await get(sim, r2.id, alice, "HEAD");
    const h3 = await get(sim, other.id, alice, "HEAD");
    const etag = h1.headers.get("etag")!;
    expect(h2.headers.get("etag")).toBe(etag);
    expect(h3.headers.get("etag")).not.toBe(etag);
    // HEAD: the headers of a GET, no body.
    expect(h1.status).toBe(200);
    expect(h1.headers.get("content-length")).toBe(String(r1.size));
    expect(h1.body.length).toBe(0);

    const match = await get(sim, r1.id, { ...alice, range: "bytes=100-199", "if-range": etag });
    expect(match.status).toBe(206);
    expect(match.body.length).toBe(100);
    const stale = await get(sim, r1.id, { ...alice, range: "bytes=100-199", "if-range": '"stale"' });
    expect(stale.status).toBe(200);
    expect(stale.body.length).toBe(r1.size);
    const dated = await get(sim, r1.id, {
      ...alice,
      range: "bytes=100-199",
      "if-range": "Wed, 21 Oct 2015 07:28:00 GMT",
    });
    expect(dated.status).toBe(200);
    const cached = await get(sim, r1.id, { ...alice, "if-none-match": etag });
    expect(cached.status).toBe(304);
    expect(cached.body.length).toBe(0);
  });

  it("answers 416 with Content-Range */size past the end, and ignores malformed or multiple ranges", async () => {
    const song = findSong(sim, () => true, 3);
    const r = await resource(sim, alice, song, 2);
    for (const range of [`bytes=${r.size}-`, `bytes=${r.size + 10}-${r.size + 20}`, "bytes=-0"]) {
      const res = await get(sim, r.id, { ...alice, range });
      expect(res.status, range).toBe(416);
      expect(res.headers.get("content-range")).toBe(`bytes */${r.size}`);
      const env = json(res.body);
      expect(isEnvelope(env) && env.code === 1017040).toBe(true);
    }
    for (const range of ["bytes=abc", "bytes=10-5", "pages=1-2", "bytes=0-10,20-30", "bytes="]) {
      const res = await get(sim, r.id, { ...alice, range });
      expect(res.status, range).toBe(200);
      expect(res.body.length).toBe(r.size);
    }
  });

  it("refuses expired resources with 410 + 1017019 and others' or unknown ids with 404 + 1017018", async () => {
    const song = findSong(sim, () => true, 4);
    const r = await resource(sim, alice, song, 1);
    const theirs = await get(sim, r.id, bob);
    expect(theirs.status).toBe(404);
    expect(json(theirs.body).code).toBe(1017018);
    const unknown = await get(sim, `${r.id.slice(0, -4)}AAAA`, alice);
    expect(unknown.status).toBe(404);
    expect(json(unknown.body).code).toBe(1017018);
    expect(sim.ctx.resources.expire(r.id)).toBe(true);
    const expired = await get(sim, r.id, alice);
    expect(expired.status).toBe(410);
    const env = json(expired.body);
    expect(isEnvelope(env)).toBe(true);
    expect(env.code).toBe(1017019);
    expect(env.data).toBeNull();
  });

  it("refuses a revoked song with 403 + 1017030 and needs a session", async () => {
    const song = findSong(sim, () => true, 5);
    const r = await resource(sim, alice, song, 1);
    const { "x-session": _s, ...noSession } = alice;
    const anon = await get(sim, r.id, noSession!);
    expect(anon.status).toBe(401);
    sim.ctx.catalog.revoke(song.item.song_id);
    try {
      const res = await get(sim, r.id, alice);
      expect(res.status).toBe(403);
      expect(json(res.body).code).toBe(1017030);
    } finally {
      sim.ctx.catalog.restore(song.item.song_id);
    }
  });

  const raw = (p: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const u = new URL(sim.url);
      const req = httpRequest({ host: u.hostname, port: u.port, path: p, headers: alice }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d) => {
          body += d;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on("error", reject);
      req.end();
    });

  async function expectCleanRefusal(paths: string[], codes: number[]): Promise<void> {
    for (const p of paths) {
      const res = await raw(p);
      expect(res.status, p).toBeGreaterThanOrEqual(400);
      expect(res.status, p).toBeLessThan(500);
      const env = JSON.parse(res.body);
      expect(isEnvelope(env), `${p} -> ${res.body.slice(0, 120)}`).toBe(true);
      expect(codes, p).toContain(env.code);
    }
    expect((await call(sim.url, "GET", "/healthz")).status).toBe(200);
  }

  it("answers path tricks in the id with a clean envelope, never a 5xx", async () => {
    // Sent raw: fetch would normalise the dot segments away before they reach the server.
    await expectCleanRefusal(
      [
        "/v1/music/download/..%2F..%2Fetc%2Fpasswd",
        "/v1/music/download/../../etc/passwd",
        "/v1/music/download/%2e%2e",
        "/v1/music/download/..",
        "/v1/music/download/a%00b",
        "/v1/music/download/a%20b",
        `/v1/music/download/${"z".repeat(100)}`,
        "/v1/music/download/",
      ],
      [1017004, 1017018, 1017040],
    );
  });

  // These never reach the route: the router refuses them first (ids over 100 chars, broken %-escapes), so
  // the envelope comes from the app's framework-error handling.
  it("answers oversized ids and broken percent-encoding with a clean envelope", async () => {
    await expectCleanRefusal(
      [
        `/v1/music/download/${"z".repeat(101)}`,
        `/v1/music/download/${"z".repeat(5000)}`,
        "/v1/music/download/%",
        "/v1/music/download/%E0%A4%A",
      ],
      [1017040, 1017018],
    );
  });

  it("counts bytes served by quality and active downloads", async () => {
    const song = findSong(sim, () => true, 6);
    const r = await resource(sim, alice, song, 2);
    // prom-client hands out its live value objects: read the number out before the download moves it.
    const served = async () =>
      (await sim.ctx.metrics.bytesServed.get()).values.find((v) => v.labels.quality === "normal")?.value ?? 0;
    const before = await served();
    await get(sim, r.id, alice);
    expect((await served()) - before).toBe(r.size);
    expect((await sim.ctx.metrics.activeDownloads.get()).values[0]?.value).toBe(0);
  });
});

describe("download shaping and cuts", () => {
  it("holds one connection to the per-connection cap", async () => {
    sim.ctx.options.cdnConnBytesPerSec = 200_000;
    try {
      const song = findSong(sim, () => true, 7);
      const r = await resource(sim, alice, song, 2);
      const t0 = performance.now();
      const res = await get(sim, r.id, { ...alice, range: "bytes=0-299999" });
      const s = (performance.now() - t0) / 1000;
      expect(res.body.length).toBe(300_000);
      // 300 kB at 200 kB/s = 1.5 s, less at most one 50 ms burst.
      expect(s).toBeGreaterThan(1.4);
      expect(s).toBeLessThan(4);
    } finally {
      sim.ctx.options.cdnConnBytesPerSec = 0;
    }
  });

  it("shares the global cap between concurrent downloads", async () => {
    sim.ctx.options.cdnGlobalBytesPerSec = 200_000;
    try {
      const song = findSong(sim, () => true, 8);
      const a = await resource(sim, alice, song, 2);
      const b = await resource(sim, bob, song, 2);
      const t0 = performance.now();
      const [ra, rb] = await Promise.all([
        get(sim, a.id, { ...alice, range: "bytes=0-149999" }),
        get(sim, b.id, { ...bob, range: "bytes=0-149999" }),
      ]);
      const s = (performance.now() - t0) / 1000;
      expect(ra.body.length + rb.body.length).toBe(300_000);
      expect(ra.body.equals(rb.body)).toBe(true);
      expect(s).toBeGreaterThan(1.4);
      expect(s).toBeLessThan(4);
    } finally {
      sim.ctx.options.cdnGlobalBytesPerSec = 0;
    }
  });

  for (const cut of ["revoke", "expire"] as const) {
    it(`cuts a download in flight when the resource is ${cut === "revoke" ? "revoked" : "force-expired"}`, async () => {
      sim.ctx.options.cdnConnBytesPerSec = 100_000;
      const song = findSong(sim, () => true, cut === "revoke" ? 9 : 10);
      const r = await resource(sim, alice, song, 2);
      try {
        const res = await fetch(sim.url + path(r.id), { headers: alice });
        expect(res.status).toBe(200);
        const reader = res.body!.getReader();
        let got = 0;
        while (got < 20_000) {
          const { value, done } = await reader.read();
          if (done) break;
          got += value.length;
        }
        if (cut === "revoke") sim.ctx.catalog.revoke(song.item.song_id);
        else sim.ctx.resources.expire(r.id);
        const t0 = performance.now();
        const drain = async () => {
          for (;;) {
            const { value, done } = await reader.read();
            if (done) return got;
            got += value.length;
          }
        };
        await expect(drain()).rejects.toThrow();
        expect(got).toBeLessThan(r.size);
        expect(performance.now() - t0).toBeLessThan(2000);
      } finally {
        sim.ctx.options.cdnConnBytesPerSec = 0;
        sim.ctx.catalog.restore(song.item.song_id);
      }
      // The cut connection is no longer counted as active.
      for (let i = 0; i < 50 && (await sim.ctx.metrics.activeDownloads.get()).values[0]?.value !== 0; i++) {
        await new Promise((res) => setTimeout(res, 20));
      }
      expect((await sim.ctx.metrics.activeDownloads.get()).values[0]?.value).toBe(0);
    });
  }
});

describe("unshaped downloads", () => {
  it("render a cold file one piece per event-loop turn: a download never holds the simulator's loop for a whole file", async () => {
    const song = findSong(sim, () => true, 12);
    const r = await resource(sim, alice, song, 2);
    // Not rendered yet (but for the first chunk, warmed at issue): the piece stream renders it as it goes.
    // Once rendered, a file goes in one write that libuv sends without the loop (fast-path.test.ts).
    const pieces = Math.ceil(r.size / 65_536);
    expect(pieces).toBeGreaterThan(8);
    // A ticker that runs once per turn of this (the simulator's) event loop while the file is sent.
    let turns = 0;
    let on = true;
    const tick = () => {
      turns++;
      if (on) setImmediate(tick);
    };
    setImmediate(tick);
    const full = await get(sim, r.id, alice);
    on = false;
    expect(full.body.length).toBe(r.size);
    expect(turns).toBeGreaterThanOrEqual(pieces - 1);
  });

  it("give the same bytes as the shaped piece stream and as one rendering of the file", async () => {
    const song = findSong(sim, (f) => f.has_original === 1, 13);
    const r = await resource(sim, alice, song, 2);
    const fast = await get(sim, r.id, alice);
    const range = `bytes=70001-${70_000 + 150_000}`;
    const fastPart = await get(sim, r.id, { ...alice, range });
    // The same bytes through the shaped stream: 400 kB/s makes 20,000-byte pieces, cut across chunks.
    sim.ctx.options.cdnConnBytesPerSec = 400_000;
    let shaped: Awaited<ReturnType<typeof get>>;
    try {
      shaped = await get(sim, r.id, { ...alice, range });
    } finally {
      sim.ctx.options.cdnConnBytesPerSec = 0;
    }
    expect(shaped.status).toBe(206);
    expect(shaped.body.equals(fastPart.body)).toBe(true);
    expect(fastPart.body.equals(fast.body.subarray(70_001, 70_001 + 150_000))).toBe(true);
    // And the file rendered in one call, outside the CDN's chunks and cache.
    const facts = sim.ctx.catalog.get(song.item.song_id)!;
    const rec = sim.ctx.resources.get(r.id)!;
    const file = audioFileFor(rec, facts);
    expect(renderBytes(file, 0, file.size).equals(fast.body)).toBe(true);
  });
});

describe("determinism across simulators", () => {
  it("two simulators with the same seed serve identical files for the same song, type and quality", async () => {
    const other = await testSimulator();
    try {
      const carol = await session(other.url, "carol");
      const song = findSong(sim, (f) => f.has_original === 1, 11);
      expect(findSong(other, (f) => f.has_original === 1, 11).item.song_id).toBe(song.item.song_id);
      for (const [type, quality] of [
        [2, 0],
        [0, 1],
      ] as const) {
        const r1 = await resource(sim, alice, song, type, quality);
        const r2 = await resource(other, carol, song, type, quality);
        expect(r1.size).toBe(r2.size);
        const f1 = await get(sim, r1.id, alice);
        const f2 = await get(other, r2.id, carol);
        expect(f1.headers.get("etag")).toBe(f2.headers.get("etag"));
        expect(sha(f1.body)).toBe(sha(f2.body));
        expect(f1.body.length).toBe(r1.size);
      }
    } finally {
      await other.close();
    }
  });
});
