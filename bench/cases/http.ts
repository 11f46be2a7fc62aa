// The HTTP races: the simulator's JSON API against bare node:http answering the same bytes, and its download
// CDN against nginx serving the same file. Each server runs in its own process; the load is wrk when installed
// (a native generator, pinned to its own CPU with the servers on the other when the machine has two or more),
// else the JS generator (load.ts, unpinned, which shares the cores and starves on cheap calls: read its ratio
// as a lower bound). Ours and the reference get the same load, alternately, round by round.

import { cpus } from "node:os";
import type { BenchCase, Extra } from "../runner/case.ts";
import { findOnPath } from "../runner/peers.ts";
import { median } from "../runner/stats.ts";
import { startNginx } from "../server/nginx.ts";
import {
  type LoadResult,
  type LoadSpec,
  openSession,
  runJsLoad,
  type Started,
  startBareServer,
  startSimulator,
} from "../server/servers.ts";
import { runWrk } from "../server/wrk.ts";

interface Loader {
  run(spec: LoadSpec): Promise<LoadResult>;
  /** CPUs for the servers and for the load, when pinned. */
  serverCpus?: string;
  loadCpus?: string;
  name: string;
}

function loader(): Loader {
  if (!findOnPath("wrk")) return { run: runJsLoad, name: "undici (JS, unpinned; wrk not installed)" };
  const pin = cpus().length >= 2 && findOnPath("taskset") !== null;
  return pin
    ? { run: runWrk, serverCpus: "0", loadCpus: "1", name: "wrk -t1, servers on CPU 0, wrk on CPU 1" }
    : { run: runWrk, name: "wrk -t1 (unpinned)" };
}

