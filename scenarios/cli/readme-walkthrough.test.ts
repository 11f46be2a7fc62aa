import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// The README's "Quick look with curl", run as a user pastes it: a shell, the repository as the working
// directory. Only its port is changed (to a free one: other runs on a shared machine may hold 7400). It must
// print the chart's first song and leave no simulator behind.

const root = fileURLToPath(new URL("../..", import.meta.url));
const hasCurl = spawnSync("curl", ["--version"]).status === 0;

function walkthrough(): string {
  const readme = readFileSync(`${root}README.md`, "utf8");
  const m = /## Quick look with curl\n[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme);
  if (!m) throw new Error("README.md has no 'Quick look with curl' sh block");
  return m[1]!;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function listening(port: number): Promise<boolean> {
  try {
    await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) });
    return true;
  } catch {
    return false;
  }
}

describe("the README's curl walkthrough", () => {
  it.skipIf(!hasCurl)(
    "prints the first song of a chart and stops the simulator it started",
    async () => {
      const script = walkthrough();
      expect(script).toContain("7400");
      const port = await freePort();
      const r = spawnSync("bash", ["-e", "-c", script.replaceAll("7400", String(port))], {
        cwd: root,
        encoding: "utf8",
        timeout: 90_000,
      });
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(/song_id: '\d+'/);
      expect(r.stdout).toContain("accompany_duration");
      // `kill $SIM` stopped the simulator itself (no orphan holding the port).
      let up = true;
      for (let i = 0; i < 50 && up; i++) {
        up = await listening(port);
        if (up) await new Promise((res) => setTimeout(res, 200));
      }
      expect(up).toBe(false);
    },
    120_000,
  );
});
