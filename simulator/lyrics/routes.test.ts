import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, session, testSimulator } from "../../test/sim.ts";
import type { Simulator } from "../app.ts";
import type { SongFacts } from "../catalog/types.ts";
import { manualClock } from "../clock.ts";
import { estimatePitchHz } from "../music/pitch-estimate.ts";
import { hzToMidi } from "../music/theory.ts";
import { type AppConfig, DEV_APP } from "../options.ts";
import { parseKrc } from "./krc.ts";
import { parseLrcLines } from "./lrc.ts";

// Lyrics and pitch over real HTTP: the three answers agree with each other and with the downloaded audio.

const OTHER_APP: AppConfig = {
  app_id: 1000000002,
  app_sign: "fedcba9876543210".repeat(4),
  token_secret: "fedcba9876543210fedcba9876543210",
};
const KRC_TTL = 600_000;
const clock = manualClock();
let sim: Simulator;
let alice: Record<string, string>;
let bob: Record<string, string>;
let stranger: Record<string, string>;

beforeAll(async () => {
  sim = await testSimulator({ apps: [DEV_APP, OTHER_APP], clock, krcTokenTtlMs: KRC_TTL });
  alice = await session(sim.url, "alice");
  bob = await session(sim.url, "bob");
  const r = await call(sim.url, "POST", "/v1/music/init", {
    headers: { "x-app-id": String(OTHER_APP.app_id), "x-app-sign": OTHER_APP.app_sign },
    body: { user_id: "stranger" },
  });
  stranger = {
    "x-app-id": String(OTHER_APP.app_id),
    "x-app-sign": OTHER_APP.app_sign,
    "x-session": r.body.data.session,
  };
});
afterAll(() => sim.close());

function findSong(pred: (f: SongFacts) => boolean): SongFacts {
  for (let i = 0; i < sim.ctx.catalog.size; i++) {
    const f = sim.ctx.catalog.at(i);
    const usable =
      f.item.vendor_id === 0 && f.item.copyright.song_lyric === 1 && f.item.copyright.recording === 1;
    if (usable && f.has_accompaniment && f.item.has_clip === 1 && pred(f)) return f;
  }
  throw new Error("no such song in the test catalog");
}

async function resource(headers: Record<string, string>, song: SongFacts, resource_type: number) {
  const r = await call(sim.url, "POST", "/v1/music/resource", {
    headers,
    body: { song_id: song.item.song_id, resource_type, billing_mode: 0, vendor_id: 0 },
  });
  expect(r.body.code, JSON.stringify(r.body)).toBe(0);
  return {
    id: r.body.data.resources[0].resource_id as string,
    krc: r.body.data.krc_token as string | undefined,
  };
}

const lrc = (headers: Record<string, string>, q: string) =>
  call(sim.url, "GET", `/v1/music/lyrics/lrc${q}`, { headers });
const krc = (headers: Record<string, string>, token: string) =>
  call(sim.url, "GET", `/v1/music/lyrics/krc?krc_token=${encodeURIComponent(token)}`, { headers });
const pitch = (headers: Record<string, string>, id: string) =>
  call(sim.url, "GET", `/v1/music/pitch?resource_id=${encodeURIComponent(id)}`, { headers });

describe("LRC route", () => {
  it("answers raw LRC and its JSON view", async () => {
    const song = findSong((f) => f.has_krc);
    const r = await lrc(alice, `?song_id=${song.item.song_id}&vendor_id=0`);
    expect(r.status).toBe(200);
    expect(r.body.code).toBe(0);
    const d = r.body.data;
    expect(d.lyrics).toContain(`[ti:${song.item.song_name}]`);
    expect(d.lrc_format).toBe(d.lyrics);
    expect(d).toMatchObject({ ti: song.item.song_name, ar: song.item.singer_name, offset: "0" });
    expect(d.lenght).toBe(String(d.total));
    const parsed = parseLrcLines(d.lyrics);
    expect(parsed.map((p) => p.content)).toEqual(d.lines.map((l: { content: string }) => l.content));
    expect(d.lines[0].begin_time).toBe(song.intro_end);
    // Without vendor_id the default vendor (0) is meant.
    expect((await lrc(alice, `?song_id=${song.item.song_id}`)).body.code).toBe(0);
  });

  it("answers the vendor's error codes", async () => {
    const song = findSong(() => true);
    expect((await lrc(alice, "")).body.code).toBe(1017002);
    expect((await lrc(alice, "?song_id=")).body.code).toBe(1017002);
    expect((await lrc(alice, "?song_id=nope-123")).body.code).toBe(1017048);
    expect((await lrc(alice, `?song_id=${song.item.song_id}&vendor_id=1`)).body.code).toBe(1017072);
    expect((await lrc(alice, `?song_id=${song.item.song_id}&vendor_id=3`)).body.code).toBe(1017071);
    expect((await lrc(alice, `?song_id=${song.item.song_id}&vendor_id=x`)).body.code).toBe(1017071);
    const anon = await call(sim.url, "GET", `/v1/music/lyrics/lrc?song_id=${song.item.song_id}`);
    expect(anon.status).toBe(401);
    sim.ctx.catalog.revoke(song.item.song_id);
    try {
      const r = await lrc(alice, `?song_id=${song.item.song_id}`);
      expect(r.status).toBe(200);
      expect(r.body.code).toBe(1017030);
      expect(r.body.data).toBeNull();
    } finally {
      sim.ctx.catalog.restore(song.item.song_id);
    }
  });
});

