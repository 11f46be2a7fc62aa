import { check } from "k6";
import exec from "k6/execution";
import { Counter, Trend } from "k6/metrics";
import type { Options } from "k6/options";
import {
  ACCOMPANIMENT,
  extended,
  firstResource,
  openSession,
  requestAccompaniment,
  type Song,
  singableChart,
  songsOf,
  VENDOR,
  vendor,
} from "./lib/vendor.ts";

// The vendor API as an app's users load it: an open model (constant-arrival-rate: requests arrive at their
// rate however slow the answers are, the way users do) over a weighted mix of what the SDK calls. Each arrival
// is one call of the mix: browse tags (/tag/list then a tag's songs), a chart, a search, requestResource
// (billed) followed by a new room member's getSharedResource (free), lyrics (LRC, or KRC by the resource's
// krc_token), the standard pitch. A VU opens its music session on its first iteration and keeps it (module
// state is per VU), as an app initialises the SDK once. The song pool is the chart, read once in setup().
//
//   KTV_RATE arrivals per second (default 20), KTV_DURATION (default 30s), KTV_VUS pre-allocated (default 20,
//   up to 4x on demand), and lib/vendor.ts's KTV_TARGET, KTV_APP_ID, KTV_APP_SIGN, KTV_PREFIX, KTV_TOP_ID.
//   k6 run -e KTV_TARGET=http://127.0.0.1:7400 -e KTV_RATE=100 scenarios/k6/vendor-api.ts
// Segments of one run share a prefix (exec.vu.idInTest keeps their users apart); two separate runs at once
// against one target need different KTV_PREFIX values, or their VUs are the same users in the same rooms and a
// room member is refused its second free share (1017051), as the vendor would refuse it.

const PREFIX = __ENV.KTV_PREFIX ?? "k6api";
const RATE = Number(__ENV.KTV_RATE ?? 20);
const VUS = Number(__ENV.KTV_VUS ?? 20);

export const options: Options = {
  scenarios: {
    mix: {
      executor: "constant-arrival-rate",
      rate: RATE,
      timeUnit: "1s",
      duration: __ENV.KTV_DURATION ?? "30s",
      preAllocatedVUs: VUS,
      maxVUs: VUS * 4,
    },
  },
  thresholds: {
    checks: ["rate>0.99"],
    http_req_failed: ["rate<0.01"],
    "http_req_duration{name:requestResource}": ["p(95)<1000"],
    dropped_iterations: ["count==0"],
  },
};

/** The mix: relative weights of each call (an app browses and searches far more than it requests). */
const MIX: [string, number][] = [
  ["tags", 2],
  ["chart", 3],
  ["search", 3],
  ["request", 1],
  ["lyrics", 1],
  ["pitch", 1],
];
const TOTAL = MIX.reduce((a, [, w]) => a + w, 0);

// The Node runner's metric names (scenarios/metrics/catalog.ts).
const searchMs = new Trend("search_ms", true);
const requestResourceMs = new Trend("request_resource_ms", true);
const billableRequests = new Counter("billable_requests");
const sharedFetches = new Counter("shared_fetches");

interface SetupData {
  songs: Song[];
}

export async function setup(): Promise<SetupData> {
  const session = await openSession(`${PREFIX}-setup`);
  const songs = await singableChart(session);
  if (songs.length === 0) throw new Error("the chart has no singable song: nothing to request");
  return { songs };
}

const NO_PITCH_LINE = 1017075;

// Per VU: its session, and the last resource it requested (lyrics and pitch need one of this session's).
let session: string | null = null;
let resource: { id: string; krcToken: string | null; songID: string } | null = null;

function pick(): string {
  let x = Math.random() * TOTAL;
  for (const [op, w] of MIX) {
    x -= w;
    if (x < 0) return op;
  }
  return MIX[0]![0];
}

// exec.vu.idInTest, not __VU: __VU restarts at 1 on every instance of a segmented (multi-machine) run.
function user(): string {
  return `${PREFIX}-v${exec.vu.idInTest}`;
}

function room(): string {
  return `${PREFIX}-room${exec.vu.idInTest}`;
}

