// A measurement, run by hand: CPU per call of the simulator's request path in process (Fastify's inject: routing,
// body parsing, hooks, guards, the fault seam, the handler, metrics; no socket, no HTTP parser), for one or more
// checkouts side by side in one process, rounds interleaved, median µs of this thread's CPU per call, with the
// load average. Less disturbed by a busy machine than a socket race (no scheduling between processes), so it
// shows a change of a few µs that request-cpu.ts cannot; request-cpu.ts gives the whole server's cost.
//
//   npx tsx bench/server/inject-cost.ts [--trees /work/main,.] [--calls 4000] [--rounds 7]

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
const DEV = { "x-app-id": "1000000001", "x-app-sign": "0123456789abcdef".repeat(4) };

interface Injectable {
  inject(o: {
    method: string;
    url: string;
    headers?: Record<string, string>;
    payload?: unknown;
  }): Promise<{ statusCode: number; body: string }>;
  close(): Promise<unknown>;
}

const BODIES = {
  top: { command: "/top/song", params: { vendor_id: 0, top_id: "8888", page: 1 } },
  search: { command: "/search/song", params: { vendor_id: 0, keyword: "love", page: 1 } },
};

const sides: { tree: string; app: Injectable; headers: Record<string, string> }[] = [];
for (const t of values.trees.split(",")) {
  const tree = resolve(t);
  const mod = (await import(`${tree}/simulator/app.ts`)) as {
    buildSimulator(o: object): Promise<{ app: Injectable }>;
  };
  const { app } = await mod.buildSimulator({ dataDir: ":memory:", logLevel: "warn" });
  const init = await app.inject({
    method: "POST",
    url: "/v1/music/init",
    headers: { ...DEV, "content-type": "application/json" },
    payload: { user_id: "bench" },
  });
  const session = (JSON.parse(init.body) as { data: { session: string } }).data.session;
  sides.push({ tree, app, headers: { ...DEV, "x-session": session, "content-type": "application/json" } });
}

console.log(
  `load ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}; ${CALLS} calls x ${ROUNDS} rounds`,
);
for (const [name, body] of [...Object.entries(BODIES), ["healthz", null] as const]) {
  const us = sides.map(() => [] as number[]);
  const once = async (s: (typeof sides)[number]) => {
    const r = body
      ? await s.app.inject({ method: "POST", url: "/v1/music/extended", headers: s.headers, payload: body })
      : await s.app.inject({ method: "GET", url: "/healthz" });
    if (r.statusCode !== 200) throw new Error(`${s.tree}: ${r.statusCode} ${r.body.slice(0, 200)}`);
  };
  for (const s of sides) for (let i = 0; i < 500; i++) await once(s); // warm-up
  for (let r = 0; r < ROUNDS; r++) {
    for (let k = 0; k < sides.length; k++) {
      const i = (k + r) % sides.length;
      const c0 = process.cpuUsage();
      for (let n = 0; n < CALLS; n++) await once(sides[i]!);
      const c = process.cpuUsage(c0);
      us[i]!.push((c.user + c.system) / CALLS);
    }
  }
  console.log(`\n${name}`);
  sides.forEach((s, i) => {
    const x = us[i]!;
    console.log(
      `  ${s.tree}: ${median(x).toFixed(1)} µs/call (${Math.min(...x).toFixed(1)}-${Math.max(...x).toFixed(1)})`,
    );
  });
}
await Promise.all(sides.map((s) => s.app.close()));
