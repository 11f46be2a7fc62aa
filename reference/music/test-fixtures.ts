import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RetryPolicy } from "./retry.ts";

// Shared by the msw unit tests: a vendor base URL on loopback (so nothing can leave the host even if an
// interceptor failed), pinned retry timing, WAV bodies and streams that break where a test wants.

export const BASE = "http://127.0.0.1:9";
export const APP_SIGN = "0123456789abcdef".repeat(4);

/** Retries without real waiting: records each requested delay; jitter pinned at half the ceiling. */
export function instantRetry(over: Partial<RetryPolicy> = {}): {
  policy: Partial<RetryPolicy>;
  delays: number[];
} {
  const delays: number[] = [];
  return {
    delays,
    policy: {
      random: () => 0.5,
      sleep: async (ms, signal) => {
        signal?.throwIfAborted();
        delays.push(ms);
      },
      ...over,
    },
  };
}

export function envelope(code: number, data: unknown = null, message = code === 0 ? "succeed" : "error") {
  return { code, message, request_id: "r-1", data };
}

/** A 44-byte-header PCM s16le WAV whose samples are f(frame, channel). */
export function wavBytes(
  frames: number,
  sampleRate: number,
  channels: number,
  f: (frame: number, channel: number) => number,
): Uint8Array {
  const data = frames * channels * 2;
  const b = Buffer.alloc(44 + data);
  b.write("RIFF", 0, "ascii");
  b.writeUInt32LE(36 + data, 4);
  b.write("WAVEfmt ", 8, "ascii");
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(channels, 22);
  b.writeUInt32LE(sampleRate, 24);
  b.writeUInt32LE(sampleRate * channels * 2, 28);
  b.writeUInt16LE(channels * 2, 32);
  b.writeUInt16LE(16, 34);
  b.write("data", 36, "ascii");
  b.writeUInt32LE(data, 40);
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < channels; c++) b.writeInt16LE(f(i, c), 44 + (i * channels + c) * 2);
  }
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

/** A body that delivers `bytes[0, cutAt)` in 4 KiB pieces and then fails like a reset connection. */
export function cutStream(bytes: Uint8Array, cutAt: number): ReadableStream<Uint8Array> {
  let pos = 0;
  return new ReadableStream({
    pull(controller) {
      if (pos >= cutAt) {
        controller.error(new Error("connection reset (test cut)"));
        return;
      }
      const end = Math.min(cutAt, pos + 4096);
      controller.enqueue(bytes.slice(pos, end));
      pos = end;
    },
  });
}

/** A body that delivers `bytes` slowly: one 4 KiB piece per `everyMs`. */
export function slowStream(bytes: Uint8Array, everyMs: number): ReadableStream<Uint8Array> {
  let pos = 0;
  return new ReadableStream({
    async pull(controller) {
      if (pos >= bytes.length) {
        controller.close();
        return;
      }
      await new Promise((r) => setTimeout(r, everyMs));
      const end = Math.min(bytes.length, pos + 4096);
      controller.enqueue(bytes.slice(pos, end));
      pos = end;
    },
  });
}

export function tempDir(prefix = "ktv-ref-"): { dir: string; files: () => string[]; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    files: () => {
      try {
        return readdirSync(dir).sort();
      } catch {
        return [];
      }
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** True when every value is at least the one before it. */
export function monotone(xs: readonly number[]): boolean {
  return xs.every((x, i) => i === 0 || x >= xs[i - 1]!);
}
