import { Type } from "@sinclair/typebox";

// Answer shapes of the lyrics and pitch routes (the SDK's JSON field names; they also feed OpenAPI).

const tagProps = {
  al: Type.String({ description: "album" }),
  ar: Type.String({ description: "artist" }),
  au: Type.String({ description: "lyricist" }),
  by: Type.String({ description: "creator of the lyric file" }),
  offset: Type.String({ description: "ms, + earlier / - later (always 0 here)" }),
  lenght: Type.String({ description: "song length in ms (the SDK's key is spelled so)" }),
  re: Type.String({ description: "tool that made the file" }),
  ti: Type.String({ description: "title" }),
  ve: Type.String({ description: "tool version" }),
  total: Type.Integer({ description: "song length, ms" }),
};

export const LrcData = Type.Object({
  lyrics: Type.String({
    description:
      "raw LRC: [id:][ar:][ti:][by:][hash:][al:][sign:][qq:][total:][offset:] then [mm:ss.xx]text lines, CRLF",
  }),
  lrc_format: Type.String({ description: "the same raw LRC" }),
  lines: Type.Array(
    Type.Object({ begin_time: Type.Integer(), end_time: Type.Integer(), content: Type.String() }),
  ),
  ...tagProps,
});

export const KrcData = Type.Object({
  lyrics: Type.String({
    description:
      "raw KRC: the LRC header tags then [lineBegin,lineDuration]<offset,duration,0>word... lines, CRLF",
  }),
  krc_format: Type.String({ description: "the same raw KRC" }),
  krc_format_offset: Type.Integer({ description: "ms the lyric leads the audio" }),
  lines: Type.Array(
    Type.Object({
      begin_time: Type.Integer(),
      duration: Type.Integer(),
      content: Type.String(),
      words: Type.Array(
        Type.Object({
          offset: Type.Integer({ description: "ms from the line's begin_time" }),
          duration: Type.Integer(),
          word: Type.String(),
        }),
      ),
    }),
  ),
  ...tagProps,
});

export const PitchData = Type.Object({
  pitch: Type.Array(
    Type.Object({
      begin_time: Type.Integer({ description: "ms from the start of the resource's file" }),
      duration: Type.Integer(),
      value: Type.Integer({ minimum: 10, maximum: 90, description: "MIDI-like note number" }),
    }),
  ),
});

export const LrcQuery = Type.Object({
  song_id: Type.Optional(Type.String({ description: "empty or missing: 1017002" })),
  vendor_id: Type.Optional(Type.String({ description: "0 (default), 1, 2 or 4" })),
});

export const KrcQuery = Type.Object({
  krc_token: Type.Optional(Type.String({ description: "from requestResource; empty or missing: 1017008" })),
});

export const PitchQuery = Type.Object({
  resource_id: Type.Optional(Type.String({ description: "an accompaniment / clip / segment resource" })),
});
