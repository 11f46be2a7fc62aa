import { spawn, spawnSync } from "node:child_process";
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

  it("mints for the dev app when --app-id is left out, as its help says", () => {
    const r = ktv("token", "--user-id", "bob");
    expect(r.status, r.stderr).toBe(0);
    expect(decodeToken04(r.stdout.trim(), DEV_APP.token_secret)).toMatchObject({
      app_id: DEV_APP.app_id,
      user_id: "bob",
    });
  });

  it("says why a --faults file cannot be used and exits 2: missing, or not JSON", () => {
    const missing = ktv("sim", "--port", "0", "--data-dir", ":memory:", "--faults", "/nonexistent.json");
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain("--faults: cannot read /nonexistent.json");
    const file = join(mkdtempSync(join(tmpdir(), "ktv-bin-")), "notjson.json");
    writeFileSync(file, "{faults: oops");
    const bad = ktv("sim", "--port", "0", "--data-dir", ":memory:", "--faults", file);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain(`--faults: ${file} is not valid JSON`);
  });

  it("exits 2 on a usage error: run without a scenario, an unknown option", () => {
    const r = ktv("run");
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("missing required argument 'scenario'");
    expect(ktv("sim", "--no-such-option").status).toBe(2);
  });

  it('prints {"listening":...} as the first stdout line, the dev-app warning on stderr', async () => {
    // Default log level (info): the start-up log lines come after the listening line, not before.
    const child = spawn(
      process.execPath,
      [
        join(root, "scenarios/cli/ktv.mjs"),
        "sim",
        "--port",
        "0",
        "--data-dir",
        ":memory:",
        "--catalog-size",
        "100",
      ],
      { cwd: root, stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    let err = "";
    child.stderr.on("data", (d) => {
      err += d;
    });
    try {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no listening line: ${out} ${err}`)), 30_000);
        child.stdout.on("data", (d) => {
          out += d;
          if (out.split("\n").length > 2) {
            clearTimeout(t);
            resolve();
          }
        });
      });
    } finally {
      child.kill("SIGTERM");
    }
    const [first, second] = out.split("\n");
    expect(JSON.parse(first!)).toEqual({ listening: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) });
    expect(JSON.parse(second!)).toMatchObject({ msg: "catalog generated" });
    expect(err).toContain(`no --apps given: serving the development app ${DEV_APP.app_id}`);
    expect(out).not.toContain("no --apps given");
  });

  it("refuses a --duration too short for the scenario's fault timeline, naming the minimum (exit 2)", () => {
    const r = ktv("run", "expiry-storm", "--duration", "5s", "--no-report");
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("--duration 5s is too short for expiry-storm");
    expect(r.stderr).toContain("Use --duration 1m10s or more");
  });

  it("refuses a malformed option value", () => {
    const r = ktv("sim", "--port", "abc");
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("--port must be an integer");
  });
});