describe("KRC route", () => {
  it("answers word-timed lyrics whose words are the pitch line's notes and whose lines are the LRC's", async () => {
    const song = findSong((f) => f.has_krc && f.has_pitch);
    const acc = await resource(alice, song, 1);
    const k = await krc(alice, acc.krc!);
    expect(k.body.code).toBe(0);
    const d = k.body.data;
    expect(d.krc_format).toBe(d.lyrics);
    expect(d.krc_format_offset).toBe(0);
    expect(parseKrc(d.lyrics)).toEqual(d.lines);
    const p = await pitch(alice, acc.id);
    expect(p.body.code).toBe(0);
    type Line = { begin_time: number; words: { offset: number; duration: number }[] };
    const words = (d.lines as Line[]).flatMap((l) =>
      l.words.map((w) => [l.begin_time + w.offset, w.duration]),
    );
    const notes = (p.body.data.pitch as { begin_time: number; duration: number }[]).map((n) => [
      n.begin_time,
      n.duration,
    ]);
    expect(words).toEqual(notes);
    const l = await lrc(alice, `?song_id=${song.item.song_id}`);
    expect((d.lines as Line[]).map((x) => x.begin_time)).toEqual(
      l.body.data.lines.map((x: { begin_time: number }) => x.begin_time),
    );
  });

  it("answers 1017008 / 1017046 / 1017047 / 1017048 for bad tokens and songs without word lyrics", async () => {
    const song = findSong((f) => f.has_krc);
    const acc = await resource(alice, song, 1);
    expect((await call(sim.url, "GET", "/v1/music/lyrics/krc", { headers: alice })).body.code).toBe(1017008);
    expect((await krc(alice, "")).body.code).toBe(1017008);
    expect((await krc(alice, "garbage")).body.code).toBe(1017046);
    const tampered = `${acc.krc!.slice(0, -3)}${acc.krc!.endsWith("AAA") ? "BBB" : "AAA"}`;
    expect((await krc(alice, tampered)).body.code).toBe(1017046);
    expect((await krc(stranger, acc.krc!)).body.code).toBe(1017046);
    // Another user of the same app may not: the token is bound to the user it was issued to (issue 12).
    const other = await krc(bob, acc.krc!);
    expect(other.body).toMatchObject({ code: 1017046, data: null });
    expect(other.body.message).toContain("another user");
    // Bob's own token for the same song reads it; Alice's still does.
    expect((await krc(bob, (await resource(bob, song, 1)).krc!)).body.code).toBe(0);
    expect((await krc(alice, acc.krc!)).body.code).toBe(0);

    // A token for a song without word-timed lyrics (the routes issue none; see the next test) answers 1017048.
    const plain = findSong((f) => !f.has_krc);
    const { krc_token } = sim.ctx.resources.krc.issue(
      plain.item.song_id,
      0,
      DEV_APP.app_id,
      "alice",
      clock.now(),
    );
    expect((await krc(alice, krc_token)).body.code).toBe(1017048);

    clock.advance(KRC_TTL + 1);
    try {
      expect((await krc(alice, acc.krc!)).body.code).toBe(1017047);
    } finally {
      clock.set(clock.startedAt);
    }
  });
});

