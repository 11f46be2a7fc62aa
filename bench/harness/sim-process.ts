import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

// `ktv sim` as a separate process for the memory measurements (bench/harness/vu-memory.ts, footprint.ts): none
// of its memory or CPU is counted in the process measured, and it is started once and shared by every child.

export interface SimProcess {
  proc: ChildProcess;
  url: string;
  /** The Unix domain socket it also serves (media), when asked for. */
  socket: string | null;
  close(): Promise<void>;
}

export async function startSimulatorProcess(o: { socket?: string } = {}): Promise<SimProcess> {
  const here = fileURLToPath(new URL("../..", import.meta.url));
  const proc = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      join(here, "scenarios/cli/ktv.ts"),
      "sim",
      "--port",
      "0",
      "--host",
      "127.0.0.1",
      ...(o.socket ? ["--socket", o.socket] : []),
      "--data-dir",
      ":memory:",
      "--log-level",
      "warn",
    ],
    { cwd: here, stdio: ["ignore", "pipe", "inherit"] },
  );
  const first = await new Promise<string>((res, rej) => {
    const rl = createInterface({ input: proc.stdout! });
    rl.once("line", (l) => res(l));
    proc.once("exit", (c) => rej(new Error(`simulator exited with ${c}`)));
  });
  const { listening } = JSON.parse(first) as { listening: string };
  // Keep its stdout drained.
  proc.stdout!.resume();
  return {
    proc,
    url: listening,
    socket: o.socket ?? null,
    close: () =>
      new Promise<void>((res) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return res();
        proc.once("exit", () => res());
        proc.kill("SIGTERM");
      }),
  };
}
