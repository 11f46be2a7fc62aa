import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ContentPool, contentHint } from "../../reference/audio/content-pool.ts";
import { createThreadAudio, type StreamCursor, type ThreadAudio } from "../../reference/audio/index.ts";
import { profileForSeed } from "../../reference/audio/shared-voice.ts";
import { allocFrame } from "../../reference/mixer/frame.ts";
import { Mixer } from "../../reference/mixer/mixer.ts";
import type { PcmSource } from "../../reference/mixer/source.ts";
import { VoiceSource } from "../../reference/mixer/voice.ts";
import { MemoryCache } from "../../reference/music/cache.ts";
import { wavBytes } from "../../reference/music/test-fixtures.ts";
import { MediaPlayerFactory } from "../../reference/player/factory.ts";
import type { ZegoMediaPlayer } from "../../reference/player/media-player.ts";
import type { PlayableLookup } from "../../reference/player/resources.ts";

// Per-VU audio (today: a WAV file reader, a 16 k-frame track block and a resampler per player, a voice
// synthesised per VU) against the worker's shared audio (reference/audio: one resampled copy per song and
// thread, one rendering per voice profile, downloads interned in memory). Two measures, each case in a fresh
// process, cases alternated over rounds, medians printed with the load average:
//   cpu:    CPU time per 10 ms frame of one VU's player read and of its voice read, N VUs on 3 songs pulled
//           round-robin as a worker's clock would; the shared path's rendering is included (amortised), and
//           "warm" is N more VUs on the same songs (the renderings exist: the pure per-VU cost).
//   memory: retained bytes per VU (heapUsed + external after GC; arrayBuffers is part of external) with N VUs
//           each holding a player, a voice and a Mixer of the two, after 5 s of play; the slope between N/2
//           and N VUs is the cost per VU beyond the fixed base (the songs, the shared renderings).
// Usage: npx tsx bench/audio/shared-audio.ts [--vus 200] [--rounds 5] [--seconds 5] [--only cpu|memory]

const SONG_SECONDS = 180;
const PITCH = Array.from({ length: 120 }, (_, i) => ({
  begin_time: i * 1500,
  duration: 1200,
  value: 55 + ((i * 7) % 20),
}));

/** 3 songs at the normal tier with an original track (8 kHz, 2 mono tracks), as the load scenarios download. */
function songs(): Uint8Array[] {
  return [1, 2, 3].map((k) =>
    wavBytes(8000 * SONG_SECONDS, 8000, 2, (i, c) => (((i * (37 + k)) % 8000) - 4000) * (c ? 1 : 2)),
  );
}

interface Vu {
  player: ZegoMediaPlayer;
  voice: PcmSource & { close?: () => void };
  mixer: Mixer;
  cache?: MemoryCache;
}

/** The worker's shared audio: one per process, as one per worker thread. */
let audio: ThreadAudio | null = null;

async function makeVus(mode: "old" | "shared", n: number, dir: string, bytes: Uint8Array[]): Promise<Vu[]> {
  const paths = bytes.map((b, i) => {
    const p = join(dir, `song${i}.wav`);
    writeFileSync(p, b);
    return p;
  });
  audio = mode === "shared" ? (audio ?? createThreadAudio()) : null;
  const vus: Vu[] = [];
  for (let v = 0; v < n; v++) {
    const s = v % bytes.length;
    let lookup: PlayableLookup;
    let cache: MemoryCache | undefined;
    if (audio) {
      // The VU's own download into its memory cache: every byte written, then interned (one copy per thread).
      cache = new MemoryCache(audio.pool);
      const key = { vendorID: 0, songID: `s${s}`, resourceType: 1, quality: 0 };
      const part = await cache.begin(key, bytes[s]!.length);
      await part.write(bytes[s]!.slice(), 0);
      await cache.commit(key, part, { etag: "e", size: await part.finish() });
      const found = cache.locate(key)!;
      lookup = { errorCode: 0, path: found.path, bytes: found.bytes, quality: "normal", audio: audio.songs };
    } else {
      lookup = { errorCode: 0, path: paths[s]!, quality: "normal" };
    }
    const mixer = new Mixer();
    const player = await new MediaPlayerFactory({
      resources: { resolvePlayable: () => lookup },
      mixer,
    }).createMediaPlayer();
    await player.setProgressInterval(0);
    await player.loadCopyrightedMusicResourceWithPosition("x", 0);
    await player.enableAux(true);
    await player.start();
    const seed = 1 + v;
    const voice: Vu["voice"] = audio
      ? (audio.voices.cursor(PITCH, profileForSeed(seed, 8), 0) as StreamCursor)
      : new VoiceSource(PITCH, { seed });
    mixer.add(voice, {});
    vus.push({ player, voice, mixer, ...(cache ? { cache } : {}) });
  }
  return vus;
}

