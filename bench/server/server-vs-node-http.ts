import { type ChildProcess, spawn } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

// Races the simulator against bare node:http on the same calls, each server in its own process and the load
// from a third, interleaved over rounds (ABBA...), and prints medians and the ratio. The machine is noisy (2
// shared cores, and the load generator shares them): read the ratio, not the absolute numbers.
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

const here = fileURLToPath(new URL(".", import.meta.url));
const root = fileURLToPath(new URL("../..", import.meta.url));
const DEV = { "x-app-id": "1000000001", "x-app-sign": "0123456789abcdef".repeat(4) };

function startServer(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ["--import", "tsx", ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    let buf = "";
    const timer = setTimeout(() => reject(new Error(`${args.join(" ")} did not start in 60 s`)), 60_000);
    child.stdout!.on("data", (c: Buffer) => {
      buf += c.toString();
      const m = /\{"listening":"([^"]+)"\}/.exec(buf);
      if (m?.[1]) {
        clearTimeout(timer);
        child.stdout!.removeAllListeners("data");
        child.stdout!.resume();
        resolve({ url: m[1], child });
      }
    });
    child.on("exit", (code) => reject(new Error(`${args.join(" ")} exited with ${code}`)));
  });
}

function runLoad(url: string, path: string, method: string, body: unknown, headers: Record<string, string>) {
  return new Promise<{ rps: number; p50_us: number; p99_us: number; non200: number }>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        `${here}load.ts`,
        url,
        path,
        method,
        body === undefined ? "-" : JSON.stringify(body),
        JSON.stringify(headers),
        String(CONNS),
        String(SECONDS),
      ],
      { cwd: root, stdio: ["ignore", "pipe", "inherit"] },
    );
    let out = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
    });
    child.on("exit", (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`load exited ${code}`)),
    );
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const sim = await startServer([
  "scenarios/cli/ktv.ts",
  "sim",
  "--port",
  "0",
  "--data-dir",
  ":memory:",
  "--log-level",
  "warn",
]);
const init = await fetch(`${sim.url}/v1/music/init`, {
  method: "POST",
  headers: { ...DEV, "content-type": "application/json" },
  body: JSON.stringify({ user_id: "bench" }),
});
const session = ((await init.json()) as { data: { session: string } }).data.session;
const headers = { ...DEV, "x-session": session };

interface Case {
  name: string;
  path: string;
  method: string;
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
    const bare = await startServer([`${here}bare-server.ts`], { KTV_BENCH_BODY: bytes });
    const simR: { rps: number; p99_us: number; non200: number }[] = [];
    const bareR: { rps: number; p99_us: number; non200: number }[] = [];
    try {
      for (let r = 0; r < ROUNDS; r++) {
        const order = r % 2 === 0 ? ["bare", "sim"] : ["sim", "bare"];
        for (const who of order) {
          const res = await runLoad(who === "sim" ? sim.url : bare.url, c.path, c.method, c.body, headers);
          if (res.non200 > 0) throw new Error(`${who} answered ${res.non200} non-200s on ${c.name}`);
          (who === "sim" ? simR : bareR).push(res);
        }
      }
    } finally {
      bare.child.kill("SIGTERM");
    }
    const s = median(simR.map((x) => x.rps));
    const b = median(bareR.map((x) => x.rps));
    rows.push(
      `| ${c.name} | ${b.toFixed(0)} | ${s.toFixed(0)} | ${(s / b).toFixed(2)} | ${(median(bareR.map((x) => x.p99_us)) / 1000).toFixed(2)} ms | ${(median(simR.map((x) => x.p99_us)) / 1000).toFixed(2)} ms |`,
    );
    console.log(rows.at(-1));
  }
} finally {
  sim.child.kill("SIGTERM");
}
console.log(`\n${rows.join("\n")}`);
