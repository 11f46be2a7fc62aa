import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LEDGER_FILE } from "./sqlite-ledger.ts";

// A data dir the ledger cannot use stops `ktv sim` at start-up with one clear line, instead of a server
// that answers every requestResource with an error.

const ROOT = resolve(import.meta.dirname, "../..");
const dir = mkdtempSync(join(tmpdir(), "ktv-startup-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sim(dataDir: string) {
  return spawnSync(
    process.execPath,
    [
      "--import",
      "tsx",
      "scenarios/cli/ktv.ts",
      "sim",
      "--port",
      "0",
      "--catalog-size",
      "50",
      "--log-level",
      "silent",
      "--data-dir",
      dataDir,
    ],
    { cwd: ROOT, encoding: "utf8", timeout: 20_000, killSignal: "SIGKILL" },
  );
}

describe("ktv sim with an unusable data dir", () => {
  it("a corrupt ledger file: exits non-zero naming the file and the fix", () => {
    const d = join(dir, "corrupt");
    mkdirSync(d);
    writeFileSync(join(d, LEDGER_FILE), "definitely not sqlite\n".repeat(100));
    const r = sim(d);
    expect(r.signal).toBeNull();
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(join(d, LEDGER_FILE));
    expect(r.stderr).toMatch(/corrupt or not a SQLite database; move it away/);
    expect(r.stdout).not.toMatch(/listening/);
  });

  it("a data dir that is a file: exits non-zero saying so", () => {
    const f = join(dir, "a-file");
    writeFileSync(f, "x");
    const r = sim(f);
    expect(r.signal).toBeNull();
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/ledger: cannot create data dir .*a-file.*not a directory/);
  });
});
