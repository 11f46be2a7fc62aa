import { cpus, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { openSession, runJsLoad, startBareServer, startSimulator } from "./servers.ts";

// Races the simulator against bare node:http on the same calls, each server in its own process and the load
// from a third, interleaved over rounds (ABBA...), and prints medians and the ratio. The machine is noisy (2
// shared cores, and the load generator shares them): read the ratio, not the absolute numbers.
// `npm run bench` runs the same race with wrk as the load when installed (bench/cases/http.ts).
// Usage: npx tsx bench/server/server-vs-node-http.ts [--rounds 5] [--seconds 5] [--connections 16]

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "5" },
    seconds: { type: "string", default: "5" },
    connections: { type: "string", default: "16" },
  },
});
const ROUNDS = Number(values.rounds);
const SECONDS = Number(values.seconds);
const CONNS = Number(values.connections);
for (const [n, v, max] of [
  ["rounds", ROUNDS, 50],
  ["seconds", SECONDS, 120],
  ["connections", CONNS, 512],
] as const) {
  if (!Number.isInteger(v) || v < 1 || v > max) {
    console.error(`--${n} must be an integer in 1..${max}`);
    process.exit(2);
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const sim = await startSimulator();
const headers = await openSession(sim.url);

interface Case {
  name: string;
  path: string;
  method: "GET" | "POST";
  body?: unknown;
}
const cases: Case[] = [
  { name: "GET /healthz", path: "/healthz", method: "GET" },
  {
    name: "extended /top/song (20 songs)",
    path: "/v1/music/extended",
    method: "POST",
    body: { command: "/top/song", params: { vendor_id: 0, top_id: "8888", page: 1 } },
  },
  {
    name: "extended /search/song",
    path: "/v1/music/extended",
    method: "POST",
    body: { command: "/search/song", params: { vendor_id: 0, keyword: "love", page: 1 } },
  },
];

console.log(
  `node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? "?"}, load ${loadavg()[0]!.toFixed(2)}`,
);
console.log(
  `${ROUNDS} rounds x ${SECONDS} s, ${CONNS} connections, closed loop, servers and load in separate processes\n`,
);
const rows: string[] = [
  "| call | bare node:http req/s | simulator req/s | simulator / bare | bare p99 | simulator p99 |",
  "|---|---:|---:|---:|---:|---:|",
];
try {
  for (const c of cases) {
    // The reference answers the very bytes the simulator answers for this call.
    const sample = await fetch(sim.url + c.path, {
      method: c.method,
      headers: c.body ? { ...headers, "content-type": "application/json" } : headers,
      body: c.body ? JSON.stringify(c.body) : undefined,
    });
    const bytes = await sample.text();
    const bare = await startBareServer(bytes);
    const simR: { rps: number; p99_us: number; non200: number }[] = [];
    const bareR: { rps: number; p99_us: number; non200: number }[] = [];
    try {
      for (let r = 0; r < ROUNDS; r++) {
        const order = r % 2 === 0 ? ["bare", "sim"] : ["sim", "bare"];
        for (const who of order) {
          const res = await runJsLoad({
            url: who === "sim" ? sim.url : bare.url,
            path: c.path,
            method: c.method,
            body: c.body,
            headers,
            connections: CONNS,
            seconds: SECONDS,
          });
          if (res.non200 > 0) throw new Error(`${who} answered ${res.non200} non-200s on ${c.name}`);
          (who === "sim" ? simR : bareR).push(res);
        }
      }
    } finally {
      await bare.stop();
    }
    const s = median(simR.map((x) => x.rps));
    const b = median(bareR.map((x) => x.rps));
    rows.push(
      `| ${c.name} | ${b.toFixed(0)} | ${s.toFixed(0)} | ${(s / b).toFixed(2)} | ${(median(bareR.map((x) => x.p99_us)) / 1000).toFixed(2)} ms | ${(median(simR.map((x) => x.p99_us)) / 1000).toFixed(2)} ms |`,
    );
    console.log(rows.at(-1));
  }
} finally {
  await sim.stop();
}
console.log(`\n${rows.join("\n")}`);
