import type { ServerApiAction, ServerApiEnvelope, ServerApiParams } from "../protocol/server-api.ts";

// Conformance of a partner's server-side client (the way it calls the server REST API, GET /?Action=): one
// case per rule of reference/server-api/client.ts, each judged from the simulator's side: the final answer the
// client got, and how many requests the simulator received for the case (GET /metrics,
// ktv_requests_total{route="/"}, before and after; cases run one at a time). A client passes a case when it
// behaves as the rule says, whatever its code looks like. Needs admin access to the simulator (fault
// profiles) and two apps in it: the one under test, and one with `server_api_qps: 1` (CONFORMANCE_QPS_APP).

/** How the harness drives the client under test: one call as the backend makes it, retries included. */
export interface ServerApiCaller {
  call(action: ServerApiAction, params?: ServerApiParams): Promise<ServerApiEnvelope | null>;
}

export interface CallerOptions {
  baseUrl: string;
  appId: number;
  serverSecret: string;
  userId: string;
  /** The client's clock runs this many ms off the server's (the caller must apply it to its own clock). */
  clockSkewMs: number;
}

export type ServerApiCallerFactory = (o: CallerOptions) => ServerApiCaller;

export interface ConformanceApp {
  appId: number;
  serverSecret: string;
}

/** The second app the simulator must serve for the rate-limit case. */
export const CONFORMANCE_QPS_APP = {
  app_id: 1000000099,
  app_sign: "0f".repeat(32),
  token_secret: "conformance-qps-secret-000000000",
  server_api_qps: 1,
};

export interface ServerApiVerdict {
  rule: string;
  description: string;
  ok: boolean;
  problems: string[];
  observed: { codes: (number | null)[]; requests: number };
}

interface Case {
  rule: string;
  description: string;
  run(ctx: CaseContext): Promise<{ codes: (number | null)[] }>;
  expect: { codes: number[]; requests: (n: number) => string | null };
}

interface CaseContext {
  target: string;
  app: ConformanceApp;
  qpsApp: ConformanceApp;
  factory: ServerApiCallerFactory;
  admin(method: string, path: string, body?: unknown): Promise<void>;
  user: string;
}

const exactly = (k: number) => (n: number) => (n === k ? null : `requests: expected ${k}, got ${n}`);
const atLeast = (k: number) => (n: number) => (n >= k ? null : `requests: expected at least ${k}, got ${n}`);

const caller = (c: CaseContext, o: Partial<CallerOptions> = {}) =>
  c.factory({
    baseUrl: c.target,
    appId: c.app.appId,
    serverSecret: c.app.serverSecret,
    userId: c.user,
    clockSkewMs: 0,
    ...o,
  });

const codeOf = (e: ServerApiEnvelope | null) => e?.Code ?? null;

export const SERVER_API_CASES: Case[] = [
  {
    rule: "sign",
    description: "a correctly signed request answers Code 0 at the first attempt",
    run: async (c) => ({ codes: [codeOf(await caller(c).call("DescribeTags"))] }),
    expect: { codes: [0], requests: exactly(1) },
  },
  {
    rule: "no-retry-signature",
    description: "a wrong ServerSecret answers 100000005 once: the client does not retry it",
    run: async (c) => ({
      codes: [codeOf(await caller(c, { serverSecret: "x".repeat(32) }).call("DescribeTags"))],
    }),
    expect: { codes: [100000005], requests: exactly(1) },
  },
  {
    rule: "no-retry-invalid-id",
    description: "an unknown SongId answers 320040004 once: the client does not retry it",
    run: async (c) => ({
      codes: [codeOf(await caller(c).call("DescribeSongLyric", { SongId: "conformance-no-such-song" }))],
    }),
    expect: { codes: [320040004], requests: exactly(1) },
  },
  {
    rule: "retry-busy",
    description: "320050002 (system busy) on the first attempt: retried after a backoff, then Code 0",
    run: async (c) => {
      await c.admin("PUT", "/admin/faults", {
        faults: [
          {
            id: "conformance-busy",
            kind: "error",
            code: 1017097,
            selector: { action: "QueryTips" },
            first: 1,
            count_scope: "user",
          },
        ],
      });
      return { codes: [codeOf(await caller(c).call("QueryTips", { Keyword: "lo" }))] };
    },
    expect: { codes: [0], requests: exactly(2) },
  },
  {
    rule: "retry-rate-limit",
    description:
      "two calls at once on an app allowed 1/s: the refused one (320000002) waits into the next second and gets Code 0",
    run: async (c) => {
      const call = () =>
        caller(c, { appId: c.qpsApp.appId, serverSecret: c.qpsApp.serverSecret }).call("DescribeTags");
      return { codes: (await Promise.all([call(), call()])).map(codeOf) };
    },
    expect: { codes: [0, 0], requests: atLeast(3) },
  },
  {
    rule: "clock-skew",
    description:
      "a client clock an hour behind: 100000004, corrected (the server's Date header), then Code 0",
    run: async (c) => ({
      codes: [codeOf(await caller(c, { clockSkewMs: -3_600_000 }).call("DescribeTags"))],
    }),
    expect: { codes: [0], requests: exactly(2) },
  },
];

async function serverApiRequests(target: string): Promise<number> {
  const text = await (await fetch(`${target}/metrics`)).text();
  let n = 0;
  for (const m of text.matchAll(/^ktv_requests_total\{([^}]*)\} (\d+)/gm)) {
    if (/(^|,)route="\/"(,|$)/.test(m[1]!) && /(^|,)method="GET"(,|$)/.test(m[1]!)) n += Number(m[2]);
  }
  return n;
}

/** Runs every case against the client the factory makes; the simulator at `target` must serve both apps. */
export async function runServerApiConformance(o: {
  target: string;
  app: ConformanceApp;
  qpsApp?: ConformanceApp;
  factory: ServerApiCallerFactory;
}): Promise<ServerApiVerdict[]> {
  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${o.target}${path}`, {
      method,
      // x-ktv-admin: the simulator refuses admin state changes a browser could send without a preflight.
      ...(body === undefined
        ? { headers: { "x-ktv-admin": "1" } }
        : {
            headers: { "content-type": "application/json", "x-ktv-admin": "1" },
            body: JSON.stringify(body),
          }),
    });
    if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${await res.text()}`);
  };
  const qpsApp = o.qpsApp ?? {
    appId: CONFORMANCE_QPS_APP.app_id,
    serverSecret: CONFORMANCE_QPS_APP.token_secret,
  };
  const out: ServerApiVerdict[] = [];
  for (const [i, k] of SERVER_API_CASES.entries()) {
    await admin("POST", "/admin/faults/reset");
    // A fresh second for the rate-limit case's app: wait out the one its previous use may have counted in.
    if (k.rule === "retry-rate-limit") await new Promise((r) => setTimeout(r, 1100));
    const before = await serverApiRequests(o.target);
    const user = `conformance-${k.rule}-${i}`;
    const { codes } = await k.run({ target: o.target, app: o.app, qpsApp, factory: o.factory, admin, user });
    const requests = (await serverApiRequests(o.target)) - before;
    await admin("POST", "/admin/faults/reset");
    const problems: string[] = [];
    if (JSON.stringify(codes) !== JSON.stringify(k.expect.codes)) {
      problems.push(`codes: expected ${JSON.stringify(k.expect.codes)}, got ${JSON.stringify(codes)}`);
    }
    const r = k.expect.requests(requests);
    if (r) problems.push(r);
    out.push({
      rule: k.rule,
      description: k.description,
      ok: problems.length === 0,
      problems,
      observed: { codes, requests },
    });
  }
  return out;
}
