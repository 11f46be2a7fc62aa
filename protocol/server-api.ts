import { createHash } from "node:crypto";

// The vendor's server-side KTV REST API (zego-copyrighted-music.md §8 "Server KTV REST"; ZEGO's
// online-ktv-server pages): `GET /?Action=<Name>&<common params>&<action params>`, signed with the app's
// ServerSecret, answered `{Code, Message, RequestId, Data}`. Shared by the simulator (serves and verifies) and
// the reference server-side client (signs and calls), so both name the actions, codes and fields the same way.

/** The answer of every action. Data is null when Code is not 0. */
export interface ServerApiEnvelope<T = unknown> {
  Code: number;
  Message: string;
  RequestId: string;
  Data: T | null;
}

/** The only SignatureVersion the vendor documents. */
export const SIGNATURE_VERSION = "2.0";
/** How far Timestamp may be from the server's clock, seconds ("最多允许 10 分钟的误差"). */
export const SIGNATURE_WINDOW_SECONDS = 600;
/** The documented per-action rate limit ("调用频率限制：200 次/秒"), per app. */
export const DEFAULT_SERVER_API_QPS = 200;

/** Signature = lowercase hex md5(AppId + SignatureNonce + ServerSecret + Timestamp), decimal AppId/Timestamp. */
export function serverApiSignature(
  appId: number,
  signatureNonce: string,
  serverSecret: string,
  timestamp: number,
): string {
  return createHash("md5").update(`${appId}${signatureNonce}${serverSecret}${timestamp}`).digest("hex");
}

/** The vendor's server API return codes (online-ktv-server/return-code). */
export const ServerApiCode = {
  OK: 0,
  SIGNATURE_EXPIRED: 100000004,
  SIGNATURE_INVALID: 100000005,
  RATE_LIMITED: 320000002,
  ILLEGAL_PARAM: 320000004,
  APP_NOT_ENABLED: 320010000,
  PAY_TYPE_NOT_ENABLED: 320010001,
  KRC_TOKEN_ILLEGAL: 320010007,
  KRC_TOKEN_EXPIRED: 320010008,
  NO_LYRIC: 320010009,
  VENDOR_NOT_ENABLED: 320010013,
  VENDOR_NOT_SUPPORTED: 320010014,
  INVALID_VENDOR_ID: 320040001,
  INVALID_APP_ID: 320040002,
  INVALID_SONG_ID: 320040004,
  INVALID_PAGE: 320040005,
  INVALID_TOP_ID: 320040008,
  SYSTEM_ERROR: 320050000,
  SYSTEM_BUSY: 320050002,
  UNDEFINED_ENGINE_ERROR: 320050003,
  ENGINE_INTERNAL_ERROR: 320050004,
} as const;

export const ServerApiMessage: Readonly<Record<number, string>> = {
  0: "succeed",
  100000004: "signature expired",
  100000005: "signature invalid",
  320000002: "rate limited: over the action's requests per second",
  320000004: "illegal parameter",
  320010000: "AppId not enabled for copyrighted music",
  320010001: "pay type not enabled",
  320010007: "KrcToken illegal",
  320010008: "KrcToken expired",
  320010009: "lyric does not exist",
  320010013: "vendor not enabled for this app",
  320010014: "this server API does not support the vendor",
  320040001: "invalid VendorId",
  320040002: "invalid AppId",
  320040004: "invalid SongId",
  320040005: "invalid Page",
  320040008: "invalid TopId",
  320050000: "system error",
  320050002: "system busy, retry later",
  320050003: "undefined engine error",
  320050004: "engine internal error",
};

export const serverApiMessageFor = (code: number) => ServerApiMessage[code] ?? `error ${code}`;

/** Codes a client should retry later (with backoff): the rate limit and "system busy". */
export const RETRYABLE_SERVER_API_CODES: readonly number[] = [320000002, 320050002];

/**
 * Every action the simulator serves. The first ten are confirmed by the vendor's summary; DescribeTopSongs,
 * QuerySong and QuerySongsInfo are the names of the vendor's own pages for the chart, search and song-info
 * actions (online-ktv-server/{describe-top-songs,query-song,query-songs-info}.md).
 */
export const SERVER_API_ACTIONS = [
  "DescribeTags",
  "DescribeTagSongs",
  "DescribeTopSongs",
  "QuerySong",
  "QuerySongPlus",
  "QueryTips",
  "QuerySongsInfo",
  "QuerySongsCopyright",
  "DescribeKrcSegment",
  "DescribeAccompanyClipInfo",
  "DescribeAccompanyClipStatus",
  "DescribeSongExtra",
  "DescribeSongLyric",
] as const;
export type ServerApiAction = (typeof SERVER_API_ACTIONS)[number];

export const isServerApiAction = (s: string): s is ServerApiAction =>
  (SERVER_API_ACTIONS as readonly string[]).includes(s);

// ---- Data of each action (PascalCase, as the vendor's pages show) ----

export interface ServerApiCopyright {
  SongLyric: 0 | 1;
  Recording: 0 | 1;
  Channel: number;
}

export interface ServerApiSong {
  SongId: string;
  SongName: string;
  SingerId: string;
  SingerName: string;
  SingerImg: string;
  AlbumId: string;
  AlbumName: string;
  AlbumImg: string;
  AlbumImgMini: string;
  AlbumImgSmall: string;
  AlbumImgMedium: string;
  Duration: number;
  AccompanyDuration: number;
  VendorId: number;
  HasClip?: 0 | 1;
  PitchAbility?: 1 | 2;
  HasShortSegment?: 1 | 2;
  Copyright: ServerApiCopyright;
}

export interface ServerApiData {
  DescribeTags: {
    Groups: { GroupId: string; GroupName: string; Tags: { TagId: string; TagName: string }[] }[];
  };
  DescribeTagSongs: { Songs: ServerApiSong[] };
  DescribeTopSongs: { Songs: ServerApiSong[] };
  QuerySong: { Songs: ServerApiSong[] };
  QuerySongPlus: { Songs: ServerApiSong[] };
  QueryTips: { Tips: string[] };
  QuerySongsInfo: { Songs: ServerApiSong[] };
  QuerySongsCopyright: {
    Copyright: { SongId: string; Right: 0 | 1; Subright: ServerApiCopyright }[];
  };
  DescribeKrcSegment: { Tags: { Start: number; End: number; Tags: string[] }[] };
  DescribeAccompanyClipInfo: {
    SegmentBegin: number;
    SegmentEnd: number;
    ShortSegmentBegin: number;
    ShortSegmentEnd: number;
  };
  DescribeAccompanyClipStatus: { HasClipUrl?: 0 | 1; HasShortSegmentUrl?: 0 | 1 };
  DescribeSongExtra: { BPM: number; BPMType: "0" | "1" | "2" | "3"; Genres: number[] };
  DescribeSongLyric: { Lyric: string };
}

/** The action params a caller passes besides the common ones; lists go out as `Name[]=a&Name[]=b`. */
export type ServerApiParams = Record<string, string | number | readonly (string | number)[]>;
