// A measurement, run by hand: CPU per request of the simulator's JSON API (and of bare node:http answering the
// same bytes), from the server process's own CPU time (/proc/<pid>/stat utime + stime, GC threads included)
// over a fixed wrk load, rather than req/s: on a shared 2-core machine the CPU a request costs its server moves
// far less with the neighbours' load than the rate does. Servers on CPU 0, wrk on CPU 1 (when taskset exists),
// rounds interleaved (the order rotates), medians, load average printed. `--trees a,b` races the simulators of
// two checkouts in one session (before/after a change), each against the same bare reference.
//
//   npx tsx bench/server/request-cpu.ts [--trees /work/main,.] [--rounds 5] [--seconds 3] [--connections 16]
//                                        [--calls top,search,healthz] [--together] [--rate R]

import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { findOnPath } from "../runner/peers.ts";
import { median } from "../runner/stats.ts";
import { pacedConnections } from "./rate-at-p99.ts";
import {
  type LoadSpec,
  openSession,
  type Started,
  startBareServer,
  startServer,
  startSimulator,
} from "./servers.ts";
import { runWrk } from "./wrk.ts";

const { values } = parseArgs({
  options: {
    trees: { type: "string", default: "." },
    rounds: { type: "string", default: "5" },
    seconds: { type: "string", default: "3" },
    connections: { type: "string", default: "16" },
    calls: { type: "string", default: "top,search,healthz" },
    // More references answering the same bytes (KTV_BENCH_BODY), e.g. a minimal fastify app: what the
    // framework alone costs.
    refs: { type: "string", default: "" },
    together: { type: "boolean", default: false },
    // Offered req/s (paced wrk) instead of closed loop: at one fixed rate the servers batch alike (at a
    // server's own saturation, CPU per request falls as more requests share each event-loop turn).
    rate: { type: "string" },
  },
});
const ROUNDS = Number(values.rounds);
const SECONDS = Number(values.seconds);
const CONNS = Number(values.connections);
const RATE = values.rate === undefined ? undefined : Number(values.rate);
if (!findOnPath("wrk")) {
  console.error("request-cpu needs wrk (npm run setup:bench)");
  process.exit(2);
}

interface Call {
  name: string;
  path: string;
  method: "GET" | "POST";
  body?: unknown;
}
const CALLS: Record<string, Call> = {
  top: {
    name: "/top/song",
    path: "/v1/music/extended",
    method: "POST",
    body: { command: "/top/song", params: { vendor_id: 0, top_id: "8888", page: 1 } },
  },
  search: {
    name: "/search/song",
    path: "/v1/music/extended",
    method: "POST",
    body: { command: "/search/song", params: { vendor_id: 0, keyword: "love", page: 1 } },
  },
  healthz: { name: "GET /healthz", path: "/healthz", method: "GET" },
};
const calls = values.calls.split(",").map((c) => {
  const call = CALLS[c];
  if (!call) throw new Error(`unknown call ${c} (top, search, healthz)`);
  return call;
});

const TICK_US = 1e6 / 100; // USER_HZ is 100 on Linux
/** utime + stime of the process, µs. */
function cpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) * TICK_US;
}

const pin = cpus().length >= 2 && findOnPath("taskset") !== null;
const serverCpus = pin ? "0" : undefined;
const loadCpus = pin ? "1" : undefined;

const trees = values.trees.split(",").map((t) => resolve(t));
console.log(
  `node ${process.version}, ${cpus().length} x ${cpus()[0]?.model.trim()}, load ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}`,
);
console.log(
  `${ROUNDS} rounds x ${SECONDS} s, wrk ${RATE === undefined ? `-c${CONNS} closed loop` : `paced at ${RATE} req/s`}${pin ? ", servers on CPU 0, wrk on CPU 1" : " (unpinned)"}`,
);

const sims: Started[] = [];
const bares: Started[] = [];
try {
  for (const t of trees) sims.push(await startSimulator({ cpus: serverCpus, cwd: t }));
  for (const call of calls) {
    const headers = await openSession(sims[0]!.url);
    const sessions = [headers, ...(await Promise.all(sims.slice(1).map((s) => openSession(s.url))))];
    const sample = await fetch(sims[0]!.url + call.path, {
      method: call.method,
      headers: call.body ? { ...headers, "content-type": "application/json" } : headers,
      body: call.body ? JSON.stringify(call.body) : undefined,
    });
    const bytes = await sample.text();
    const bare = await startBareServer(bytes, { cpus: serverCpus });
    bares.push(bare);
    const refs = values.refs ? values.refs.split(",") : [];
    const extra: Started[] = [];
    for (const r of refs)
      extra.push(await startServer([resolve(r)], { KTV_BENCH_BODY: bytes }, { cpus: serverCpus }));
    bares.push(...extra);
    const sides = [
      ...sims.map((s, i) => ({ name: `sim ${trees[i]}`, srv: s, headers: sessions[i]! })),
      { name: "bare node:http", srv: bare, headers },
      ...extra.map((srv, i) => ({ name: refs[i]!, srv, headers })),
    ];
    const spec = (s: (typeof sides)[number], secs: number): LoadSpec => ({
      url: s.srv.url,
      path: call.path,
      method: call.method,
      body: call.body,
      headers: s.headers,
      connections: RATE === undefined ? CONNS : pacedConnections(RATE),
      seconds: secs,
      cpus: loadCpus,
      ...(RATE === undefined ? {} : { rate: RATE }),
    });
    for (const s of sides) await runWrk(spec(s, 1)); // warm-up
    const res = sides.map(() => ({ us: [] as number[], rps: [] as number[], p99: [] as number[] }));
    const one = async (i: number) => {
      const s = sides[i]!;
      const pid = s.srv.child.pid!;
      const c0 = cpuUs(pid);
      const w = await runWrk(spec(s, SECONDS));
      const c1 = cpuUs(pid);
      if (w.non200 > 0) throw new Error(`${s.name} answered ${w.non200} non-200s`);
      const n = w.rps * SECONDS;
      res[i]!.us.push((c1 - c0) / n);
      res[i]!.rps.push(w.rps);
      res[i]!.p99.push(w.p99_us / 1000);
    };
    for (let r = 0; r < ROUNDS; r++) {
      // --together: every side loaded at once, so each round's neighbours (other machine load) are the same
      // for all; only CPU per request compares then (the servers share CPU 0, so req/s halves).
      if (values.together) await Promise.all(sides.map((_, i) => one(i)));
      else for (let k = 0; k < sides.length; k++) await one((k + r) % sides.length);
    }
    console.log(`\n${call.name} (load ${loadavg()[0]!.toFixed(2)})`);
    // "x bare": the median over rounds of this side's CPU per request over bare node:http's in the same round.
    // A round's sides run back to back, so the machine's load drifts less within a round than across the run:
    // on a busy machine this ratio holds steadier than either median alone.
    const bareAt = sims.length;
    console.log("| server | CPU µs/request (min-max) | x bare (per-round median) | req/s | p99 ms |");
    console.log("|---|---:|---:|---:|---:|");
    sides.forEach((s, i) => {
      const x = res[i]!;
      const perRound = x.us.map((u, r) => u / res[bareAt]!.us[r]!);
      console.log(
        `| ${s.name} | ${median(x.us).toFixed(1)} (${Math.min(...x.us).toFixed(1)}-${Math.max(...x.us).toFixed(1)}) | ${median(perRound).toFixed(2)} | ${Math.round(median(x.rps))} | ${median(x.p99).toFixed(2)} |`,
      );
    });
  }
} finally {
  await Promise.all([...sims, ...bares].map((s) => s.stop()));
}
