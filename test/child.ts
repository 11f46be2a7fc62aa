import { type ChildProcess, spawn } from "node:child_process";
import { resolve } from "node:path";
import { createInterface } from "node:readline";

// A real child process for tests that must kill what they test (kill -9 of `ktv sim`): plain `node --import
// tsx` processes (not npx/tsx wrappers), so the pid SIGKILLed is the process holding the ledger, not a launcher
// that would leave it running.

const ROOT = resolve(import.meta.dirname, "..");

/** A child process whose stdout we read line by line, every wait bounded. */
export class LineChild {
  readonly proc: ChildProcess;
  private readonly queue: string[] = [];
  private waiter: (() => void) | undefined;
  private stderr = "";
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  /** `node --import tsx ...args` from the repository root. */
  constructor(args: string[]) {
    this.proc = spawn(process.execPath, ["--import", "tsx", ...args], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    createInterface({ input: this.proc.stdout! }).on("line", (l) => {
      this.queue.push(l);
      this.waiter?.();
    });
    this.proc.stderr!.on("data", (d) => {
      this.stderr = (this.stderr + String(d)).slice(-4000);
    });
    this.exited = new Promise((res) => this.proc.on("exit", (code, signal) => res({ code, signal })));
    this.exited.then(() => this.waiter?.());
  }

  get alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  async nextLine(timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length === 0) {
      if (!this.alive) {
        throw new Error(`child exited (${this.proc.exitCode ?? this.proc.signalCode}): ${this.stderr}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no output from child within ${timeoutMs} ms: ${this.stderr}`);
      await new Promise<void>((res) => {
        const t = setTimeout(res, left);
        this.waiter = () => {
          clearTimeout(t);
          res();
        };
      });
      this.waiter = undefined;
    }
    return this.queue.shift()!;
  }

  /** SIGKILL (no chance to flush or close anything); resolves once it is gone, throws if it died otherwise. */
  async kill(): Promise<void> {
    if (this.alive) this.proc.kill("SIGKILL");
    const { code, signal } = await this.exited;
    if (signal !== "SIGKILL") throw new Error(`child exited by itself (code ${code}, signal ${signal})`);
  }
}

/** The URL of a `ktv sim` child: its first machine-readable stdout line `{"listening": url}`. */
export async function listeningUrl(child: LineChild, timeoutMs = 30_000): Promise<string> {
  for (let i = 0; i < 50; i++) {
    const line = await child.nextLine(timeoutMs);
    try {
      const url = (JSON.parse(line) as { listening?: string }).listening;
      if (url) return url;
    } catch {}
  }
  throw new Error("the child printed no {listening} line");
}
