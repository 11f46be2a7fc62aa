// A measurement, run by hand: CPU per token04-authenticated call, for one or more checkouts side by side in one
// process (before/after simulator/auth/token-cache.ts), rounds interleaved with the order rotated, median µs of
// this process's CPU per call, with the load average. Two figures per tree:
//   - auth: the app guard alone (guards.ts authenticate) on one client's token, sent with and without
//     X-App-Id, as every call of a token-auth client sends it; on a token never seen before every call (the
//     cache's worst case: every call a miss); and 6,000 clients calling in turn (more than the cache holds);
//   - top: a whole /v1/music/extended /top/song call through Fastify's inject (no socket) with the token and a
//     session, which the fast path authenticates the same way.
//
//   npx tsx bench/server/token-verify-cpu.ts [--trees /work/main,.] [--calls 4000] [--rounds 7]

import { loadavg } from "node:os";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { median } from "../runner/stats.ts";

const { values } = parseArgs({
  options: {
    trees: { type: "string", default: "." },
    calls: { type: "string", default: "4000" },
    rounds: { type: "string", default: "7" },
  },
});
const CALLS = Number(values.calls);
const ROUNDS = Number(values.rounds);
if (!(CALLS > 0 && ROUNDS > 0)) {
  console.error("token-verify-cpu: --calls and --rounds must be positive");
  process.exit(2);
}

interface App {
  app_id: number;
  token_secret: string;
}
interface Injectable {
  inject(o: {
    method: string;
    url: string;
    headers?: Record<string, string>;
    payload?: unknown;
  }): Promise<{ statusCode: number; body: string }>;
  close(): Promise<unknown>;
}
type Mint = (o: { appId: number; userId: string; secret: string; effectiveSeconds: number }) => string;

interface Side {
  tree: string;
  /** A fresh app registry (and so an empty token cache) for authenticate(); returns one call with these headers. */
  guard(): (headers: Record<string, string>) => void;
  app: Injectable;
  topHeaders: Record<string, string>;
  mint: Mint;
  dev: App;
}

const TOP = { command: "/top/song", params: { vendor_id: 0, top_id: "8888", page: 1 } };

const sides: Side[] = [];
for (const t of values.trees.split(",")) {
  const tree = resolve(t);
  const guards = (await import(`${tree}/simulator/auth/guards.ts`)) as {
    authenticate(req: unknown): { app: App };
  };
  const { createAppRegistry } = (await import(`${tree}/simulator/auth/apps.ts`)) as {
    createAppRegistry(apps: App[]): unknown;
  };
  const { DEV_APP } = (await import(`${tree}/simulator/options.ts`)) as { DEV_APP: App };
  const { mintToken04 } = (await import(`${tree}/protocol/token04.ts`)) as { mintToken04: Mint };
  const { buildSimulator } = (await import(`${tree}/simulator/app.ts`)) as {
    buildSimulator(o: object): Promise<{ app: Injectable }>;
  };
  // What authenticate reads of a request: its headers, and the simulator's apps and clock.
  const { app } = await buildSimulator({ dataDir: ":memory:", logLevel: "warn" });
  const token = mintToken04({
    appId: DEV_APP.app_id,
    userId: "bench",
    secret: DEV_APP.token_secret,
    effectiveSeconds: 3600,
  });
  const bearer = { authorization: `Bearer ${token}` };
  const init = await app.inject({
    method: "POST",
    url: "/v1/music/init",
    headers: { ...bearer, "content-type": "application/json" },
    payload: { user_id: "bench" },
  });
  if (init.statusCode !== 200) throw new Error(`${tree}: init ${init.statusCode} ${init.body.slice(0, 200)}`);
  const session = (JSON.parse(init.body) as { data: { session: string } }).data.session;
  sides.push({
    tree,
    guard() {
      const server = { sim: { apps: createAppRegistry([DEV_APP]), clock: { now: () => Date.now() } } };
      const req = { headers: {} as Record<string, string>, server };
      return (headers) => {
        req.headers = headers;
        guards.authenticate(req);
      };
    },
    app,
    topHeaders: { ...bearer, "x-session": session, "content-type": "application/json" },
    mint: mintToken04,
    dev: DEV_APP,
  });
}

/** µs of process CPU per call over CALLS calls, per side, rounds interleaved; `warm` calls first. */
async function race(
  name: string,
  prepare: (s: Side) => (n: number) => Promise<void> | void,
  warm = 300,
): Promise<void> {
  const us = sides.map(() => [] as number[]);
  const runs = sides.map(prepare);
  for (const run of runs) for (let i = 0; i < warm; i++) await run(i);
  for (let r = 0; r < ROUNDS; r++) {
    for (let k = 0; k < sides.length; k++) {
      const i = (k + r) % sides.length;
      const run = runs[i]!;
      const c0 = process.cpuUsage();
      for (let n = 0; n < CALLS; n++) await run(n);
      const c = process.cpuUsage(c0);
      us[i]!.push((c.user + c.system) / CALLS);
    }
  }
  console.log(`\n${name}`);
  sides.forEach((s, i) => {
    const x = us[i]!;
    console.log(
      `  ${s.tree}: ${median(x).toFixed(2)} µs/call (${Math.min(...x).toFixed(2)}-${Math.max(...x).toFixed(2)})`,
    );
  });
}

console.log(
  `load ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}; ${CALLS} calls x ${ROUNDS} rounds, trees: ${sides.map((s) => s.tree).join(", ")}`,
);

await race("auth: one client's token, with X-App-Id and without (alternating)", (s) => {
  const t = s.topHeaders.authorization!;
  const withId = { authorization: t, "x-app-id": String(s.dev.app_id) };
  const without = { authorization: t };
  const auth = s.guard();
  return (n) => auth(n % 2 === 0 ? withId : without);
});

/** Headers with a token of the dev app for each of `n` users. */
const tokens = (s: Side, n: number, prefix: string) =>
  Array.from({ length: n }, (_, i) => ({
    authorization: `Bearer ${s.mint({ appId: s.dev.app_id, userId: `${prefix}${i}`, secret: s.dev.token_secret, effectiveSeconds: 3600 })}`,
    "x-app-id": String(s.dev.app_id),
  }));

await race("auth: a token never seen before, every call (the cache's worst case: all misses)", (s) => {
  const pool = tokens(s, 300 + CALLS * ROUNDS, "new");
  const auth = s.guard();
  let next = 0;
  return () => auth(pool[next++]!);
});

// Warmed by 8 turns of all clients: a full cache lets one new token in per 8 (token-cache.ts ADMIT_WHEN_FULL).
await race(
  "auth: 6,000 clients in turn, each with its own token (more than the cache's 4,096)",
  (s) => {
    const pool = tokens(s, 6000, "c");
    const auth = s.guard();
    let next = 0;
    return () => auth(pool[next++ % pool.length]!);
  },
  8 * 6000,
);

await race("top: a whole /top/song call with the token (inject)", (s) => async () => {
  const r = await s.app.inject({
    method: "POST",
    url: "/v1/music/extended",
    headers: s.topHeaders,
    payload: TOP,
  });
  if (r.statusCode !== 200) throw new Error(`${s.tree}: ${r.statusCode} ${r.body.slice(0, 200)}`);
});

await Promise.all(sides.map((s) => s.app.close()));
