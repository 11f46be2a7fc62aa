// The vendor calls a client makes, as one fixed list both sides name the same way: the reference client counts
// its attempts per route (reference/music/transport.ts) and the simulator counts the requests it answered per
// route (simulator/ops/observe.ts, `ktv_vendor_requests_total` in /metrics), so a run can compare the two.
// A route is the SDK call (or, for sendExtendedRequest, its command): "/search/song", "requestResource",
// "download". The list is fixed so counters can be arrays indexed by route (no per-request key building) and
// an unknown command cannot grow it (it counts as EXTENDED_OTHER).

/** Every sendExtendedRequest command of the spec (zego-copyrighted-music.md §1). */
export const EXTENDED_COMMANDS = [
  "/tag/list",
  "/tag/song",
  "/song/infos",
  "/search/tips",
  "/search/song",
  "/search/plus",
  "/top/song",
  "/song/copyright",
  "/song/accompany/krc/segment",
  "/song/accompany/clip_info",
  "/song/accompany/clip_url/status",
  "/song/extra",
  "/api/get_prelude_end_time",
] as const;

const EXTENDED_OTHER = "sendExtendedRequest (other command)";

export const VENDOR_ROUTES = [
  "initCopyrightedMusic",
  "loginRoom",
  "logoutRoom",
  ...EXTENDED_COMMANDS,
  EXTENDED_OTHER,
  "requestResource",
  "getSharedResource",
  "getLrcLyric",
  "getKrcLyricByToken",
  "getStandardPitch",
  "download",
] as const;

export type VendorRoute = (typeof VENDOR_ROUTES)[number];

const index = (r: VendorRoute) => VENDOR_ROUTES.indexOf(r);

/** Route index of each fixed path (downloads carry the resource id in the path: matched by prefix). */
const BY_PATH: ReadonlyMap<string, number> = new Map([
  ["/v1/music/init", index("initCopyrightedMusic")],
  ["/v1/room/login", index("loginRoom")],
  ["/v1/room/logout", index("logoutRoom")],
  ["/v1/music/resource", index("requestResource")],
  ["/v1/music/shared-resource", index("getSharedResource")],
  ["/v1/music/lyrics/lrc", index("getLrcLyric")],
  ["/v1/music/lyrics/krc", index("getKrcLyricByToken")],
  ["/v1/music/pitch", index("getStandardPitch")],
]);
const BY_COMMAND: ReadonlyMap<string, number> = new Map(EXTENDED_COMMANDS.map((c) => [c, index(c)]));
const EXTENDED_PATH = "/v1/music/extended";
const DOWNLOAD_PREFIX = "/v1/music/download/";
const OTHER_COMMAND = index(EXTENDED_OTHER);
const DOWNLOAD = index("download");

/**
 * The route of a vendor request: `path` is the request path without query (a concrete download path or the
 * server's template `/v1/music/download/:resource_id`), `command` the extended request's command if any.
 * -1 for a path that is not a vendor call (admin, ops, the media WebSocket). No allocation.
 */
export function vendorRouteIndex(path: string, command: unknown): number {
  if (path === EXTENDED_PATH) {
    return typeof command === "string" ? (BY_COMMAND.get(command) ?? OTHER_COMMAND) : OTHER_COMMAND;
  }
  if (path.startsWith(DOWNLOAD_PREFIX)) return DOWNLOAD;
  return BY_PATH.get(path) ?? -1;
}

export const DOWNLOAD_ROUTE = DOWNLOAD;
