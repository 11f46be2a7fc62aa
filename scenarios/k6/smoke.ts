import { check, fail } from "k6";
import exec from "k6/execution";
import http from "k6/http";
import { Counter, Trend } from "k6/metrics";
import type { Options } from "k6/options";
import {
  ACCOMPANIMENT,
  extended,
  firstResource,
  headers,
  openSession,
  requestAccompaniment,
  singableChart,
  songsOf,
  TARGET,
  TOP_ID,
  VENDOR,
  vendor,
} from "./lib/vendor.ts";

// The whole vendor flow a few times, the way an app drives it over the simulator's wire API
// (/work/shared/spec/wire-api.md): open a music session per user, log both users of a room in, browse the
// tags and a chart, search the song by name, request the accompaniment (billed), fetch the room's share as
// the second user (free), download the file in two Range requests (the second resumes where the first
// stopped), fetch LRC, KRC and the standard pitch, log out. Every step is a check; the run passes only when all
// of them do. Async style (http.asyncRequest, an async default), so the same file runs in k6 >= 0.57 and
// under `ktv k6`.
//
// Target and credentials from __ENV (lib/vendor.ts; defaults: the simulator's development app, which `ktv k6` embeds):
//   KTV_TARGET, KTV_APP_ID, KTV_APP_SIGN, KTV_PREFIX (user/room id prefix), KTV_TOP_ID (chart).
//   k6 run -e KTV_TARGET=http://127.0.0.1:7400 scenarios/k6/smoke.ts

const PREFIX = __ENV.KTV_PREFIX ?? "k6smoke";

export const options: Options = {
  vus: 1,
  iterations: 3,
  thresholds: {
    checks: ["rate==1"],
    http_req_failed: ["rate==0"],
    request_resource_ms: ["p(95)<2000"],
  },
};

// The Node runner's metric names (scenarios/metrics/catalog.ts), so both runners' results read alike.
const searchMs = new Trend("search_ms", true);
const requestResourceMs = new Trend("request_resource_ms", true);
const downloadMs = new Trend("download_ms", true);
const billableRequests = new Counter("billable_requests");
const bytesDownloaded = new Counter("bytes_downloaded");
const songsStarted = new Counter("songs_started");

/** One Range request of the download; the bytes it brought (0 when it failed). */
async function downloadRange(session: string, id: string, from: number, to: number): Promise<number> {
  const res = await http.asyncRequest("GET", `${TARGET}/v1/music/download/${encodeURIComponent(id)}`, null, {
    headers: { ...headers(session), range: `bytes=${from}-${to}` },
    responseType: "none",
    tags: { name: "download" },
  });
  const expected = `bytes ${from}-${to}/`;
  const ok = check(res, {
    "download: 206 with the asked range": (r) =>
      r.status === 206 && (r.headers["Content-Range"] ?? "").startsWith(expected),
  });
  return ok ? to - from + 1 : 0;
}

export default async function smoke(): Promise<void> {
  const round = exec.vu.iterationInScenario;
  // exec.vu.idInTest, not __VU: unique over every instance of a segmented run.
  const singer = `${PREFIX}-v${exec.vu.idInTest}`;
  const listener = `${PREFIX}-v${exec.vu.idInTest}-l`;
  const room = `${PREFIX}-room${exec.vu.idInTest}-${round}`;

  const session = await openSession(singer);
  const listenerSession = await openSession(listener);
  await vendor("POST", "/v1/room/login", "loginRoom", session, { room_id: room });
  await vendor("POST", "/v1/room/login", "loginRoom", listenerSession, { room_id: room });

  // Browse, then pick from the chart (filter 1: singable) and find the song again by its name.
  let t = Date.now();
  const tags = await extended(session, "/tag/list", { vendor_id: VENDOR });
  check(tags, { "/tag/list: has groups": (e) => Array.isArray(e?.data?.groups) });
  const singable = await singableChart(session);
  check(singable, { "/top/song: has singable songs": (s) => s.length > 0 });
  const song = singable[round % Math.max(1, singable.length)];
  if (!song) fail(`chart ${TOP_ID} has no singable song`);
  const found = songsOf(
    await extended(session, "/search/song", { vendor_id: VENDOR, keyword: song.song_name, page: 1 }),
  );
  check(found, { "/search/song: finds the chart's song": (s) => s.some((x) => x.song_id === song.song_id) });
  searchMs.add(Date.now() - t);

  // The singer pays; the listener takes the room's share for free.
  t = Date.now();
  const requested = await requestAccompaniment(session, song.song_id, room);
  requestResourceMs.add(Date.now() - t);
  const resource = firstResource(requested);
  if (!resource) fail(`requestResource for ${song.song_id} gave no resource`);
  billableRequests.add(1);
  const shared = await vendor("POST", "/v1/music/shared-resource", "getSharedResource", listenerSession, {
    song_id: song.song_id,
    resource_type: ACCOMPANIMENT,
    vendor_id: VENDOR,
    room_id: room,
  });
  check(shared, { "getSharedResource: a resource": (e) => firstResource(e) !== null });

  // Download in two pieces: the second Range request resumes where the first one stopped.
  t = Date.now();
  const half = Math.floor(resource.size / 2);
  let got = await downloadRange(session, resource.resource_id, 0, half - 1);
  got += await downloadRange(session, resource.resource_id, half, resource.size - 1);
  downloadMs.add(Date.now() - t);
  bytesDownloaded.add(got);
  if (check(got, { "download: every byte": (n) => n === resource.size })) songsStarted.add(1);

  const krcToken = requested?.data?.krc_token;
  const q = encodeURIComponent;
  const lrc = await vendor("GET", `/v1/music/lyrics/lrc?song_id=${q(song.song_id)}`, "getLrcLyric", session);
  check(lrc, { "getLrcLyric: lines": (e) => Array.isArray(e?.data?.lines) });
  if (typeof krcToken === "string") {
    const krc = await vendor(
      "GET",
      `/v1/music/lyrics/krc?krc_token=${q(krcToken)}`,
      "getKrcLyricByToken",
      session,
    );
    check(krc, { "getKrcLyricByToken: lines": (e) => Array.isArray(e?.data?.lines) });
  }
  const pitch = await vendor(
    "GET",
    `/v1/music/pitch?resource_id=${q(resource.resource_id)}`,
    "getStandardPitch",
    session,
  );
  check(pitch, { "getStandardPitch: a pitch line": (e) => Array.isArray(e?.data?.pitch) });

  await vendor("POST", "/v1/room/logout", "logoutRoom", listenerSession, { room_id: room });
  await vendor("POST", "/v1/room/logout", "logoutRoom", session, { room_id: room });
}
