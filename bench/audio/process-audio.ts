import { spawnSync } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import {
  type AudioArenaHandle,
  createAudioArena,
  createThreadAudio,
  type StreamCursor,
} from "../../reference/audio/index.ts";
import { profileForSeed } from "../../reference/audio/shared-voice.ts";
import { allocFrame } from "../../reference/mixer/frame.ts";
import { MemoryCache } from "../../reference/music/cache.ts";
import { wavBytes } from "../../reference/music/test-fixtures.ts";

// Shared audio per worker thread (each thread renders every song it plays, in its own store) against shared
// audio per process (one AudioArena: each song and voice rendered once, by whichever thread needs a chunk
// first). W worker threads, each with V VUs spread over S songs (normal tier: 8 kHz, two mono tracks; a fresh
// download per VU, verified into a memory cache and interned) and 8 voice profiles, every VU reading its song
// and its voice for T seconds, frame by frame round-robin as a worker's clock would. Each case in a fresh
// process, cases alternated over rounds, medians printed with the load average:
//   render_cpu_ms: the process's CPU from "go" to the last thread done: opening, rendering and reading;
//   rss_mb:        process RSS after the play (songs, renderings and VUs of every thread);
//   arena_mb:      arena bytes written (process cases: "process" has the defaults, stereo songs and mono voices;
//                  "process-mono" also keeps the songs' mono tracks mono).
// Usage: npx tsx bench/audio/process-audio.ts [--threads 2] [--vus 150] [--songs 20] [--seconds 30] [--rounds 3]

const PITCH = Array.from({ length: 40 }, (_, i) => ({
  begin_time: i * 1500,
  duration: 1200,
  value: 55 + ((i * 7) % 20),
}));

interface Job {
  module: string;
  arena: AudioArenaHandle | null;
  /** Songs' mono tracks stored mono in the arena (voices are, by default). */
  mono: boolean;
  songs: Uint8Array[];
  vus: number;
  frames: number;
  index: number;
}

async function workerBody(job: Job): Promise<void> {
  // Loaded: wait for every thread, so the process's CPU from "go" on is the audio work alone.
  await new Promise<void>((go) => {
    parentPort!.once("message", () => go());
    parentPort!.postMessage("ready");
  });
  const audio = createThreadAudio({ arena: job.arena, monoStorage: job.mono });
  const songCursors: StreamCursor[] = [];
  const voiceCursors: StreamCursor[] = [];
  for (let v = 0; v < job.vus; v++) {
    const s = (v * 7 + job.index) % job.songs.length;
    // The VU's own download into its memory cache, then interned (per thread, or the process's copy).
    const cache = new MemoryCache(audio.pool);
    const key = { vendorID: 0, songID: `s${s}`, resourceType: 1, quality: 0 };
    const part = await cache.begin(key, job.songs[s]!.length);
    await part.write(job.songs[s]!.slice(), 0);
    await cache.commit(key, part, { etag: "e", size: await part.finish() });
    const song = audio.songs.open(cache.locate(key)!.bytes, "normal");
    songCursors.push(song.cursor(0, 0));
    voiceCursors.push(audio.voices.cursor(PITCH, profileForSeed(v + job.index * 1000, 8), 0));
  }
  const out = allocFrame();
  for (let f = 0; f < job.frames; f++) {
    for (let v = 0; v < job.vus; v++) {
      songCursors[v]!.read(out);
      voiceCursors[v]!.read(out);
    }
  }
  parentPort!.postMessage("done");
}

type Mode = "thread" | "process" | "process-mono";

async function runCase(mode: Mode, threads: number, vus: number, songs: number, seconds: number) {
  const bytes = Array.from({ length: songs }, (_, k) =>
    wavBytes(8000 * 60, 8000, 2, (i, c) => (((i * (37 + k)) % 8000) - 4000) * (c ? 1 : 2)),
  );
  const arena = mode === "thread" ? null : createAudioArena();
  const boot = new URL("./thread-boot.mjs", import.meta.url);
  const module = import.meta.url;
  const workers = Array.from({ length: threads }, (_, index) => {
    const job: Job = {
      module,
      arena,
      mono: mode === "process-mono",
      songs: bytes,
      vus,
      frames: seconds * 100,
      index,
    };
    return new Worker(boot, { workerData: job });
  });
  const next = (w: Worker) =>
    new Promise<void>((resolve, reject) => {
      w.once("message", () => resolve());
      w.once("error", reject);
    });
  await Promise.all(workers.map(next));
  const c0 = process.cpuUsage();
  const done = Promise.all(workers.map(next));
  for (const w of workers) w.postMessage("go");
  await done;
  const c = process.cpuUsage(c0);
  // All threads alive (their VUs hold their cursors): the RSS of everything.
  const rss = process.memoryUsage().rss;
  for (const w of workers) await w.terminate();
  const used = arena ? new Int32Array(arena.control)[0]! * 16 : 0;
  return {
    render_cpu_ms: (c.user + c.system) / 1000,
    rss_mb: rss / 1048576,
    arena_mb: used / 1048576,
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

if (!isMainThread) {
  await workerBody(workerData as Job);
} else {
  const { values } = parseArgs({
    options: {
      threads: { type: "string", default: "2" },
      vus: { type: "string", default: "150" },
      songs: { type: "string", default: "20" },
      seconds: { type: "string", default: "30" },
      rounds: { type: "string", default: "3" },
      child: { type: "string" },
    },
  });
  const [T, V, S, SEC] = [values.threads, values.vus, values.songs, values.seconds].map(Number) as [
    number,
    number,
    number,
    number,
  ];
  if (values.child) {
    console.log(JSON.stringify(await runCase(values.child as Mode, T, V, S, SEC)));
    process.exit(0);
  }
  const self = fileURLToPath(import.meta.url);
  const args = ["--threads", String(T), "--vus", String(V), "--songs", String(S), "--seconds", String(SEC)];
  const child = (mode: string) => {
    const r = spawnSync(process.execPath, ["--import", "tsx", self, "--child", mode, ...args], {
      encoding: "utf8",
      maxBuffer: 1 << 20,
    });
    if (r.status !== 0) throw new Error(`${mode} failed: ${r.stderr}`);
    return JSON.parse(r.stdout.trim().split("\n").at(-1)!) as Record<string, number>;
  };
  const la = () =>
    loadavg()
      .map((x) => x.toFixed(2))
      .join(" ");
  console.log(
    `process audio bench: ${T} threads x ${V} VUs on ${S} songs (8 kHz dual mono, 60 s), ${SEC} s of song + voice; ` +
      `${values.rounds} rounds; ${cpus().length} CPUs; load average ${la()}`,
  );
  const res: Record<string, Record<string, number[]>> = {};
  for (let i = 0; i < Number(values.rounds); i++) {
    const modes = ["thread", "process", "process-mono"];
    for (const mode of i % 2 === 0 ? modes : modes.reverse()) {
      const r = child(mode);
      const f = res[mode] ?? {};
      res[mode] = f;
      for (const [k, v] of Object.entries(r)) f[k] = [...(f[k] ?? []), v];
    }
  }
  for (const [mode, fields] of Object.entries(res)) {
    const line = Object.entries(fields)
      .map(([k, xs]) => `${k} ${median(xs).toFixed(1)} [${xs.map((x) => x.toFixed(1)).join(" ")}]`)
      .join("  ");
    console.log(`${mode.padEnd(15)} ${line}`);
  }
  console.log(`load average after: ${la()}`);
}