async function post(url: string, path: string, headers: Record<string, string>, body: unknown) {
  const r = await fetch(url + path, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return (await r.json()) as { code: number; message?: string; data?: Record<string, unknown> };
}

async function closeAll(servers: (Started | { stop(): Promise<void> } | undefined)[]): Promise<void> {
  await Promise.all(servers.map((s) => s?.stop()));
}

const p99ms = (xs: LoadResult[]) => Math.round(median(xs.map((x) => x.p99_us)) / 10) / 100;

function simVsNodeHttp(name: string, label: string, body: unknown): BenchCase {
  return {
    name,
    description: `simulator ${label} vs bare node:http answering the same bytes, closed loop, 16 connections`,
    referenceName: "node:http",
    unit: "req/s",
    higherIsBetter: true,
    target: 0.8,
    targetOf: "ratio",
    optionalPeers: ["wrk"],
    async setup({ quick }) {
      const seconds = quick ? 2 : 5;
      const load = loader();
      let sim: Started | undefined;
      let bare: Started | undefined;
      try {
        sim = await startSimulator({ cpus: load.serverCpus });
        const headers = await openSession(sim.url);
        // The reference answers the very bytes the simulator answers for this call.
        const sample = await fetch(`${sim.url}/v1/music/extended`, {
          method: "POST",
          headers: { ...headers, "content-type": "application/json" },
          body: JSON.stringify(body),
        });
        const bytes = await sample.text();
        if (sample.status !== 200 || (JSON.parse(bytes) as { code: number }).code !== 0) {
          throw new Error(`the simulator answered ${sample.status} ${bytes.slice(0, 200)}`);
        }
        bare = await startBareServer(bytes, { cpus: load.serverCpus });
        const spec = (url: string, secs: number): LoadSpec => ({
          url,
          path: "/v1/music/extended",
          method: "POST",
          body,
          headers,
          connections: 16,
          seconds: secs,
          cpus: load.loadCpus,
        });
        const ours: LoadResult[] = [];
        const theirs: LoadResult[] = [];
        const measure = async (url: string, into: LoadResult[], who: string) => {
          const r = await load.run(spec(url, seconds));
          if (r.non200 > 0) throw new Error(`${who} answered ${r.non200} non-200s (or socket errors)`);
          into.push(r);
          return r.rps;
        };
        // Warm-up, discarded: both servers' JIT and connection pools settled before the first round.
        await load.run(spec(sim.url, 1));
        await load.run(spec(bare.url, 1));
        const s = sim;
        const b = bare;
        return {
          ours: () => measure(s.url, ours, "the simulator"),
          reference: () => measure(b.url, theirs, "node:http"),
          finish: () => {
            const extra: Extra = {
              load: load.name,
              seconds_per_call: seconds,
              ours_p99_ms: p99ms(ours),
              reference_p99_ms: p99ms(theirs),
              response_bytes: Buffer.byteLength(bytes),
            };
            return { extra };
          },
          close: () => closeAll([s, b]),
        };
      } catch (e) {
        await closeAll([sim, bare]);
        throw e;
      }
    },
  };
}

export const simTopSong = simVsNodeHttp(
  "sim-top-song-vs-node-http",
  "POST /v1/music/extended /top/song (20 songs)",
  {
    command: "/top/song",
    params: { vendor_id: 0, top_id: "8888", page: 1 },
  },
);

export const simSearchSong = simVsNodeHttp(
  "sim-search-song-vs-node-http",
  "POST /v1/music/extended /search/song",
  {
    command: "/search/song",
    params: { vendor_id: 0, keyword: "love", page: 1 },
  },
);

/** A song resource of the first charted song that can be requested, and its file's bytes from the CDN. */
async function downloadable(
  url: string,
  headers: Record<string, string>,
): Promise<{ path: string; bytes: Uint8Array }> {
  const top = await post(url, "/v1/music/extended", headers, {
    command: "/top/song",
    params: { vendor_id: 0, top_id: "8888", page: 1 },
  });
  const songs = (top.data?.songs ?? []) as { song_id: string }[];
  for (const song of songs) {
    const r = await post(url, "/v1/music/resource", headers, {
      song_id: song.song_id,
      resource_type: 0,
      billing_mode: 0,
      vendor_id: 0,
      quality: 0,
    });
    const id = (r.data?.resources as { resource_id: string }[] | undefined)?.[0]?.resource_id;
    if (r.code !== 0 || !id) continue;
    const path = `/v1/music/download/${id}`;
    const res = await fetch(url + path, { headers });
    if (res.status !== 200) continue;
    return { path, bytes: new Uint8Array(await res.arrayBuffer()) };
  }
  throw new Error("no song of chart 8888 could be requested and downloaded");
}

export const cdnVsNginx: BenchCase = {
  name: "cdn-vs-nginx",
  description:
    "simulator CDN download of one song WAV vs nginx serving the same file, closed loop, 8 connections",
  referenceName: "nginx",
  unit: "MB/s",
  higherIsBetter: true,
  target: 0.7,
  targetOf: "ratio",
  peers: ["nginx"],
  optionalPeers: ["wrk"],
  async setup({ quick }) {
    const seconds = quick ? 2 : 5;
    const load = loader();
    let sim: Started | undefined;
    let nginx: Awaited<ReturnType<typeof startNginx>> | undefined;
    try {
      sim = await startSimulator({ cpus: load.serverCpus });
      const headers = await openSession(sim.url);
      const file = await downloadable(sim.url, headers);
      nginx = await startNginx({ "song.wav": file.bytes }, { cpus: load.serverCpus });
      const check = await fetch(`${nginx.url}/song.wav`);
      const same = Buffer.from(await check.arrayBuffer()).equals(Buffer.from(file.bytes));
      if (!same) throw new Error("nginx does not serve the same bytes as the CDN");
      const size = file.bytes.byteLength;
      const spec = (url: string, path: string, secs: number): LoadSpec => ({
        url,
        path,
        method: "GET",
        headers,
        connections: 8,
        seconds: secs,
        cpus: load.loadCpus,
      });
      const ours: LoadResult[] = [];
      const theirs: LoadResult[] = [];
      const measure = async (url: string, path: string, into: LoadResult[], who: string) => {
        const r = await load.run(spec(url, path, seconds));
        if (r.non200 > 0) throw new Error(`${who} answered ${r.non200} non-200s (or socket errors)`);
        into.push(r);
        return (r.rps * size) / 1e6;
      };
      await load.run(spec(sim.url, file.path, 1));
      await load.run(spec(nginx.url, "/song.wav", 1));
      const s = sim;
      const n = nginx;
      return {
        ours: () => measure(s.url, file.path, ours, "the CDN"),
        reference: () => measure(n.url, "/song.wav", theirs, "nginx"),
        finish: () => ({
          extra: {
            load: load.name,
            seconds_per_call: seconds,
            file_bytes: size,
            ours_p99_ms: p99ms(ours),
            reference_p99_ms: p99ms(theirs),
          },
        }),
        close: () => closeAll([s, n]),
      };
    } catch (e) {
      await closeAll([sim, nginx]);
      throw e;
    }
  },
};
