import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DEV_APP } from "../options.ts";
import { createAppRegistry } from "./apps.ts";
import { AppsFileError, loadAppsFile, parseApps } from "./apps-file.ts";

const dir = mkdtempSync(join(tmpdir(), "ktv-apps-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const B = {
  app_id: 42,
  app_sign: "ABCDEF0123456789".repeat(4),
  token_secret: "fedcba9876543210fedcba9876543210",
};

function problemsOf(json: unknown): string[] {
  try {
    parseApps(json, "apps.json");
  } catch (e) {
    expect(e).toBeInstanceOf(AppsFileError);
    return (e as AppsFileError).problems;
  }
  throw new Error("expected an AppsFileError");
}

describe("loadAppsFile", () => {
  it("loads a valid file with every optional field, keeping only known fields", () => {
    const full = { ...B, rate_limit_rps: 2.5, monthly_plans: [1, 2], vendors: [0, 4], scenes: [0, 2] };
    const p = file("ok.json", JSON.stringify([DEV_APP, full]));
    expect(loadAppsFile(p)).toEqual([DEV_APP, full]);
  });

  it("names the file when it is missing or not JSON", () => {
    expect(() => loadAppsFile(join(dir, "missing.json"))).toThrow(/missing\.json: .*cannot read/s);
    expect(() => loadAppsFile(file("bad.json", "[{app_id: 1}]"))).toThrow(/bad\.json: .*not valid JSON/s);
  });

  it("refuses a non-array and an empty list", () => {
    expect(problemsOf({ apps: [] })).toEqual(["must be a JSON array of apps"]);
    expect(problemsOf([])[0]).toMatch(/has no apps/);
  });

  it("reports every problem at once, each naming the entry and field", () => {
    const problems = problemsOf([
      { ...B, app_id: 0 },
      { ...B, app_id: 2 ** 32 },
      { ...B, app_id: "7" },
      { ...B, app_id: 3, app_sign: "abc" },
      { ...B, app_id: 4, app_sign: "g".repeat(64) },
      { ...B, app_id: 5, token_secret: "short" },
      { ...B, app_id: 6, token_secret: "é".repeat(32) },
      { ...B, app_id: 7, rate_limit_rps: -1 },
      { ...B, app_id: 8, rate_limit_rps: 1e12 },
      { ...B, app_id: 9, monthly_plans: [0] },
      { ...B, app_id: 10, vendors: [3] },
      { ...B, app_id: 11, scenes: [9] },
      { ...B, app_id: 12, vendors: [1, 1] },
      { ...B, app_id: 13, vendors: "0" },
      { ...B, app_id: 14, rate_limt_rps: 5 },
      { app_id: 15 },
      "not an object",
    ]);
    expect(problems).toEqual([
      "[0] (app_id 0) app_id: must be a non-zero uint32 (got 0)",
      "[1] (app_id 4294967296) app_id: must be a non-zero uint32 (got 4294967296)",
      '[2] app_id: must be a non-zero uint32 (got "7")',
      "[3] (app_id 3) app_sign: must be 64 hex characters, got 3 chars",
      "[4] (app_id 4) app_sign: must be 64 hex characters, got 64 chars",
      "[5] (app_id 5) token_secret: must be 32 printable ASCII characters (the AES-256 key), got 5 chars",
      "[6] (app_id 6) token_secret: must be 32 printable ASCII characters (the AES-256 key), got 32 chars",
      "[7] (app_id 7) rate_limit_rps: must be a number in 0..1000000 (0 = unlimited)",
      "[8] (app_id 8) rate_limit_rps: must be a number in 0..1000000 (0 = unlimited)",
      "[9] (app_id 9) monthly_plans: has [0]: allowed values are 1, 2",
      "[10] (app_id 10) vendors: has [3]: allowed values are 0, 1, 2, 4",
      "[11] (app_id 11) scenes: has [9]: allowed values are 0, 1, 2, 3, 4",
      "[12] (app_id 12) vendors: has duplicates",
      "[13] (app_id 13) vendors: must be an array of 0/1/2/4",
      expect.stringMatching(/^\[14\] \(app_id 14\) rate_limt_rps: unknown field \(known: app_id, app_sign, /),
      "[15] (app_id 15) app_sign: is missing",
      "[15] (app_id 15) token_secret: is missing",
      "[16]: must be an object {app_id, app_sign, token_secret, ...}",
    ]);
  });

  it("refuses duplicate app ids, naming the first entry", () => {
    expect(problemsOf([B, DEV_APP, { ...B }])).toEqual(["[2] (app_id 42) app_id: duplicates entry [0]"]);
  });

  it("the error message lists the source and all problems", () => {
    const p = file("two.json", JSON.stringify([{ ...B, app_id: 0, token_secret: "x" }]));
    expect(() => loadAppsFile(p)).toThrow(
      new RegExp(
        `${p.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: 2 problem\\(s\\):\\n {2}\\[0\\].*app_id.*\\n {2}\\[0\\].*token_secret`,
      ),
    );
  });
});

describe("createAppRegistry", () => {
  it("validates programmatic apps like a file and refuses duplicates", () => {
    expect(() => createAppRegistry([DEV_APP, { ...DEV_APP }])).toThrow(
      /apps option.*duplicates entry \[0\]/s,
    );
    expect(() => createAppRegistry([{ ...B, token_secret: "short" }])).toThrow(/token_secret/);
  });

  it("looks apps up by id and lists them", () => {
    const r = createAppRegistry([DEV_APP, B]);
    expect(r.get(42)).toEqual(B);
    expect(r.get(43)).toBeUndefined();
    expect(r.list().map((a) => a.app_id)).toEqual([DEV_APP.app_id, 42]);
  });

  it("admits per app within rate_limit_rps; apps without a limit always", () => {
    const r = createAppRegistry([DEV_APP, { ...B, rate_limit_rps: 1 }]);
    const t = 1_000_000;
    expect([r.admit(42, t), r.admit(42, t)]).toEqual([0, 0]); // burst of 2 s at 1 rps
    expect(r.admit(42, t)).toBe(1000);
    for (let i = 0; i < 100; i++) expect(r.admit(DEV_APP.app_id, t)).toBe(0);
    r.reset();
    expect(r.admit(42, t)).toBe(0);
  });
});
