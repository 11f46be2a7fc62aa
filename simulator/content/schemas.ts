import { type TObject, Type } from "@sinclair/typebox";
import { MAX_KEYWORD } from "./params.ts";

// Each sendExtendedRequest command's params and answer (`data`), schema first: the dispatcher checks the params
// against `params` before the command runs (dispatch.ts), the OpenAPI document lists both per command
// (openapi.ts), and docs/wire-commands.md is generated from them (wire-doc.ts). A test calls every command and
// checks its answer against `data` (no extra fields: the doc lists every field the simulator sends).
//
// What the params schema decides: types and value ranges, each a 1017040 naming the param, as the vendor
// answers a wrong param. What it leaves to the command: a missing required param, because the vendor answers
// some of those with a dedicated code (song_id: 1017002) and the command knows which; and everything that
// needs the catalog (a tag of this vendor, a song in this vendor's library). Names follow the vendor's
// (zego-copyrighted-music.md §1).

export interface CommandSchema {
  /** One line: what the command answers. */
  summary: string;
  /** The vendors that have the command (1017053 for others); "multi" takes vendors_id instead of vendor_id. */
  vendors: string;
  params: TObject;
  data: TObject;
  /** Error codes of this command beyond the common ones (1017000, 1017001, 1017040, vendor_id's). */
  errors?: string;
}

const vendorId = Type.Optional(
  Type.Integer({
    description:
      "0 default vendor, 1, 2, 4 (3 is unused); default 0. Invalid: 1017071; not enabled for the app: 1017052; the vendor lacks the command: 1017053",
  }),
);
const page = (required: boolean) => {
  const s = Type.Integer({ minimum: 1, description: `page, from 1${required ? "" : "; default 1"}` });
  return required ? s : Type.Optional(s);
};
const FILTER_MEANING: Record<number, string> = {
  1: "1 drop songs without lyric/composition rights",
  2: "2 drop pure-music titles",
  3: "3 drop songs without word-timed lyrics",
  4: "4 drop songs without a pitch line",
};
const filter = (allowed: number[]) =>
  Type.Optional(
    Type.Array(Type.Union(allowed.map((c) => Type.Literal(c))), {
      description: `filter codes: ${allowed.map((c) => FILTER_MEANING[c]).join("; ")}`,
    }),
  );
const keyword = Type.String({ minLength: 1, maxLength: MAX_KEYWORD, description: "search words" });
const songId = Type.String({
  description: "missing or empty: 1017002; not in this vendor's library: 1017072",
});
const songIds = (max: number) =>
  Type.Array(Type.String(), {
    minItems: 1,
    maxItems: max,
    description: "song ids; one outside the vendor's library: 1017072",
  });
const ms = (description: string) => Type.Integer({ description: `${description}, ms` });
const flag = (description: string) => Type.Union([Type.Literal(0), Type.Literal(1)], { description });

