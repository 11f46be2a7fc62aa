import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { decodeToken04 } from "../../protocol/token04.ts";
import { DEV_APP } from "../../simulator/options.ts";

// The `bin` shim (scenarios/cli/ktv.mjs, what `npx ktv` runs), as a user runs it after `npm ci`.
const root = fileURLToPath(new URL("../..", import.meta.url));
const ktv = (...args: string[]) =>
  spawnSync(process.execPath, [join(root, "scenarios/cli/ktv.mjs"), ...args], {
    cwd: root,
    encoding: "utf8",
    timeout: 60_000,
  });

describe("the ktv bin", () => {
  it("mints a token04 the dev app verifies", () => {
    const r = ktv("token", "--app-id", String(DEV_APP.app_id), "--user-id", "alice", "--ttl", "60");
    expect(r.status, r.stderr).toBe(0);
    const claims = decodeToken04(r.stdout.trim(), DEV_APP.token_secret);
    expect(claims).toMatchObject({ app_id: DEV_APP.app_id, user_id: "alice" });
    expect(claims.expire - claims.ctime).toBe(60);
  });

  it("refuses an invalid fault profile with one clear line and exit code 2", () => {
    const file = join(mkdtempSync(join(tmpdir(), "ktv-bin-")), "bad.json");
    writeFileSync(file, JSON.stringify({ faults: [{ id: "x", kind: "nope" }] }));
    const r = ktv("sim", "--port", "0", "--data-dir", ":memory:", "--log-level", "silent", "--faults", file);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('faults[0].kind: unknown kind "nope"');
  });

  it("refuses a malformed option value", () => {
    const r = ktv("sim", "--port", "abc");
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("--port must be an integer");
  });
});
