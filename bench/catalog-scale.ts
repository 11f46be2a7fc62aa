// Catalog scale bench: start-up time, memory and search latency at 10^4, 10^5 and 10^6 songs, each size in
// a fresh child process so one size's heap never inflates the next. Run: npx tsx bench/catalog-scale.ts
// (optional sizes as arguments, e.g. `npx tsx bench/catalog-scale.ts 10000 100000`).
import { spawnSync } from "node:child_process";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { createCatalog } from "../simulator/catalog/index.ts";
import { Draws } from "../simulator/catalog/prng.ts";

const SEED = 1;
const QUERIES = 2000;

interface Row {
  songs: number;
  startup_ms: number;
  heap_mb: number;
  rss_mb: number;
  external_mb: number;
  distinct_strings: number;
  cold_median_ms: number;
  cold_p99_ms: number;
  warm_median_us: number;
  at_us: number;
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
};

/** Keywords a user could type: whole titles and singers, their prefixes and fragments, and misses. */
function keywords(c: ReturnType<typeof createCatalog>): string[] {
  const d = new Draws(7, c.size, 99);
  const out = new Set<string>();
  while (out.size < QUERIES) {
    const f = c.at(d.int(0, c.size - 1)).item;
    const p = d.float();
    const title = f.song_name;
    const singer = f.singer_name;
    if (p < 0.3) out.add(title);
    else if (p < 0.5) out.add(title.slice(0, d.int(1, 3)));
    else if (p < 0.7) out.add(singer);
    else if (p < 0.85) out.add(singer.slice(d.int(0, 1), d.int(2, 4)));
    else if (p < 0.95) out.add(title.slice(d.int(1, 2), d.int(3, 5)));
    else out.add(`miss${d.int(0, 1e9)}`);
  }
  return [...out];
}

function child(size: number): Row {
  const t0 = performance.now();
  const c = createCatalog(SEED, size);
  const startup = performance.now() - t0;
  global.gc?.();
  const mu = process.memoryUsage();
  const qs = keywords(c);
  const cold: number[] = [];
  for (const q of qs) {
    const t = performance.now();
    c.search(q, "all");
    cold.push(performance.now() - t);
  }
  const warm: number[] = [];
  for (const q of qs) {
    const t = performance.now();
    c.search(q, "all");
    warm.push(performance.now() - t);
  }
  const n = 20_000;
  const ta = performance.now();
  for (let k = 0; k < n; k++) c.at((k * 7919) % size);
  const atUs = ((performance.now() - ta) * 1000) / n;
  return {
    songs: size,
    startup_ms: Math.round(startup),
    heap_mb: Math.round(mu.heapUsed / 1e6),
    rss_mb: Math.round(mu.rss / 1e6),
    external_mb: Math.round(mu.arrayBuffers / 1e6),
    distinct_strings: c.describe().distinct_search_strings,
    cold_median_ms: Number(quantile(cold, 0.5).toFixed(3)),
    cold_p99_ms: Number(quantile(cold, 0.99).toFixed(2)),
    warm_median_us: Number((quantile(warm, 0.5) * 1000).toFixed(1)),
    at_us: Number(atUs.toFixed(2)),
  };
}

if (process.argv[2] === "--child") {
  process.stdout.write(JSON.stringify(child(Number(process.argv[3]))));
} else {
  const sizes = process.argv.slice(2).map(Number);
  const me = fileURLToPath(import.meta.url);
  const cpu = os.cpus()[0]?.model ?? "unknown cpu";
  console.log(
    `node ${process.version}, ${os.cpus().length} x ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, load ${os.loadavg()[0]?.toFixed(2)}`,
  );
  console.log(
    `seed ${SEED}; search: ${QUERIES} distinct keywords (titles, singers, fragments, misses), vendor "all"`,
  );
  console.log(
    "| songs | start-up | heap | RSS | typed arrays | search strings | search cold p50 | cold p99 | cached p50 | at() |",
  );
  console.log("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const size of sizes.length ? sizes : [10_000, 100_000, 1_000_000]) {
    const r = spawnSync(process.execPath, [...process.execArgv, "--expose-gc", me, "--child", String(size)], {
      encoding: "utf8",
      timeout: 120_000,
    });
    if (r.status !== 0) {
      console.error(`size ${size} failed:`, r.stderr || r.error);
      process.exitCode = 1;
      continue;
    }
    const x = JSON.parse(r.stdout) as Row;
    console.log(
      `| ${x.songs.toLocaleString("en")} | ${x.startup_ms} ms | ${x.heap_mb} MB | ${x.rss_mb} MB | ${x.external_mb} MB | ${x.distinct_strings.toLocaleString("en")} | ${x.cold_median_ms} ms | ${x.cold_p99_ms} ms | ${x.warm_median_us} µs | ${x.at_us} µs |`,
    );
  }
}