async function cpuRun(mode: "old" | "shared", n: number, frames: number) {
  const dir = mkdtempSync(join(tmpdir(), "ktv-bench-audio-"));
  try {
    const bytes = songs();
    const s0 = process.cpuUsage();
    const vus = await makeVus(mode, n, dir, bytes);
    const setup = process.cpuUsage(s0);
    const out = allocFrame();
    // The player and the voice in separate passes (µs per VU per 10 ms frame each), VUs round-robin per frame.
    const pull = (group: Vu[], read: (vu: Vu) => void) => {
      const c0 = process.cpuUsage();
      for (let f = 0; f < frames; f++) for (const vu of group) read(vu);
      const c = process.cpuUsage(c0);
      return (c.user + c.system) / (group.length * frames);
    };
    const player = (vu: Vu) => vu.player.source.read(out);
    const voice = (vu: Vu) => vu.voice.read(out);
    const first = { player: pull(vus, player), voice: pull(vus, voice) };
    // N more VUs on the same songs: for the shared path the renderings exist (a warm worker), so this is the
    // pure per-VU cost; for the per-VU path it is the same work again.
    const more = await makeVus(mode, n, dir, bytes);
    const warm = { player: pull(more, player), voice: pull(more, voice) };
    return {
      player_us: first.player,
      voice_us: first.voice,
      warm_player_us: warm.player,
      warm_voice_us: warm.voice,
      setup_ms_per_vu: (setup.user + setup.system) / 1000 / n,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function retained(): number {
  (globalThis as { gc?: () => void }).gc?.();
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

async function memoryRun(mode: "old" | "shared", n: number, frames: number) {
  const dir = mkdtempSync(join(tmpdir(), "ktv-bench-audio-"));
  try {
    const bytes = songs();
    const all: Vu[] = [];
    const base = retained();
    const marks: number[] = [];
    for (const size of [n / 2, n / 2]) {
      const vus = await makeVus(mode, size, dir, bytes);
      all.push(...vus);
      const out = allocFrame();
      for (let f = 0; f < frames; f++) for (const vu of vus) vu.mixer.mix(out);
      marks.push(retained());
    }
    const alive = all.length;
    return {
      per_vu_kb: (marks[1]! - base) / alive / 1024,
      slope_kb: (marks[1]! - marks[0]!) / (n / 2) / 1024,
      total_mb: (marks[1]! - base) / 1048576,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What keying by content costs per download, on one song's bytes (an equal copy, as a second VU has). */
function contentRun() {
  const song = songs()[0]!;
  const copy = song.slice();
  const time = (f: () => unknown, reps = 15) => {
    const xs: number[] = [];
    for (let i = 0; i < reps; i++) {
      const c0 = process.cpuUsage();
      f();
      const c = process.cpuUsage(c0);
      xs.push((c.user + c.system) / 1000);
    }
    return median(xs);
  };
  const pool = new ContentPool();
  pool.intern(song);
  const mb = song.length / 1e6;
  return {
    mb,
    hint_ms: time(() => contentHint(copy)),
    intern_equal_ms: time(() => pool.release(pool.intern(copy))),
    copy_ms: time(() => copy.slice(0)),
    sha256_ms: time(() => createHash("sha256").update(copy).digest()),
    sha1_ms: time(() => createHash("sha1").update(copy).digest()),
    md5_ms: time(() => createHash("md5").update(copy).digest()),
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const { values } = parseArgs({
  options: {
    vus: { type: "string", default: "200" },
    rounds: { type: "string", default: "5" },
    seconds: { type: "string", default: "5" },
    child: { type: "string" },
    only: { type: "string" },
    mode: { type: "string" },
  },
});
const N = Number(values.vus);
const FRAMES = Number(values.seconds) * 100;

if (values.child) {
  const mode = values.mode as "old" | "shared";
  const r =
    values.child === "cpu"
      ? await cpuRun(mode, N, FRAMES)
      : values.child === "memory"
        ? await memoryRun(mode, N, FRAMES)
        : contentRun();
  console.log(JSON.stringify(r));
  process.exit(0);
}

const self = fileURLToPath(import.meta.url);
function child(kind: string, mode: string): Record<string, number> {
  const r = spawnSync(
    process.execPath,
    [
      "--expose-gc",
      "--import",
      "tsx",
      self,
      "--child",
      kind,
      "--mode",
      mode,
      "--vus",
      String(N),
      "--seconds",
      String(FRAMES / 100),
    ],
    { encoding: "utf8", maxBuffer: 1 << 20 },
  );
  if (r.status !== 0) throw new Error(`${kind}/${mode} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").at(-1)!) as Record<string, number>;
}

const rounds = Number(values.rounds);
console.log(
  `shared audio bench: ${N} VUs on 3 songs (normal tier, dual track, ${SONG_SECONDS} s), ${FRAMES / 100} s of play; ` +
    `${rounds} rounds; ${cpus().length} CPUs; load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")}`,
);
const res: Record<string, Record<string, number[]>> = {};
const keep = (name: string, r: Record<string, number>) => {
  const fields = res[name] ?? {};
  res[name] = fields;
  for (const [k, v] of Object.entries(r)) fields[k] = [...(fields[k] ?? []), v];
};
for (let i = 0; i < rounds; i++) {
  const order = i % 2 === 0 ? ["old", "shared"] : ["shared", "old"];
  for (const kind of ["cpu", "memory"].filter((k) => !values.only || values.only === k)) {
    for (const mode of order) {
      const r = child(kind, mode);
      keep(`${kind}/${mode}`, r);
    }
  }
}
for (let i = 0; i < 3; i++) {
  keep("content", child("content", "-"));
}
for (const [name, fields] of Object.entries(res)) {
  const line = Object.entries(fields)
    .map(([k, xs]) => `${k} ${median(xs).toFixed(2)} [${xs.map((x) => x.toFixed(1)).join(" ")}]`)
    .join("  ");
  console.log(`${name.padEnd(14)} ${line}`);
}
console.log(
  `load average after: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}`,
);
