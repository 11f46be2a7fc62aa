import { check } from "k6";
import exec from "k6/execution";
import http from "k6/http";
import { Counter, Trend } from "k6/metrics";
import type { Options } from "k6/options";
import {
  firstResource,
  headers,
  openSession,
  requestAccompaniment,
  singableChart,
  TARGET,
} from "./lib/vendor.ts";

// The CDN as players download from it: each iteration requests a song's accompaniment and downloads the file
// the way a client resumes a cut download: in pieces of KTV_PIECE bytes (default 256 KiB), each a Range
// request from where the previous one stopped, bound to the first answer's ETag with If-Range (a file that
// changed in between would come whole, with 200, and the check fails). Checked: every piece is a 206 with
// the asked Content-Range, and the pieces add up to the size requestResource announced.
//
//   KTV_VUS (default 4), KTV_DURATION (default 30s), KTV_PIECE, and lib/vendor.ts's KTV_TARGET ...
//   k6 run -e KTV_TARGET=http://127.0.0.1:7400 scenarios/k6/download.ts

const PREFIX = __ENV.KTV_PREFIX ?? "k6dl";
const PIECE = Number(__ENV.KTV_PIECE ?? 256 * 1024);

export const options: Options = {
  scenarios: {
    downloads: {
      executor: "constant-vus",
      vus: Number(__ENV.KTV_VUS ?? 4),
      duration: __ENV.KTV_DURATION ?? "30s",
    },
  },
  thresholds: {
    checks: ["rate==1"],
    http_req_failed: ["rate<0.01"],
    download_ms: ["p(95)<10000"],
  },
};

// The Node runner's metric names (scenarios/metrics/catalog.ts).
const downloadMs = new Trend("download_ms", true);
const bytesDownloaded = new Counter("bytes_downloaded");
const songsStarted = new Counter("songs_started");
const billableRequests = new Counter("billable_requests");

let session: string | null = null;

export default async function download(): Promise<void> {
  session ??= await openSession(`${PREFIX}-v${exec.vu.idInTest}`);
  const s = session;
  const songs = await singableChart(s);
  const song = songs[(exec.vu.idInTest + __ITER) % Math.max(1, songs.length)];
  if (!song) return;
  const res = firstResource(await requestAccompaniment(s, song.song_id));
  if (!res) return;
  billableRequests.add(1);

  const url = `${TARGET}/v1/music/download/${encodeURIComponent(res.resource_id)}`;
  const t = Date.now();
  let etag: string | null = null;
  let got = 0;
  while (got < res.size) {
    const last = Math.min(res.size, got + PIECE) - 1;
    const h = { ...headers(s), range: `bytes=${got}-${last}` } as Record<string, string>;
    if (etag) h["if-range"] = etag;
    const piece = await http.asyncRequest("GET", url, null, {
      headers: h,
      responseType: "none",
      tags: { name: "download" },
    });
    const ok = check(piece, {
      "download: 206 with the asked range": (r) =>
        r.status === 206 && (r.headers["Content-Range"] ?? "").startsWith(`bytes ${got}-${last}/${res.size}`),
    });
    if (!ok) return;
    etag ??= piece.headers.Etag ?? null;
    got = last + 1;
  }
  downloadMs.add(Date.now() - t);
  bytesDownloaded.add(got);
  if (check(got, { "download: every byte, resumed piece by piece": (n) => n === res.size }))
    songsStarted.add(1);
}
