import { type RequestOptions, request } from "node:http";
import { type Simulator, startSimulator } from "../simulator/app.ts";
import { DEV_APP, type SimOptions } from "../simulator/options.ts";

// Helpers shared by integration tests: a real simulator on a free loopback port and a tiny JSON client.

export async function testSimulator(o: Partial<SimOptions> = {}): Promise<Simulator> {
  return startSimulator({ port: 0, catalogSize: 2000, dataDir: ":memory:", logLevel: "silent", ...o });
}

export const devHeaders = {
  "x-app-id": String(DEV_APP.app_id),
  "x-app-sign": DEV_APP.app_sign,
};

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers field by field
export interface Answer<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

// biome-ignore lint/suspicious/noExplicitAny: as above
export async function call<T = any>(
  base: string,
  method: string,
  path: string,
  opts: { body?: unknown; headers?: Record<string, string>; raw?: string } = {},
): Promise<Answer<T>> {
  // Like the runner's AdminClient, mark admin calls as no browser's simple request (simulator/admin/loopback.ts).
  const headers: Record<string, string> = path.startsWith("/admin/")
    ? { "x-ktv-admin": "1", ...opts.headers }
    : { ...opts.headers };
  let body: string | undefined;
  if (opts.raw !== undefined) body = opts.raw;
  else if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) {
    headers["content-type"] = "application/json";
  }
  const res = await fetch(base + path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: res.status, body: parsed as T, headers: res.headers };
}

/** Opens a music session for `userId` on the dev app; returns headers for later calls. */
export async function session(base: string, userId: string): Promise<Record<string, string>> {
  const r = await call(base, "POST", "/v1/music/init", { headers: devHeaders, body: { user_id: userId } });
  if (r.body?.code !== 0) throw new Error(`init failed: ${JSON.stringify(r.body)}`);
  return { ...devHeaders, "x-session": r.body.data.session };
}

/**
 * One request through node:http with exactly the given options (fetch will not set Host or a foreign Origin,
 * nor talk to a Unix domain socket); the body as text.
 */
export function rawRequest(o: RequestOptions & { url?: string }): Promise<{ status: number; body: string }> {
  const { url, ...opts } = o;
  return new Promise((resolve, reject) => {
    const done = (res: import("node:http").IncomingMessage) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        body += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    };
    const req = url ? request(url, opts, done) : request(opts, done);
    req.on("error", reject);
    req.end();
  });
}

/** The sum of the simulator's Prometheus /metrics samples whose line matches `pattern` (a counter over its series). */
export async function metricSum(base: string, pattern: RegExp): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  let n = 0;
  for (const line of text.split("\n")) {
    if (pattern.test(line)) n += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return n;
}
