import { check, fail } from "k6";
import http, { type RefinedResponse, type ResponseType } from "k6/http";

// The vendor's wire API (/work/shared/spec/wire-api.md) for the k6 scripts: credentials and target from
// __ENV, one call = one request with the app's auth headers, a check that it answered code 0, and the
// envelope back. Imported by relative path with its .ts extension, which k6 (>= 0.57) and `ktv k6` both
// resolve.
//   KTV_TARGET (default http://127.0.0.1:7400), KTV_APP_ID, KTV_APP_SIGN (the simulator's development app),
//   KTV_PREFIX (user and room ids), KTV_TOP_ID (the chart songs come from, default 8888).

export const TARGET = (__ENV.KTV_TARGET ?? "http://127.0.0.1:7400").replace(/\/+$/, "");
export const APP_ID = __ENV.KTV_APP_ID ?? "1000000001";
export const APP_SIGN = __ENV.KTV_APP_SIGN ?? "0123456789abcdef".repeat(4);
export const TOP_ID = __ENV.KTV_TOP_ID ?? "8888";
/** requestResource's V2 ints (spec §2). */
export const ACCOMPANIMENT = 1;
export const BILLING_COUNT = 0;
export const VENDOR = 0;

export interface Envelope {
  code: number;
  message: string;
  data: Record<string, unknown> | null;
}

export function headers(session?: string): Record<string, string> {
  const h: Record<string, string> = {
    "content-type": "application/json",
    "x-app-id": APP_ID,
    "x-app-sign": APP_SIGN,
  };
  if (session !== undefined) h["x-session"] = session;
  return h;
}

/** The vendor envelope of a JSON answer, or null when the body is not one. */
export function envelope(res: RefinedResponse<ResponseType | undefined>): Envelope | null {
  try {
    const e = res.json() as unknown as Envelope | null;
    return e !== null && typeof e === "object" && typeof e.code === "number" ? e : null;
  } catch {
    return null;
  }
}

/**
 * One vendor call: POST with a JSON body or GET with a query; `name` tags the request (URLs carry ids) and
 * names its check. The envelope when it answered code 0, else null.
 */
export async function vendor(
  method: "GET" | "POST",
  path: string,
  name: string,
  session: string | undefined,
  body?: object,
  /** Vendor codes that are a right answer too (e.g. 1017075: the resource has no pitch line); returned as is. */
  accept: readonly number[] = [],
): Promise<Envelope | null> {
  const res = await http.asyncRequest(
    method,
    `${TARGET}${path}`,
    body === undefined ? null : JSON.stringify(body),
    { headers: headers(session), tags: { name } },
  );
  const env = envelope(res);
  const code = env?.code;
  const accepted = code !== undefined && accept.includes(code);
  const label = accept.length === 0 ? `${name}: code 0` : `${name}: code 0 or ${accept.join(" or ")}`;
  check(res, { [label]: () => (res.status === 200 && code === 0) || accepted });
  return code === 0 || accepted ? env : null;
}

/** initCopyrightedMusic: the user's session id (the iteration fails without one). */
export async function openSession(user: string): Promise<string> {
  const env = await vendor("POST", "/v1/music/init", "initCopyrightedMusic", undefined, {
    user_id: user,
    user_name: user,
  });
  const session = env?.data?.session;
  if (typeof session !== "string") fail(`initCopyrightedMusic for ${user} gave no session`);
  return session;
}

/** sendExtendedRequest: the SDK's form, params as a JSON string. */
export async function extended(session: string, command: string, params: object): Promise<Envelope | null> {
  return vendor("POST", "/v1/music/extended", command, session, { command, params: JSON.stringify(params) });
}

export interface Song {
  song_id: string;
  song_name: string;
  /** 0 when the song has no accompaniment (requestResource would answer 1017033). */
  accompany_duration?: number;
}

export function songsOf(env: Envelope | null): Song[] {
  const songs = env?.data?.songs;
  return Array.isArray(songs)
    ? songs.filter((s): s is Song => typeof s?.song_id === "string" && typeof s?.song_name === "string")
    : [];
}

/** Songs of the chart that can be sung: accompaniment rights (filter 1) and an accompaniment at all. */
export async function singableChart(session: string): Promise<Song[]> {
  const chart = songsOf(
    await extended(session, "/top/song", { vendor_id: VENDOR, top_id: TOP_ID, page: 1, filter: [1] }),
  );
  return chart.filter((s) => (s.accompany_duration ?? 1) > 0);
}

export interface Resource {
  resource_id: string;
  size: number;
}

export function firstResource(env: Envelope | null): Resource | null {
  const list = env?.data?.resources;
  const r: unknown = Array.isArray(list) ? list[0] : undefined;
  if (r === null || typeof r !== "object") return null;
  const { resource_id, size } = r as Record<string, unknown>;
  return typeof resource_id === "string" && typeof size === "number" ? { resource_id, size } : null;
}

/** requestResource for an accompaniment, count billing; in `room` (a room the user logged in to, else 1017054). */
export async function requestAccompaniment(
  session: string,
  songID: string,
  room?: string,
): Promise<Envelope | null> {
  return vendor("POST", "/v1/music/resource", "requestResource", session, {
    song_id: songID,
    resource_type: ACCOMPANIMENT,
    billing_mode: BILLING_COUNT,
    vendor_id: VENDOR,
    ...(room === undefined ? {} : { room_id: room }),
  });
}
