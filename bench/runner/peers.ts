// The native peers some cases race against (ffmpeg, nginx, wrk): found on PATH or not. A missing peer skips the
// cases that need it, with the command that installs it; it never fails or crashes the run.

import { spawnSync } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, join } from "node:path";

export const PEERS = ["ffmpeg", "nginx", "wrk"] as const;

export const INSTALL_HINT = "npm run setup:bench (as root: apt-get install -y ffmpeg nginx wrk) installs it";

/** The executable's path on PATH (as `which` finds it), or null. */
export function findOnPath(bin: string, path = process.env.PATH ?? ""): string | null {
  for (const dir of path.split(delimiter)) {
    if (dir === "") continue;
    const full = join(dir, bin);
    try {
      if (!statSync(full).isFile()) continue;
      accessSync(full, constants.X_OK);
      return full;
    } catch {
      // not here
    }
  }
  return null;
}

/** The peer's version line, e.g. "nginx version: nginx/1.22.1", or null when it is not installed. */
export function peerVersion(bin: string): string | null {
  const exe = findOnPath(bin);
  if (!exe) return null;
  const flag = bin === "ffmpeg" ? ["-hide_banner", "-version"] : ["-v"];
  const r = spawnSync(exe, flag, { encoding: "utf8", timeout: 10_000 });
  const text = `${r.stdout ?? ""}${r.stderr ?? ""}`.trim().split("\n")[0] ?? "";
  return text || exe;
}
