import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command, CommanderError } from "commander";
import { afterAll, describe, expect, it } from "vitest";
import { decodeToken04, verifyToken04 } from "../../protocol/token04.ts";
import { DEV_APP } from "../options.ts";
import { DEFAULT_TTL_SECONDS, registerTokenCommand } from "./token-command.ts";

const dir = mkdtempSync(join(tmpdir(), "ktv-token-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const OTHER = {
  app_id: 77,
  app_sign: "ab".repeat(32),
  token_secret: "abcdefghijklmnopqrstuvwxyz012345",
};

/** Runs `ktv token ...args` on a fresh program; returns what it printed, or the CommanderError and stderr. */
async function run(...args: string[]): Promise<{ out: string; err: string; error?: CommanderError }> {
  let out = "";
  let err = "";
  const program = new Command("ktv").exitOverride().configureOutput({
    writeOut: (s) => {
      out += s;
    },
    writeErr: (s) => {
      err += s;
    },
  });
  registerTokenCommand(program);
  try {
    await program.parseAsync(["token", ...args], { from: "user" });
    return { out, err };
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    return { out, err, error: e };
  }
}

const nowSec = () => Math.floor(Date.now() / 1000);

describe("ktv token", () => {
  it("prints one dev-app token for the user, valid for an hour by default", async () => {
    const { out, error } = await run("--app-id", String(DEV_APP.app_id), "--user-id", "alice");
    expect(error).toBeUndefined();
    expect(out).toMatch(/^04[A-Za-z0-9+/]+=*\n$/);
    const c = verifyToken04(out.trim(), DEV_APP.token_secret, { appId: DEV_APP.app_id, userId: "alice" });
    expect(c.expire - c.ctime).toBe(DEFAULT_TTL_SECONDS);
    expect(Math.abs(c.ctime - nowSec())).toBeLessThanOrEqual(2);
    expect(c.payload).toBe("");
  });

  it("without --app-id mints for the dev app, as its help says", async () => {
    const { out, error } = await run("--user-id", "alice");
    expect(error).toBeUndefined();
    const c = verifyToken04(out.trim(), DEV_APP.token_secret, { appId: DEV_APP.app_id, userId: "alice" });
    expect(c.app_id).toBe(DEV_APP.app_id);
  });

  it("--json prints the claims beside the token; --ttl sets the validity", async () => {
    const { out } = await run(
      "--app-id",
      String(DEV_APP.app_id),
      "--user-id",
      "bob",
      "--ttl",
      "90",
      "--json",
    );
    const j = JSON.parse(out);
    expect(Object.keys(j)).toEqual(["token", "app_id", "user_id", "ctime", "expire", "payload"]);
    expect(j).toMatchObject({ app_id: DEV_APP.app_id, user_id: "bob", payload: "" });
    expect(j.expire - j.ctime).toBe(90);
    expect(decodeToken04(j.token, DEV_APP.token_secret)).toMatchObject({ expire: j.expire, ctime: j.ctime });
  });

  it("--room adds the privilege payload; --no-publish denies publishing", async () => {
    const base = ["--app-id", String(DEV_APP.app_id), "--user-id", "pia", "--room", "stage", "--json"];
    const pub = JSON.parse((await run(...base)).out);
    expect(JSON.parse(pub.payload)).toEqual({
      room_id: "stage",
      privilege: { "1": 1, "2": 1 },
      stream_id_list: null,
    });
    const noPub = JSON.parse((await run(...base, "--no-publish")).out);
    expect(JSON.parse(noPub.payload).privilege).toEqual({ "1": 1, "2": 0 });
  });

  it("--secret signs for any app", async () => {
    const { out } = await run("--app-id", "77", "--user-id", "u", "--secret", OTHER.token_secret);
    expect(verifyToken04(out.trim(), OTHER.token_secret, { appId: 77, userId: "u" }).app_id).toBe(77);
    expect(() => decodeToken04(out.trim(), DEV_APP.token_secret)).toThrow();
  });

  it("--apps takes the app's secret from apps.json", async () => {
    const apps = join(dir, "apps.json");
    writeFileSync(apps, JSON.stringify([DEV_APP, OTHER]));
    const { out } = await run("--app-id", "77", "--user-id", "u", "--apps", apps);
    expect(verifyToken04(out.trim(), OTHER.token_secret, { appId: 77 }).user_id).toBe("u");
    const missing = await run("--app-id", "78", "--user-id", "u", "--apps", apps);
    expect(missing.error?.exitCode).toBe(2);
    expect(missing.err).toMatch(/app 78 is not in .*apps\.json/);
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify([{ ...OTHER, token_secret: "short" }]));
    expect((await run("--app-id", "77", "--user-id", "u", "--apps", bad)).err).toMatch(/token_secret/);
  });

  it.each([
    ["no secret for a non-dev app", ["--app-id", "77", "--user-id", "u"], /no secret for app 77/],
    ["missing --user-id", ["--app-id", "77"], /required option '--user-id <id>'/],
    ["app id 0", ["--app-id", "0", "--user-id", "u"], /--app-id must be in 1\.\.4294967295/],
    ["app id not a number", ["--app-id", "x", "--user-id", "u"], /--app-id must be an integer/],
    [
      "user id with a space",
      ["--app-id", "1", "--user-id", "a b"],
      /illegal characters \(vendor code 1002006\)/,
    ],
    ["user id of 64 bytes", ["--app-id", "1", "--user-id", "u".repeat(64)], /1002007/],
    ["room id with a space", ["--app-id", "1", "--user-id", "u", "--room", "a b"], /1002012/],
    ["ttl 0", ["--app-id", "1", "--user-id", "u", "--ttl", "0"], /--ttl must be in 1\.\./],
    [
      "secret of 31 chars",
      ["--app-id", "1", "--user-id", "u", "--secret", "x".repeat(31)],
      /32 bytes.*1002074/,
    ],
    [
      "--secret with --apps",
      ["--app-id", "1", "--user-id", "u", "--secret", "s", "--apps", "a"],
      /cannot be used with/,
    ],
    [
      "--no-publish without --room",
      ["--app-id", String(DEV_APP.app_id), "--user-id", "u", "--no-publish"],
      /need --room/,
    ],
  ])("refuses %s with a clear message and no token", async (_, args, message) => {
    const r = await run(...args);
    expect(r.error).toBeInstanceOf(CommanderError);
    expect(r.error!.exitCode).not.toBe(0);
    expect(r.err).toMatch(message);
    expect(r.out).toBe("");
  });
});
