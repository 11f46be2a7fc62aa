import { describe, expect, it } from "vitest";
import { allocFrame, FRAME_FRAMES } from "../mixer/frame.ts";
import { VoiceSource } from "../mixer/voice.ts";
import { wavBytes } from "../music/test-fixtures.ts";
import { ContentPool, contentHint } from "./content-pool.ts";
import { SharedAudioStore } from "./shared-audio.ts";
import { profileForSeed, SharedVoiceStore, voiceProfile } from "./shared-voice.ts";

// The stores on their own: content keying, refcounts and eviction, and the shared voice against VoiceSource.
// (Bit-identity of the accompaniment with the per-VU player path: player/shared-playback.test.ts.)

const song = (f: (i: number) => number, frames = 8000) => wavBytes(frames, 8000, 1, (i) => f(i));

function pull(c: { read(out: Int16Array): number }, frames: number): Int16Array[] {
  const out = allocFrame();
  const got: Int16Array[] = [];
  for (let i = 0; i < frames; i++) {
    c.read(out);
    got.push(out.slice());
  }
  return got;
}

describe("ContentPool", () => {
  it("equal bytes in different buffers are one content; the last release drops it", () => {
    const pool = new ContentPool();
    const a = song((i) => i % 1000);
    const b = a.slice();
    const ra = pool.intern(a);
    const rb = pool.intern(b);
    expect(rb).toBe(ra);
    expect(rb.bytes).toBe(a); // the first copy is the one kept
    expect(pool.stats).toEqual({ contents: 1, bytes: a.length });
    pool.release(ra);
    expect(pool.stats.contents).toBe(1);
    pool.release(rb);
    expect(pool.stats.contents).toBe(0);
    expect(() => pool.release(rb)).toThrow(/released/);
    expect(pool.intern(b).id).not.toBe(ra.id); // a new content, never a stale id
  });

  it("bytes that differ only where the hint does not look are still different contents", () => {
    const pool = new ContentPool();
    const a = new Uint8Array(200_000).fill(7);
    const b = a.slice();
    b[5000] = 8; // inside the file, between the hint's stripes
    expect(contentHint(b)).toBe(contentHint(a)); // a hint collision...
    const ra = pool.intern(a);
    const rb = pool.intern(b);
    expect(rb.id).not.toBe(ra.id); // ...settled by comparing the bytes
    expect(pool.compares).toBe(1);
  });
});