/** The spec's `songs[]` item. */
export const SongItem = Type.Object(
  {
    song_id: Type.String(),
    song_name: Type.String(),
    singer_id: Type.String(),
    singer_name: Type.String(),
    singer_img: Type.String(),
    album_id: Type.String(),
    album_name: Type.String(),
    album_img: Type.String(),
    album_img_mini: Type.String({ description: "~100 px" }),
    album_img_small: Type.String({ description: "~300 px" }),
    album_img_medium: Type.String({ description: "~500 px" }),
    duration: ms("the song's length"),
    accompany_duration: ms("the accompaniment's length"),
    vendor_id: Type.Integer(),
    has_clip: Type.Optional(flag("a long clip exists (omitted for vendor 2)")),
    pitch_ability: Type.Optional(
      Type.Union([Type.Literal(1), Type.Literal(2)], { description: "vendor 2 only: 1 yes, 2 no" }),
    ),
    has_short_segment: Type.Optional(
      Type.Union([Type.Literal(1), Type.Literal(2)], { description: "vendor 2 only: 1 yes, 2 no" }),
    ),
    copyright: Type.Object(
      {
        song_lyric: flag("1: the accompaniment may be requested (singable)"),
        recording: flag("1: the original may be requested (listen)"),
        channel: Type.Integer({ description: "0: show the provider logo" }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false, title: "SongItem", description: "one song of a list" },
);

const songs = Type.Object(
  {
    songs: Type.Array(SongItem, {
      description:
        "list commands: one page of at most 20, empty past the end; /song/infos: the songs asked for",
    }),
  },
  { additionalProperties: false },
);
const closed = (props: Parameters<typeof Type.Object>[0]) =>
  Type.Object(props, { additionalProperties: false });
const params = (props: Parameters<typeof Type.Object>[0]) => Type.Object(props);
const single = params({ vendor_id: vendorId, song_id: songId });

export const COMMAND_SCHEMAS: Record<string, CommandSchema> = {
  "/tag/list": {
    summary: "the vendor's tag groups and tags (for /tag/song)",
    vendors: "0, 1, 2, 4",
    params: params({ vendor_id: vendorId }),
    data: closed({
      groups: Type.Array(
        closed({
          group_id: Type.String(),
          group_name: Type.String(),
          tags: Type.Array(closed({ tag_id: Type.String(), tag_name: Type.String() })),
        }),
      ),
    }),
  },
  "/tag/song": {
    summary: "one page of a tag's songs",
    vendors: "0, 1, 2, 4",
    params: params({
      vendor_id: vendorId,
      tag_id: Type.String({ minLength: 1, description: "a tag_id of /tag/list (this vendor's)" }),
      page: page(true),
      filter: filter([1, 3, 4]),
    }),
    data: songs,
  },
  "/song/infos": {
    summary: "the list items of the given songs",
    vendors: "0, 1, 2, 4",
    params: params({ vendor_id: vendorId, songs_id: songIds(30) }),
    data: songs,
  },
  "/search/tips": {
    summary: "suggested search words for a keyword",
    vendors: "0, 1, 2",
    params: params({ vendor_id: vendorId, keyword }),
    data: closed({ tips: Type.Array(Type.String()) }),
  },
  "/search/song": {
    summary: "one page of a keyword search in one vendor",
    vendors: "0, 1, 2, 4",
    params: params({ vendor_id: vendorId, keyword, page: page(false), filter: filter([1, 2, 3, 4]) }),
    data: songs,
  },
  "/search/plus": {
    summary: "one page of a keyword search over several vendors, duplicates kept for one",
    vendors: "multi (vendors_id)",
    params: params({
      keyword,
      page: page(false),
      filter: filter([1, 2, 3, 4]),
      vendors_id: Type.Optional(
        Type.Array(Type.Integer(), {
          description: "vendors searched, in page order; default every vendor enabled for the app",
        }),
      ),
      keep_vendor: Type.Optional(
        Type.Integer({ description: "the vendor a song listed by several keeps; default vendors_id[0]" }),
      ),
      items: Type.Optional(
        Type.Array(Type.Integer({ minimum: 1, maximum: 20 }), {
          description: "songs per vendor per page, aligned 1:1 with vendors_id; default 1 each",
        }),
      ),
    }),
    data: songs,
    errors: "1017074 a page after 1 before page 1 of the keyword",
  },
  "/top/song": {
    summary: "one page of a chart",
    vendors: "0, 1, 2",
    params: params({
      vendor_id: vendorId,
      top_id: Type.String({
        minLength: 1,
        description: "vendors 0/1: 6666, 8888, 23784, 24971; vendor 2: 22004-22011, 22015-22020, 22026",
      }),
      page: page(false),
      filter: filter([1, 3, 4]),
    }),
    data: songs,
    errors: "1017077 a top_id the vendor does not have",
  },
  "/song/copyright": {
    summary: "the current rights of the given songs",
    vendors: "0, 1",
    params: params({ vendor_id: vendorId, songs_id: songIds(20) }),
    data: closed({
      copyright: Type.Array(
        closed({
          song_id: Type.String(),
          right: flag("1 if any sub-right"),
          subright: closed({
            song_lyric: flag("lyric/composition"),
            recording: flag("recording"),
            channel: Type.Integer(),
          }),
        }),
      ),
    }),
  },
  "/song/accompany/krc/segment": {
    summary: "the chorus parts of a song (none without word-timed lyrics)",
    vendors: "0, 1",
    params: single,
    data: closed({
      tags: Type.Array(
        closed({
          start: ms("start in the full song"),
          end: ms("end in the full song"),
          tags: Type.Array(Type.String()),
        }),
      ),
    }),
  },
  "/song/accompany/clip_info": {
    summary: "where the long clip (vendors 0/1) or the short segment (vendor 2) lies in the full song",
    vendors: "0, 1, 2, 4",
    params: single,
    data: closed({
      segment_begin: Type.Optional(ms("vendors 0/1/4: the long clip's start (0: no clip)")),
      segment_end: Type.Optional(ms("vendors 0/1/4: the long clip's end (0: no clip)")),
      short_segment_begin: Type.Optional(ms("vendor 2: the short segment's start (0: none)")),
      short_segment_end: Type.Optional(ms("vendor 2: the short segment's end (0: none)")),
    }),
  },
  "/song/accompany/clip_url/status": {
    summary: "whether the song has a clip to request",
    vendors: "0, 1, 2",
    params: single,
    data: closed({
      has_clip_url: Type.Optional(flag("vendors 0/1")),
      has_short_segment_url: Type.Optional(flag("vendor 2")),
    }),
  },
  "/song/extra": {
    summary: "tempo and genres of a song",
    vendors: "0, 1",
    params: single,
    data: closed({
      bpm: Type.Integer(),
      bpm_type: Type.Union(
        ["0", "1", "2", "3"].map((v) => Type.Literal(v)),
        {
          description: '"0" unknown, "1" slow, "2" medium, "3" fast',
        },
      ),
      genres: Type.Array(Type.Integer({ minimum: 1, maximum: 27 }), { description: "genre ids 1-27" }),
    }),
  },
  "/api/get_prelude_end_time": {
    summary:
      "when singing starts in a resource's file (also at the envelope's top level, as in the vendor's example)",
    vendors: "0, 1, 2, 4",
    params: params({
      vendor_id: vendorId,
      resource_id: Type.String({
        description: "a resource_id of this user's requestResource/getSharedResource",
      }),
    }),
    data: closed({ prelude_end_time: ms("the intro's end in the resource's own timeline") }),
    errors: "1017004 resource_id empty; 1017018 not this user's; 1017019 expired",
  },
};

/** The schemas as one list, for documents (command order as in the spec). */
export function commandSchemas(): [string, CommandSchema][] {
  return Object.entries(COMMAND_SCHEMAS);
}
