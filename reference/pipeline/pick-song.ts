import { isEnvelope } from "../../protocol/envelope.ts";
import type { ZegoCopyrightedMusic } from "../music/copyrighted-music.ts";
import type { SongChoice } from "./config.ts";

// Step one of the flow: turn what the user asked for (a search, a chart, a song id) into the songs that can
// actually be used for the requested resource type, best first. Songs without the needed rights are dropped
// here rather than discovered by a billable request; later candidates are where a revoked song skips to.

export interface Candidate {
  song_id: string;
  song_name: string;
  singer_name: string;
  duration: number;
  /**
   * The list item says the song has no standard pitch line (vendor 2's pitch_ability 2; spec §1): its pitch is
   * not asked for (the vendor would answer 1017075). Vendors 0/1/4 do not say, so theirs is asked for.
   */
  noPitchLine?: boolean;
}

export type PickOutcome =
  | { ok: true; candidates: Candidate[] }
  | { ok: false; code: number; message: string };

/** No song matched (the vendor has no "not found" code for searches; 1017034 is "resource does not exist"). */
export const NO_MATCH = 1017034;

type ExtendedApi = Pick<ZegoCopyrightedMusic, "sendExtendedRequest">;

interface SongItem {
  song_id?: unknown;
  song_name?: unknown;
  singer_name?: unknown;
  duration?: unknown;
  has_clip?: unknown;
  has_short_segment?: unknown;
  pitch_ability?: unknown;
  accompany_duration?: unknown;
  copyright?: { song_lyric?: unknown; recording?: unknown };
}

/** The extended command (and params) that lists songs for a choice. */
export function listCommand(choice: SongChoice, vendorID: number, resourceType: number): [string, object] {
  // Filter 1 drops songs without accompaniment rights, so the first page is all singable.
  const filter = resourceType === 0 ? [] : [1];
  if ("query" in choice)
    return ["/search/song", { vendor_id: vendorID, keyword: choice.query, page: 1, filter }];
  if ("topID" in choice) return ["/top/song", { vendor_id: vendorID, top_id: choice.topID, page: 1, filter }];
  return ["/song/infos", { vendor_id: vendorID, songs_id: [choice.songID] }];
}

/** Whether a `songs[]` item's rights allow this resource type (spec §1 copyright flags, §2 clip support). */
export function usableFor(s: SongItem, resourceType: number): boolean {
  const c = s.copyright ?? {};
  if (resourceType === 0) return c.recording === 1;
  if (c.song_lyric !== 1) return false;
  // The list item says whether an accompaniment exists at all (else requestResource answers 1017033).
  if (typeof s.accompany_duration === "number" && s.accompany_duration <= 0) return false;
  if (resourceType === 2) return s.has_clip === 1;
  if (resourceType === 3) return s.has_clip === 1 || s.has_short_segment === 1;
  return true;
}

export async function pickSongs(
  music: ExtendedApi,
  choice: SongChoice,
  o: { vendorID: number; resourceType: number; max: number },
): Promise<PickOutcome> {
  const [command, params] = listCommand(choice, o.vendorID, o.resourceType);
  const r = await music.sendExtendedRequest(command, JSON.stringify(params));
  if (r.errorCode !== 0) return { ok: false, code: r.errorCode, message: `${command} failed` };
  const songs = parseSongs(r.result);
  if (!songs) return { ok: false, code: 1017010, message: `${command}: the answer has no songs[] list` };
  const candidates = songs
    .filter((s) => typeof s.song_id === "string" && usableFor(s, o.resourceType))
    .slice(0, o.max)
    .map((s) => ({
      song_id: s.song_id as string,
      song_name: typeof s.song_name === "string" ? s.song_name : "",
      singer_name: typeof s.singer_name === "string" ? s.singer_name : "",
      duration: typeof s.duration === "number" ? s.duration : 0,
      ...(s.pitch_ability === 2 ? { noPitchLine: true } : {}),
    }));
  if (candidates.length === 0) {
    return {
      ok: false,
      code: NO_MATCH,
      message: `no song for ${describe(choice)} can be used as ${typeName(o.resourceType)}`,
    };
  }
  return { ok: true, candidates };
}

function parseSongs(result: string): SongItem[] | null {
  try {
    const env: unknown = JSON.parse(result);
    if (!isEnvelope(env)) return null;
    const songs = (env.data as { songs?: unknown } | null)?.songs;
    return Array.isArray(songs)
      ? songs.filter((s): s is SongItem => typeof s === "object" && s !== null)
      : null;
  } catch {
    return null;
  }
}

export function describe(choice: SongChoice): string {
  if ("query" in choice) return `"${choice.query}"`;
  if ("topID" in choice) return `chart ${choice.topID}`;
  return `song id ${choice.songID}`;
}

function typeName(t: number): string {
  return (
    ["the original song", "an accompaniment", "an accompaniment clip", "an accompaniment segment"][t] ??
    `type ${t}`
  );
}