describe("SharedAudioStore", () => {
  it("two different files under the same song never share; the same bytes do", () => {
    const store = new SharedAudioStore({ chunkFrames: 4800 });
    // Same song id, same size, same header: different audio (a re-encoded file, or a vendor's mistake).
    const first = store.open(
      song((i) => 1000 + (i % 50)),
      "normal",
    );
    const second = store.open(
      song((i) => -1000 - (i % 70)),
      "normal",
    );
    const again = store.open(
      song((i) => 1000 + (i % 50)),
      "normal",
    );
    const c1 = first.cursor(0, 0);
    const c2 = second.cursor(0, 0);
    const c3 = again.cursor(0, 0);
    expect(c2.stream).not.toBe(c1.stream);
    expect(c3.stream).toBe(c1.stream);
    const [a, b, c] = [pull(c1, 5), pull(c2, 5), pull(c3, 5)];
    expect(a[4]![0]).toBeGreaterThan(0);
    expect(b[4]![0]).toBeLessThan(0);
    expect(c).toEqual(a);
    expect(store.stats.contents).toBe(2);
    expect(store.stats.created).toBe(2);
  });

  it("start frame, track and layout are part of the key", () => {
    const store = new SharedAudioStore({ chunkFrames: 4800 });
    const bytes = wavBytes(8000, 8000, 2, (i, c) => (c ? -i : i) % 3000);
    const dual = store.open(bytes, "normal"); // 2 mono tracks
    const stereo = store.open(bytes, "hq"); // 1 stereo track
    const cs = [
      dual.cursor(0, 0),
      dual.cursor(1, 0),
      dual.cursor(0, 800),
      stereo.cursor(0, 0),
      dual.cursor(0, 0),
    ];
    const streams = new Set(cs.map((c) => c.stream));
    expect(streams.size).toBe(4);
    expect(cs[4]!.stream).toBe(cs[0]!.stream);
    expect(store.stats.contents).toBe(1);
  });

  it("evicts streams nobody reads, oldest first, only beyond the budget; read streams stay", () => {
    const chunkBytes = 4800 * 4;
    // What one unfinished stream keeps alive after one chunk: its rendering, the song's bytes, its resampler.
    const probe = new SharedAudioStore({ chunkFrames: 4800 })
      .open(
        song((i) => i % 2000),
        "normal",
      )
      .cursor(0, 0);
    pull(probe, 1);
    const held = probe.stream.heldBytes;
    expect(held).toBeGreaterThan(chunkBytes + 16_000);
    const store = new SharedAudioStore({ chunkFrames: 4800, budgetBytes: 2 * held + 100 });
    const songs = [1, 2, 3].map((k) =>
      store.open(
        song((i) => (i * k) % 2000),
        "normal",
      ),
    );
    const cursors = songs.map((s) => s.cursor(0, 0));
    for (const c of cursors) pull(c, 1); // one chunk rendered each: 3 streams > budget, but all are read
    expect(store.stats).toMatchObject({
      streams: 3,
      idle: 0,
      evicted: 0,
      bytes: 3 * chunkBytes,
      heldBytes: 3 * held,
    });
    cursors[0]!.close();
    // Over budget with one idle stream: it goes, and its song's bytes with it once the song is closed.
    expect(store.stats).toMatchObject({ streams: 2, idle: 0, evicted: 1 });
    expect(cursors[0]!.stream.disposed).toBe(true);
    songs[0]!.close();
    expect(store.stats.contents).toBe(2);
    cursors[1]!.close();
    expect(store.stats).toMatchObject({ streams: 2, idle: 1, evicted: 1 }); // within budget: kept warm
    const warm = songs[1]!.cursor(0, 0);
    expect(warm.stream).toBe(cursors[1]!.stream);
    expect(warm.stream.renders).toBe(1);
    warm.close();
    store.trim();
    expect(store.stats).toMatchObject({ streams: 1, idle: 0, evicted: 2 });
  });

  it("a fully rendered stream lets go of the song's bytes and its resampler", () => {
    const store = new SharedAudioStore({ chunkFrames: 4800 });
    const s = store.open(
      song((i) => i % 100, 800),
      "normal",
    ); // 0.1 s
    const c = s.cursor(0, 0);
    const frames = pull(c, 12);
    expect(c.stream.complete).toBe(true);
    expect(frames[11]!.every((x) => x === 0)).toBe(true);
    s.close();
    expect(store.stats.contents).toBe(0); // only the rendered stream remains
    expect(c.read(allocFrame())).toBe(0);
  });
});

describe("SharedVoiceStore", () => {
  const PITCH = [
    { begin_time: 0, duration: 400, value: 60 },
    { begin_time: 450, duration: 700, value: 64 },
    { begin_time: 1300, duration: 500, value: 67 },
  ];

  it("equals a VoiceSource with the profile's options, from 0 and from a start position, to past the end", () => {
    const store = new SharedVoiceStore({ chunkFrames: 4800 });
    for (const k of [0, 1, 5]) {
      for (const startMs of [0, 455]) {
        const p = voiceProfile(k);
        const ref = new VoiceSource(PITCH, { ...p, startMs });
        const cur = store.cursor(PITCH, p, startMs);
        const out = allocFrame();
        const want = allocFrame();
        for (let f = 0; f < 200; f++) {
          expect(cur.read(out)).toBe(ref.read(want));
          if (!Buffer.from(out.buffer).equals(Buffer.from(want.buffer)))
            throw new Error(`frame ${f} differs`);
        }
        cur.close();
      }
    }
  });

  it("VUs on one (pitch line, profile, start) share one rendering; the pitch line's content is the key", () => {
    const store = new SharedVoiceStore({ chunkFrames: 4800 });
    const p = profileForSeed(12345, 4);
    expect(p).toEqual(voiceProfile(12345 % 4));
    const a = store.cursor(PITCH, p, 0);
    const b = store.cursor(
      PITCH.map((n) => ({ ...n })),
      p,
      0,
    );
    const c = store.cursor([{ ...PITCH[0]!, value: 61 }, ...PITCH.slice(1)], p, 0);
    expect(b.stream).toBe(a.stream);
    expect(c.stream).not.toBe(a.stream);
    pull(a, 30);
    pull(b, 30);
    expect(a.stream.renders).toBe(3);
    expect(store.stats.created).toBe(2);
    expect(a.position).toBe(30 * FRAME_FRAMES);
  });
});
