import { parentPort, workerData } from "node:worker_threads";
import { allocFrame, FRAME_FRAMES } from "../mixer/frame.ts";
import { createThreadAudio, useProcessAudio } from "./index.ts";
import { allocStreamHeader, RenderedStream, StreamCursor } from "./rendered-stream.ts";
import { AudioArena, type AudioArenaHandle } from "./shared-arena.ts";

// A worker thread of cross-thread.test.ts. "song": opens the song's bytes on the process's arena and reads it
// through a cursor, after a barrier that starts every thread at once. "slow": reads a stream whose renderer
// writes each chunk slowly, sample by sample (chunk k is all k + 1), and reports any frame that was not whole.

interface Task {
  task: "song" | "slow";
  handle: AudioArenaHandle;
  barrier: SharedArrayBuffer;
  threads: number;
  bytes?: Uint8Array;
  quality?: "normal" | "hq" | "sq";
  track?: number;
  frames: number;
  chunkFrames: number;
}

const t = workerData as Task;

function barrier(): void {
  const b = new Int32Array(t.barrier);
  Atomics.add(b, 0, 1);
  Atomics.notify(b, 0);
  for (;;) {
    const n = Atomics.load(b, 0);
    if (n >= t.threads) return;
    Atomics.wait(b, 0, n, 100);
  }
}

class SlowStream extends RenderedStream {
  protected render(out: Int16Array, frames: number, from: number): number {
    const k = from / this.chunkFrames;
    const n = k >= 20 ? 0 : frames;
    for (let i = 0; i < n * 2; i++) {
      out[i] = k + 1;
      // ~10 µs per 100 samples: a chunk takes a few ms to fill, a long window for a reader to see it unfinished.
      if (i % 100 === 0) {
        const until = performance.now() + 0.01;
        while (performance.now() < until) {}
      }
    }
    return n;
  }
}

if (t.task === "song") {
  useProcessAudio(t.handle);
  const audio = createThreadAudio({ chunkFrames: t.chunkFrames });
  const song = audio.songs.open(t.bytes!, t.quality!);
  const cursor = song.cursor(t.track ?? 0, 0);
  barrier();
  const pcm = new Int16Array(t.frames * FRAME_FRAMES * 2);
  const out = allocFrame();
  for (let f = 0; f < t.frames; f++) {
    cursor.read(out);
    pcm.set(out, f * FRAME_FRAMES * 2);
  }
  const s = cursor.stream;
  const offsets: number[] = [];
  for (let f = 0; s.chunkAt(f); f += t.chunkFrames) offsets.push(s.chunkAt(f)!.byteOffset);
  parentPort!.postMessage({
    pcm,
    offsets,
    inArena: s.chunkAt(0)!.buffer instanceof SharedArrayBuffer,
    contentOffset: song.content.bytes.byteOffset,
    renders: s.renders,
    everywhere: s.rendersEverywhere,
  });
  cursor.close();
} else {
  const arena = new AudioArena(t.handle);
  const e = arena.entry("slow", () => allocStreamHeader(arena, 21))!;
  const stream = new SlowStream(t.chunkFrames, { arena, header: e.offset, mono: false });
  const cursor = new StreamCursor(stream, 0, () => {});
  barrier();
  const out = allocFrame();
  let torn = 0;
  let read = 0;
  for (let f = 0; f < t.frames; f++) {
    const n = cursor.read(out);
    if (n === 0) break;
    read++;
    const want = Math.floor((f * FRAME_FRAMES) / t.chunkFrames) + 1;
    for (let i = 0; i < n * 2; i++) {
      if (out[i] !== want) {
        torn++;
        break;
      }
    }
  }
  parentPort!.postMessage({ torn, read, renders: stream.renders, everywhere: stream.rendersEverywhere });
}