async function request(s: string, song: Song): Promise<void> {
  const r = room();
  await vendor("POST", "/v1/room/login", "loginRoom", s, { room_id: r });
  const t = Date.now();
  const env = await requestAccompaniment(s, song.song_id, r);
  requestResourceMs.add(Date.now() - t);
  const res = firstResource(env);
  if (!res) return;
  billableRequests.add(1);
  const krc = env?.data?.krc_token;
  resource = { id: res.resource_id, krcToken: typeof krc === "string" ? krc : null, songID: song.song_id };
  // A new member of the room takes the share: free, once per user and resource.
  const member = await openSession(`${user()}-m${__ITER}`);
  await vendor("POST", "/v1/room/login", "loginRoom", member, { room_id: r });
  const shared = await vendor("POST", "/v1/music/shared-resource", "getSharedResource", member, {
    song_id: song.song_id,
    resource_type: ACCOMPANIMENT,
    vendor_id: VENDOR,
    room_id: r,
  });
  if (check(shared, { "getSharedResource: a resource": (e) => firstResource(e) !== null }))
    sharedFetches.add(1);
  // The member leaves, as an app's listener does: one new member per iteration that never left would grow the
  // room's membership for the whole run (the simulator caps it per app, at 2,000,000 members by default).
  await vendor("POST", "/v1/room/logout", "logoutRoom", member, { room_id: r });
}

export default async function mix(data: SetupData): Promise<void> {
  session ??= await openSession(user());
  const s = session;
  const song = data.songs[Math.floor(Math.random() * data.songs.length)]!;
  let op = pick();
  if ((op === "lyrics" || op === "pitch") && !resource) op = "request";
  const q = encodeURIComponent;
  switch (op) {
    case "tags": {
      const tags = await extended(s, "/tag/list", { vendor_id: VENDOR });
      const groups = tags?.data?.groups;
      const first = Array.isArray(groups) ? groups[0]?.tags?.[0]?.tag_id : undefined;
      if (typeof first === "string") {
        const list = await extended(s, "/tag/song", { vendor_id: VENDOR, tag_id: first, page: 1 });
        check(list, { "/tag/song: has songs": (e) => songsOf(e).length > 0 });
      }
      break;
    }
    case "chart": {
      const t = Date.now();
      const list = await extended(s, "/top/song", {
        vendor_id: VENDOR,
        top_id: "8888",
        page: 1,
        filter: [1],
      });
      searchMs.add(Date.now() - t);
      check(list, { "/top/song: has songs": (e) => songsOf(e).length > 0 });
      break;
    }
    case "search": {
      const t = Date.now();
      const found = await extended(s, "/search/song", {
        vendor_id: VENDOR,
        keyword: song.song_name,
        page: 1,
      });
      searchMs.add(Date.now() - t);
      check(found, {
        "/search/song: finds the song": (e) => songsOf(e).some((x) => x.song_id === song.song_id),
      });
      break;
    }
    case "request":
      await request(s, song);
      break;
    case "lyrics": {
      const r = resource!;
      const env = r.krcToken
        ? await vendor("GET", `/v1/music/lyrics/krc?krc_token=${q(r.krcToken)}`, "getKrcLyricByToken", s)
        : await vendor("GET", `/v1/music/lyrics/lrc?song_id=${q(r.songID)}`, "getLrcLyric", s);
      check(env, { "lyrics: lines": (e) => Array.isArray(e?.data?.lines) });
      break;
    }
    case "pitch": {
      // A song without a pitch line answers 1017075 (spec: "resource has no pitch"); vendor 0's list items do
      // not say which songs have one, so that is a right answer here, not a failure.
      const env = await vendor(
        "GET",
        `/v1/music/pitch?resource_id=${q(resource!.id)}`,
        "getStandardPitch",
        s,
        undefined,
        [NO_PITCH_LINE],
      );
      check(env, {
        "getStandardPitch: a pitch line, or 1017075": (e) =>
          e?.code === NO_PITCH_LINE || Array.isArray(e?.data?.pitch),
      });
      break;
    }
  }
}
