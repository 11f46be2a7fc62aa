import { isEnvelope } from "../../protocol/envelope.ts";
import { usableFor } from "../../reference/pipeline/pick-song.ts";
import type { ResolvedScenario } from "../resolve.ts";
import type { PoolSong } from "./population.ts";

// The run's setup step (k6's setup()): the songs users choose from, read from the vendor API like a client
// would: the scenario's charts, page by page, keeping songs usable for the resource type (rights, and an
// accompaniment where one is needed), interleaved by rank so the Zipf draw's rank 1 is every chart's top song.
// A vendor without charts (4) takes its first tag's songs instead.

const MAX_PAGES = 20;

export class SetupError extends Error {
  override name = "SetupError";
}

interface Creds {
  target: string;
  appID: number;
  appSign: string;
  userID: string;
}

async function post(
  c: Creds,
  path: string,
  body: unknown,
  session?: string,
): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    res = await fetch(c.target + path, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-app-id": String(c.appID),
        "x-app-sign": c.appSign,
        ...(session ? { "x-session": session } : {}),
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (err) {
    throw new SetupError(
      `setup: POST ${path} on ${c.target}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const env: unknown = await res.json().catch(() => null);
  if (!isEnvelope(env) || env.code !== 0) {
    throw new SetupError(`setup: POST ${path}: HTTP ${res.status} ${JSON.stringify(env).slice(0, 300)}`);
  }
  return (env.data ?? {}) as Record<string, unknown>;
}

export async function buildSongPool(s: ResolvedScenario, c: Creds): Promise<PoolSong[]> {
  const session = String((await post(c, "/v1/music/init", { user_id: c.userID })).session);
  const { vendorId: vendor_id, type } = s.resource;
  const filter = type === 0 ? [] : [1];
  const usable = (x: Record<string, unknown>) =>
    typeof x.song_id === "string" && usableFor(x, type) && (type === 0 || Number(x.accompany_duration) > 0);
  const lists: [string, Record<string, unknown>][] = s.songs.charts.map((top_id) => [
    "/top/song",
    { vendor_id, top_id, filter },
  ]);
  if (lists.length === 0) {
    const tags = await post(
      c,
      "/v1/music/extended",
      { command: "/tag/list", params: { vendor_id } },
      session,
    );
    const group = (tags.groups as { tags?: { tag_id?: string }[] }[] | undefined)?.[0];
    const tag_id = group?.tags?.[0]?.tag_id;
    if (!tag_id)
      throw new SetupError(`setup: vendor ${vendor_id} has no charts and no tags to choose songs from`);
    lists.push(["/tag/song", { vendor_id, tag_id, filter }]);
  }
  const perList: PoolSong[][] = [];
  for (const [command, params] of lists) {
    const songs: PoolSong[] = [];
    for (let page = 1; page <= MAX_PAGES && songs.length < s.songs.poolSize; page++) {
      const d = await post(c, "/v1/music/extended", { command, params: { ...params, page } }, session);
      const items = (d.songs as Record<string, unknown>[] | undefined) ?? [];
      if (items.length === 0) break;
      for (const x of items) {
        if (songs.length < s.songs.poolSize && usable(x)) {
          songs.push({ song_id: x.song_id as string, song_name: String(x.song_name ?? "") });
        }
      }
    }
    perList.push(songs);
  }
  const pool: PoolSong[] = [];
  const seen = new Set<string>();
  for (let rank = 0; pool.length < s.songs.poolSize * perList.length; rank++) {
    if (perList.every((l) => rank >= l.length)) break;
    for (const l of perList) {
      const song = l[rank];
      if (song && !seen.has(song.song_id)) {
        seen.add(song.song_id);
        pool.push(song);
      }
    }
  }
  if (pool.length === 0) {
    throw new SetupError(
      `setup: no usable song for resource type ${type} on ${lists.map((l) => l[0]).join(", ")}`,
    );
  }
  return pool;
}
