import { spawn } from "node:child_process";
import type { MetricSet } from "./metrics/set.ts";
import type { ProgressOut } from "./run/progress.ts";
import type { Recorder } from "./vu/types.ts";

// Shared by the scenario tests: a stderr stand-in that keeps what the runner wrote, and the CLI as a child
// process (the way a user or CI runs it).

export function captureErr(): ProgressOut & { text: () => string } {
  const parts: string[] = [];
  return { write: (t) => void parts.push(t), isTTY: false, text: () => parts.join("") };
}

/** A VU's recorder that keeps everything in `set` (notes dropped), for tests that drive a VU directly. */
export function recorderOf(set: MetricSet): Recorder {
  return {
    record: (m, v, n) => set.record(m, v, n),
    add: (c, n) => set.add(c, n),
    error: (c, n) => set.error(c, n),
    rate: (k, hit) => set.rate(k, hit),
    note: () => {},
  };
}

export interface Child {
  code: Promise<number | null>;
  stdout: () => string;
  stderr: () => string;
  /** Resolves once stderr contains `pattern` (or rejects after `timeoutMs`). */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<void>;
  kill(signal: NodeJS.Signals): void;
}

export function ktv(args: string[], cwd = new URL("..", import.meta.url).pathname): Child {
  const child = spawn(process.execPath, ["--import", "tsx", "scenarios/cli/ktv.ts", ...args], {
    cwd,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  child.stdout.on("data", (d) => {
    out += d;
  });
  child.stderr.on("data", (d) => {
    err += d;
    for (const w of waiters.splice(0)) {
      if (w.pattern.test(err)) w.resolve();
      else waiters.push(w);
    }
  });
  const code = new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
  return {
    code,
    stdout: () => out,
    stderr: () => err,
    waitFor: (pattern, timeoutMs) =>
      new Promise((resolve, reject) => {
        if (pattern.test(err)) return resolve();
        const t = setTimeout(
          () => reject(new Error(`no ${pattern} on stderr after ${timeoutMs} ms:\n${err}`)),
          timeoutMs,
        );
        waiters.push({
          pattern,
          resolve: () => {
            clearTimeout(t);
            resolve();
          },
        });
      }),
    kill: (signal) => child.kill(signal),
  };
}
