import { build } from "hdr-histogram-js";
import { Pool } from "undici";

// Closed-loop load from its own process: C connections, each sending the next request as soon as the previous
// answer is read, for D seconds. Prints one JSON line: requests/s, latency percentiles (µs), non-200 count.
const [url, path, method, bodyJson, headersJson, conns, seconds] = process.argv.slice(2);
if (!url || !path || !method || !conns || !seconds) {
  console.error("usage: load.ts URL PATH METHOD BODY_JSON HEADERS_JSON CONNECTIONS SECONDS");
  process.exit(2);
}
const headers = JSON.parse(headersJson ?? "{}") as Record<string, string>;
const body = bodyJson && bodyJson !== "-" ? bodyJson : undefined;
if (body) headers["content-type"] = "application/json";
const target = { path, method: method as "GET" | "POST" };
const pool = new Pool(url, { connections: Number(conns), pipelining: 1 });
const hist = build({
  lowestDiscernibleValue: 1,
  highestTrackableValue: 60_000_000,
  numberOfSignificantValueDigits: 3,
});
let done = 0;
let bad = 0;
const deadline = performance.now() + Number(seconds) * 1000;

async function worker(): Promise<void> {
  while (performance.now() < deadline) {
    const t0 = performance.now();
    const res = await pool.request({ ...target, headers, body });
    await res.body.arrayBuffer();
    hist.recordValue(Math.max(1, Math.round((performance.now() - t0) * 1000)));
    if (res.statusCode !== 200) bad++;
    done++;
  }
}

const start = performance.now();
await Promise.all(Array.from({ length: Number(conns) }, worker));
const elapsed = (performance.now() - start) / 1000;
await pool.close();
process.stdout.write(
  `${JSON.stringify({
    rps: done / elapsed,
    p50_us: hist.getValueAtPercentile(50),
    p99_us: hist.getValueAtPercentile(99),
    non200: bad,
  })}\n`,
);
