import { type Static, Type } from "@sinclair/typebox";

// Wire shapes of requestResource / getSharedResource. Ranges the SDK's enums make impossible (resource_type,
// quality) are schema errors (400 + 1017040); values the vendor judges (billing_mode 1017042, vendor_id
// 1017071, scene_id 1017076) are only typed here so the handler can answer the vendor's own code.

export const RequestResourceBody = Type.Object(
  {
    song_id: Type.String({ maxLength: 128, description: "empty -> 1017002" }),
    resource_type: Type.Integer({
      minimum: 0,
      maximum: 3,
      description: "0 song, 1 accompaniment, 2 accompaniment clip (long), 3 accompaniment segment (short)",
    }),
    billing_mode: Type.Integer({
      description: "0 count, 1 user-monthly, 2 room-monthly, 3 master; else 1017042",
    }),
    vendor_id: Type.Integer({ description: "0, 1, 2 or 4; else 1017071" }),
    scene_id: Type.Optional(
      Type.Integer({ description: "0 (default, always allowed) or a scene enabled for the app" }),
    ),
    room_id: Type.Optional(
      Type.String({
        maxLength: 256,
        description: "a room the user is logged in to (1017054); needed by room billing",
      }),
    ),
    master_id: Type.Optional(
      Type.String({ maxLength: 256, description: "required by master billing (1017073)" }),
    ),
    quality: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 2, description: "0 normal (default), 1 hq, 2 sq" }),
    ),
  },
  { additionalProperties: false },
);
export type RequestResourceBody = Static<typeof RequestResourceBody>;

export const SharedResourceBody = Type.Object(
  {
    song_id: Type.String({ maxLength: 128, description: "empty -> 1017002" }),
    resource_type: Type.Integer({ minimum: 0, maximum: 3 }),
    vendor_id: Type.Integer({ description: "0, 1, 2 or 4; else 1017071" }),
    room_id: Type.String({
      maxLength: 256,
      description: "the room where another member requested the resource",
    }),
  },
  { additionalProperties: false },
);
export type SharedResourceBody = Static<typeof SharedResourceBody>;

const ResourceEntry = Type.Object({
  resource_id: Type.String({ description: "for download / pitch; valid for this session only" }),
  size: Type.Integer({ description: "file size in bytes" }),
  quality: Type.Union([Type.Literal("normal"), Type.Literal("hq"), Type.Literal("sq")]),
  share_token: Type.Optional(
    Type.String({ description: "legacy; absent in shared song/accompaniment results" }),
  ),
  resource_ttl: Type.Integer({ description: "remaining validity, ms" }),
});

const ms = (description: string) => Type.Optional(Type.Integer({ description }));

/** `data` of both routes; which fields appear depends on the resource type (spec §2). */
export const ResourceData = Type.Object(
  {
    is_accompany: Type.Integer({ description: "0 song, 1 accompaniment/clip/segment" }),
    is_clip: Type.Optional(Type.Literal(1)),
    has_original: Type.Optional(
      Type.Integer({ description: "accompaniment: 1 = dual-track (original on track 1)" }),
    ),
    song_name: Type.Optional(Type.String()),
    singer_name: Type.Optional(Type.String()),
    song_id: Type.String(),
    duration: ms("song/accompaniment play length, ms"),
    token_ttl: ms("share token validity, ms (absent in shared song/accompaniment results)"),
    share_token_ttl: ms("clip/segment: same value as token_ttl"),
    share_token: Type.Optional(Type.String({ description: "accompaniment: legacy top-level share token" })),
    krc_token: Type.Optional(
      Type.String({
        description:
          "for getKrcLyricByToken: accompaniment/clip/segment of a song with word-timed lyrics; absent for songs and for songs without word-timed lyrics (nothing to fetch)",
      }),
    ),
    krc_token_ttl: ms("krc_token validity, ms"),
    segment_begin: ms("clip: start in the full song; segment: start of the short segment in the long clip"),
    segment_end: ms("clip: end in the full song; segment: end of the short segment in the long clip"),
    prelude_duration: ms("intro length at the start of the clip file"),
    other_segments: Type.Optional(
      Type.Array(Type.Object({ begin: Type.Integer(), end: Type.Integer() }), {
        description: "segment, vendors 0/1: other short segments, ms in the long clip (seekTo-ready)",
      }),
    ),
    resources_size: Type.Integer(),
    resources: Type.Array(ResourceEntry),
  },
  { additionalProperties: false },
);
export type ResourceData = Static<typeof ResourceData>;
