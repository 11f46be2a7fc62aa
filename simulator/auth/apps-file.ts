import { readFileSync } from "node:fs";
import { SceneId, VENDOR_IDS } from "../../protocol/enums.ts";
import type { AppConfig } from "../options.ts";

// `--apps apps.json`: the apps this simulator serves. Parsed strictly (unknown keys are typos, not extensions)
// and all problems are reported at once, each naming the entry and the field, so a partner fixes the file in
// one pass instead of one start-up per mistake.

export class AppsFileError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source}: ${problems.length} problem(s):\n  ${problems.join("\n  ")}`);
    this.name = "AppsFileError";
  }
}

const KNOWN_KEYS = [
  "app_id",
  "app_sign",
  "token_secret",
  "rate_limit_rps",
  "server_api_qps",
  "monthly_plans",
  "vendors",
  "scenes",
];
const HEX64 = /^[0-9a-fA-F]{64}$/;
// The AES-256 key is the secret's bytes, so exactly 32 bytes: printable ASCII keeps chars == bytes.
const SECRET32 = /^[\x21-\x7e]{32}$/;
const MONTHLY_PLANS = [1, 2];
const SCENES: readonly number[] = Object.values(SceneId);
/** Generous, but finite: a typo like 1e12 should not silently mean "unlimited". */
const MAX_RPS = 1_000_000;

function intList(
  v: unknown,
  allowed: readonly number[],
  field: string,
  problem: (field: string, msg: string) => void,
): number[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) {
    problem(field, `must be an array of ${allowed.join("/")}`);
    return undefined;
  }
  const bad = v.filter((x) => typeof x !== "number" || !allowed.includes(x));
  if (bad.length > 0) {
    problem(field, `has ${JSON.stringify(bad)}: allowed values are ${allowed.join(", ")}`);
    return undefined;
  }
  if (new Set(v).size !== v.length) {
    problem(field, "has duplicates");
    return undefined;
  }
  return [...(v as number[])];
}

/** Validates parsed apps JSON (`source` names it in errors). Returns normalised copies; throws AppsFileError. */
export function parseApps(json: unknown, source = "apps"): AppConfig[] {
  const problems: string[] = [];
  if (!Array.isArray(json)) throw new AppsFileError(source, ["must be a JSON array of apps"]);
  if (json.length === 0)
    throw new AppsFileError(source, ["has no apps (leave --apps out to serve the dev app)"]);
  const out: AppConfig[] = [];
  const firstIndexOf = new Map<number, number>();
  json.forEach((entry: unknown, i) => {
    const e = (typeof entry === "object" && entry !== null && !Array.isArray(entry) ? entry : null) as Record<
      string,
      unknown
    > | null;
    if (!e) {
      problems.push(`[${i}]: must be an object {app_id, app_sign, token_secret, ...}`);
      return;
    }
    const label = typeof e.app_id === "number" ? `[${i}] (app_id ${e.app_id})` : `[${i}]`;
    const before = problems.length;
    const problem = (field: string, msg: string) => problems.push(`${label} ${field}: ${msg}`);

    for (const k of Object.keys(e)) {
      if (!KNOWN_KEYS.includes(k)) problem(k, `unknown field (known: ${KNOWN_KEYS.join(", ")})`);
    }
    const { app_id, app_sign, token_secret, rate_limit_rps } = e;
    if (app_id === undefined) problem("app_id", "is missing");
    else if (typeof app_id !== "number" || !Number.isInteger(app_id) || app_id < 1 || app_id > 0xffffffff) {
      problem("app_id", `must be a non-zero uint32 (got ${JSON.stringify(app_id)})`);
    } else if (firstIndexOf.has(app_id)) {
      problem("app_id", `duplicates entry [${firstIndexOf.get(app_id)}]`);
    } else firstIndexOf.set(app_id, i);

    if (app_sign === undefined) problem("app_sign", "is missing");
    else if (typeof app_sign !== "string" || !HEX64.test(app_sign)) {
      const len = typeof app_sign === "string" ? `, got ${app_sign.length} chars` : "";
      problem("app_sign", `must be 64 hex characters${len}`);
    }
    if (token_secret === undefined) problem("token_secret", "is missing");
    else if (typeof token_secret !== "string" || !SECRET32.test(token_secret)) {
      const len = typeof token_secret === "string" ? `, got ${token_secret.length} chars` : "";
      problem("token_secret", `must be 32 printable ASCII characters (the AES-256 key)${len}`);
    }
    if (
      rate_limit_rps !== undefined &&
      (typeof rate_limit_rps !== "number" ||
        !Number.isFinite(rate_limit_rps) ||
        rate_limit_rps < 0 ||
        rate_limit_rps > MAX_RPS)
    ) {
      problem("rate_limit_rps", `must be a number in 0..${MAX_RPS} (0 = unlimited)`);
    }
    const qps = e.server_api_qps;
    if (
      qps !== undefined &&
      (typeof qps !== "number" || !Number.isInteger(qps) || qps < 0 || qps > MAX_RPS)
    ) {
      problem("server_api_qps", `must be an integer in 0..${MAX_RPS} (0 = unlimited)`);
    }
    const monthly_plans = intList(e.monthly_plans, MONTHLY_PLANS, "monthly_plans", problem);
    const vendors = intList(e.vendors, VENDOR_IDS, "vendors", problem);
    const scenes = intList(e.scenes, SCENES, "scenes", problem);
    if (problems.length > before) return;

    const app: AppConfig = {
      app_id: app_id as number,
      app_sign: app_sign as string,
      token_secret: token_secret as string,
    };
    if (rate_limit_rps !== undefined) app.rate_limit_rps = rate_limit_rps as number;
    if (qps !== undefined) app.server_api_qps = qps as number;
    if (monthly_plans) app.monthly_plans = monthly_plans;
    if (vendors) app.vendors = vendors;
    if (scenes) app.scenes = scenes;
    out.push(app);
  });
  if (problems.length > 0) throw new AppsFileError(source, problems);
  return out;
}

/** Reads and validates an apps.json file; every failure is an AppsFileError naming the file. */
export function loadAppsFile(path: string): AppConfig[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new AppsFileError(path, [`cannot read: ${(e as Error).message}`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new AppsFileError(path, [`is not valid JSON: ${(e as Error).message}`]);
  }
  return parseApps(json, path);
}
