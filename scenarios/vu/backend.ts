import { SERVER_API_ACTIONS, type ServerApiAction, type ServerApiParams } from "../../protocol/server-api.ts";
import { ServerApiClient } from "../../reference/server-api/client.ts";
import type { IterationOutcome, IterationSpec, Vu, VuContext } from "./types.ts";

// The "backend" VU: a partner's backend, not a user. Each iteration is one call of the vendor's server-side
// KTV REST API (`GET /?Action=`) through the reference server client (reference/server-api/client.ts: signed,
// skew-corrected, retried on 320000002 / 320050002), the action drawn from BACKEND_MIX, seeded by the VU and
// the iteration. Under an open model the arrivals set the request rate whatever the API's speed. It records
// per action: server_api_calls{action} (each call, retries folded in), server_api_ms{action} (the call from
// the first attempt to the answer, backoffs included: what the backend waited) and server_api_retries{action};
// a non-zero Code fails the iteration with that code. It signs with the run's app secret (`--token-secret`,
// default the dev app's), the app's ServerSecret.

/** Relative weights: what a backend asks most (rights checks, song info, lyrics) and least (tag lists). */
export const BACKEND_MIX: Readonly<Record<ServerApiAction, number>> = {
  QuerySongsCopyright: 6,
  QuerySongsInfo: 4,
  DescribeSongLyric: 3,
  QuerySong: 3,
  QueryTips: 2,
  DescribeTopSongs: 2,
  DescribeAccompanyClipInfo: 2,
  DescribeKrcSegment: 1,
  DescribeAccompanyClipStatus: 1,
  DescribeSongExtra: 1,
  QuerySongPlus: 1,
  DescribeTagSongs: 1,
  DescribeTags: 1,
};

const TOTAL = SERVER_API_ACTIONS.reduce((a, n) => a + BACKEND_MIX[n], 0);

/** mulberry32: a small seeded generator, so the same run seed asks the same actions in the same order. */
function rng(seed: number): () => number {
  let t = seed >>> 0;
  return () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let x = Math.imul(t ^ (t >>> 15), 1 | t);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

export function pickAction(u: number): ServerApiAction {
  let left = u * TOTAL;
  for (const a of SERVER_API_ACTIONS) {
    left -= BACKEND_MIX[a];
    if (left < 0) return a;
  }
  return SERVER_API_ACTIONS[SERVER_API_ACTIONS.length - 1]!;
}

interface Songs {
  ids: string[];
  names: string[];
  tagId: string;
}

export function createBackendVu(ctx: VuContext): Vu {
  let songs: Promise<Songs> | null = null;
  const clients = new Map<string, ServerApiClient>();
  const clientFor = (userId: string): ServerApiClient => {
    let c = clients.get(userId);
    if (!c) {
      c = new ServerApiClient({
        baseUrl: ctx.target,
        appId: ctx.appID,
        serverSecret: ctx.tokenSecret ?? "",
        userId,
      });
      clients.set(userId, c);
    }
    return c;
  };
  // What the backend knows before it calls: a chart's songs and a tag, fetched once per VU (not recorded).
  const known = (c: ServerApiClient): Promise<Songs> => {
    songs ??= (async () => {
      const top = await c.call("DescribeTopSongs", { TopId: "8888", Page: 1 });
      const tags = await c.call("DescribeTags");
      return {
        ids: top.Songs.map((s) => s.SongId),
        names: top.Songs.map((s) => s.SongName),
        tagId: tags.Groups[0]?.Tags[0]?.TagId ?? "",
      };
    })();
    songs.catch(() => {
      songs = null;
    });
    return songs;
  };

  return {
    async iteration(spec: IterationSpec, signal: AbortSignal): Promise<IterationOutcome> {
      const { rec } = ctx;
      const fail = (code: number | string): IterationOutcome => {
        rec.error(code);
        return { ok: false, code, ttfaMs: null, aborted: signal.aborted };
      };
      if (ctx.tokenSecret === undefined || ctx.tokenSecret.length !== 32) return fail("no-server-secret");
      const c = clientFor(spec.userID);
      let s: Songs;
      try {
        s = await known(c);
      } catch (e) {
        return fail((e as { code?: number }).code || "exception");
      }
      if (s.ids.length === 0) return fail("no-songs");
      const r = rng((spec.seed ^ Math.imul(spec.iteration + 1, 0x9e3779b1)) >>> 0);
      const action = pickAction(r());
      const id = () => s.ids[Math.floor(r() * s.ids.length)]!;
      const params: Record<ServerApiAction, () => ServerApiParams> = {
        QuerySongsCopyright: () => ({ SongsId: [id(), id(), id()] }),
        QuerySongsInfo: () => ({ SongsId: [id(), id()] }),
        DescribeSongLyric: () => ({ SongId: id() }),
        QuerySong: () => ({ Keyword: s.names[Math.floor(r() * s.names.length)]!, Page: 1 }),
        QueryTips: () => ({ Keyword: s.names[Math.floor(r() * s.names.length)]!.slice(0, 2) }),
        DescribeTopSongs: () => ({ TopId: "8888", Page: 1 + Math.floor(r() * 3) }),
        DescribeAccompanyClipInfo: () => ({ SongId: id() }),
        DescribeKrcSegment: () => ({ SongId: id() }),
        DescribeAccompanyClipStatus: () => ({ SongId: id() }),
        DescribeSongExtra: () => ({ SongId: id() }),
        QuerySongPlus: () => ({ Keyword: s.names[Math.floor(r() * s.names.length)]!, Page: 1 }),
        DescribeTagSongs: () => ({ TagId: s.tagId, Page: 1 }),
        DescribeTags: () => ({}),
      };
      const t0 = performance.now();
      const out = await c.attempt(action, params[action]());
      rec.record(`server_api_ms{action:${action}}`, performance.now() - t0);
      rec.add(`server_api_calls{action:${action}}`);
      if (out.attempts > 1) rec.add(`server_api_retries{action:${action}}`, out.attempts - 1);
      const code = out.envelope?.Code;
      if (code === undefined) return fail(out.status === 0 ? "no-answer" : `http-${out.status}`);
      if (code !== 0) return fail(code);
      if (out.attempts > 1) rec.add("recoveries{rule:server-api-retry}");
      return { ok: true, code: 0, ttfaMs: null, aborted: false };
    },
    close: async () => {},
  };
}