describe("krc_token only where a KRC exists", () => {
  it("gives accompaniment, clip and shared results of a song without word-timed lyrics no krc_token", async () => {
    const plain = findSong((f) => !f.has_krc);
    for (const type of [1, 2, 3]) {
      const r = await call(sim.url, "POST", "/v1/music/resource", {
        headers: alice,
        body: { song_id: plain.item.song_id, resource_type: type, billing_mode: 0, vendor_id: 0 },
      });
      expect(r.body.code, JSON.stringify(r.body)).toBe(0);
      expect(r.body.data, `type ${type}`).not.toHaveProperty("krc_token");
      expect(r.body.data).not.toHaveProperty("krc_token_ttl");
    }
    // Every token a result does carry opens its KRC: the promise a client can rely on.
    const worded = findSong((f) => f.has_krc);
    for (const type of [1, 2, 3]) {
      const r = await resource(alice, worded, type);
      expect(r.krc, `type ${type}`).toBeTypeOf("string");
      expect((await krc(alice, r.krc!)).body.code).toBe(0);
    }
  });
});

describe("pitch route", () => {
  it("answers a clip's pitch from its own start: the first note comes right after the prelude", async () => {
    const song = findSong((f) => f.has_pitch);
    const clip = await resource(alice, song, 2);
    const p = await pitch(alice, clip.id);
    expect(p.body.code).toBe(0);
    const pts = p.body.data.pitch as { begin_time: number; duration: number; value: number }[];
    expect(pts[0]!.begin_time).toBe(song.clip.prelude_duration);
    for (const x of pts) {
      expect(x.value).toBeGreaterThanOrEqual(10);
      expect(x.value).toBeLessThanOrEqual(90);
      expect(x.begin_time + x.duration).toBeLessThanOrEqual(song.clip.segment_end - song.clip.segment_begin);
    }
  });

  it("answers 1017075 for a song resource or a song without pitch and 1017049 for other failures", async () => {
    const song = findSong((f) => f.has_pitch);
    const original = await resource(alice, song, 0);
    expect((await pitch(alice, original.id)).body.code).toBe(1017075);
    const flat = findSong((f) => !f.has_pitch);
    expect((await pitch(alice, (await resource(alice, flat, 1)).id)).body.code).toBe(1017075);

    const acc = await resource(alice, song, 1);
    expect((await call(sim.url, "GET", "/v1/music/pitch?resource_id=", { headers: alice })).body.code).toBe(
      1017004,
    );
    expect((await pitch(alice, "z_nope")).body.code).toBe(1017049);
    expect((await pitch(bob, acc.id)).body.code).toBe(1017049);
    sim.ctx.catalog.revoke(song.item.song_id);
    try {
      expect((await pitch(alice, acc.id)).body.code).toBe(1017049);
    } finally {
      sim.ctx.catalog.restore(song.item.song_id);
    }
    sim.ctx.resources.expire(acc.id);
    const expired = await pitch(alice, acc.id);
    expect(expired.body.code).toBe(1017049);
    expect(expired.body.message).toContain("1017019");
  });

  it("is what the downloaded original track sings", async () => {
    const song = findSong((f) => f.has_pitch && f.has_original === 1);
    const clip = await resource(alice, song, 2);
    const pts = (await pitch(alice, clip.id)).body.data.pitch as {
      begin_time: number;
      duration: number;
      value: number;
    }[];
    const res = await fetch(`${sim.url}/v1/music/download/${clip.id}`, { headers: alice });
    const wav = Buffer.from(await res.arrayBuffer());
    // Normal tier dual-track: 8 kHz, frames of [accompaniment, original] int16.
    const rate = 8000;
    const long = pts.filter((x) => x.duration >= 300);
    expect(long.length).toBeGreaterThan(5);
    for (const x of [long[0]!, long[Math.floor(long.length / 2)]!, long.at(-1)!]) {
      const mid = Math.round(((x.begin_time + x.duration / 2) * rate) / 1000);
      const voice = new Float64Array(1600);
      for (let i = 0; i < voice.length; i++) {
        const at = 44 + (mid - 800 + i) * 4;
        voice[i] = wav.readInt16LE(at + 2) - wav.readInt16LE(at);
      }
      const midi = hzToMidi(estimatePitchHz(voice, rate));
      expect(Math.abs(midi - x.value), `note at ${x.begin_time} ms`).toBeLessThan(0.5);
    }
  });
});
