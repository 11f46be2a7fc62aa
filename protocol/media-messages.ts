import { type Static, type TSchema, Type } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { VendorCode } from "./codes.ts";

// The media server's JSON control messages (WebSocket text frames), both directions, as TypeBox schemas: one
// definition gives the TypeScript types and the validators the server and the reference client both use.
//
// Conventions:
// - every message has `type`; a client request may carry `req_id` (string or integer), echoed in its reply
//   (`<type>_ok`, `stream_stats` or `error`) so a client can match answers to requests;
// - ids are checked in two steps: the schema bounds the shape (strings, at most 4096 chars), then the server
//   applies the SDK's id rules so an empty or over-long room id answers 1002011/1002013 like loginRoom does;
// - times: `*_at` are ms since the Unix epoch on the server's clock, `*_us` µs, `remain_seconds` seconds.

export const MEDIA_PATH = "/v1/media";

/** ZegoUpdateType: the values of onRoomUserUpdate / onRoomStreamUpdate. */
export const UpdateType = { Add: 0, Delete: 1 } as const;
export type UpdateType = (typeof UpdateType)[keyof typeof UpdateType];

/** WebSocket close codes the server uses (4000-4999 is the application range). */
export const MediaClose = {
  /** Kicked: a `kicked` message with the vendor code precedes it; the close reason is that code. */
  Kicked: 4000,
  /** No login within the server's login timeout (1002031). */
  LoginTimeout: 4001,
  /** The simulator is shutting down (standard "going away"). */
  GoingAway: 1001,
} as const;

const ReqId = Type.Optional(
  Type.Union([Type.String({ maxLength: 64 }), Type.Integer()], { description: "echoed in the reply" }),
);
const Str = (description: string) => Type.String({ maxLength: 4096, description });
const StreamId = Str("letters, digits, '-' and '_', 1..256 bytes; unique per app while published");

// Client messages are strict (a misspelt field is refused, not ignored); server messages tolerate fields a
// newer server may add, so an older client keeps working.
const msg = <T extends string, P extends Record<string, TSchema>>(type: T, props: P) =>
  Type.Object({ type: Type.Literal(type), ...props }, { additionalProperties: false });
const reply = <T extends string, P extends Record<string, TSchema>>(type: T, props: P) =>
  Type.Object({ type: Type.Literal(type), ...props });

// ---- client -> server -------------------------------------------------------------------------------------

export const LoginMsg = msg("login", {
  req_id: ReqId,
  room_id: Str("room to join; < 128 bytes"),
  user_id: Str("< 64 bytes; the same user as initCopyrightedMusic"),
  user_name: Type.Optional(Str("< 256 bytes; defaults to user_id")),
  token: Type.Optional(Str("token04 for this user (token auth); app_id optional with it")),
  app_id: Type.Optional(Type.Integer({ minimum: 0, maximum: 0xffffffff })),
  app_sign: Type.Optional(Str("64 hex chars (app-sign auth, with app_id)")),
});
export const LogoutMsg = msg("logout", {
  req_id: ReqId,
  room_id: Type.Optional(Str("must be the logged-in room")),
});
export const PublishMsg = msg("publish", { req_id: ReqId, stream_id: StreamId });
export const StopPublishMsg = msg("stop_publish", { req_id: ReqId, stream_id: StreamId });
export const PlayMsg = msg("play", { req_id: ReqId, stream_id: StreamId });
export const StopPlayMsg = msg("stop_play", { req_id: ReqId, stream_id: StreamId });
export const RenewTokenMsg = msg("renew_token", {
  req_id: ReqId,
  token: Str("a fresh token04 for the same user"),
});
export const PingMsg = msg("ping", {
  req_id: ReqId,
  t: Type.Optional(Type.Number({ description: "echoed" })),
});
export const GetStreamStatsMsg = msg("get_stream_stats", { req_id: ReqId, stream_id: StreamId });

export const CLIENT_MESSAGES = {
  login: LoginMsg,
  logout: LogoutMsg,
  publish: PublishMsg,
  stop_publish: StopPublishMsg,
  play: PlayMsg,
  stop_play: StopPlayMsg,
  renew_token: RenewTokenMsg,
  ping: PingMsg,
  get_stream_stats: GetStreamStatsMsg,
} as const;

export type LoginMsg = Static<typeof LoginMsg>;
export type LogoutMsg = Static<typeof LogoutMsg>;
export type PublishMsg = Static<typeof PublishMsg>;
export type StopPublishMsg = Static<typeof StopPublishMsg>;
export type PlayMsg = Static<typeof PlayMsg>;
export type StopPlayMsg = Static<typeof StopPlayMsg>;
export type RenewTokenMsg = Static<typeof RenewTokenMsg>;
export type PingMsg = Static<typeof PingMsg>;
export type GetStreamStatsMsg = Static<typeof GetStreamStatsMsg>;
export type ClientMessage = {
  [K in keyof typeof CLIENT_MESSAGES]: Static<(typeof CLIENT_MESSAGES)[K]>;
}[keyof typeof CLIENT_MESSAGES];
export type ClientMessageType = ClientMessage["type"];

// ---- server -> client -------------------------------------------------------------------------------------

export const MediaUser = Type.Object({ user_id: Type.String(), user_name: Type.String() });
export const MediaStreamInfo = Type.Object({
  stream_id: Type.String(),
  user_id: Type.String(),
  user_name: Type.String(),
});
const Int = Type.Integer({ minimum: 0 });

/** Relay latency: server receive time - capture time, µs (values clamp at 0 when clocks disagree). */
export const LatencySummary = Type.Object({
  count: Int,
  min: Type.Number(),
  mean: Type.Number(),
  p50: Type.Number(),
  p90: Type.Number(),
  p99: Type.Number(),
  max: Type.Number(),
});

/** Per-stream counters, as in `stream_stats` and `GET /admin/media/streams`. */
export const StreamStats = Type.Object({
  stream_id: Type.String(),
  stream_hash: Int,
  app_id: Int,
  /** Room of the current publisher, null while nobody publishes (players waiting). */
  room_id: Type.Union([Type.String(), Type.Null()]),
  publisher: Type.Union([Type.String(), Type.Null()], { description: "publishing user id" }),
  players: Int,
  frames: Type.Integer({ minimum: 0, description: "frames received from the publisher" }),
  bytes: Type.Integer({ minimum: 0, description: "bytes received from the publisher, headers included" }),
  lost: Type.Integer({
    minimum: 0,
    description: "frames missing by sequence number (late arrivals subtract)",
  }),
  gaps: Type.Integer({ minimum: 0, description: "sequence jumps that skipped at least one frame" }),
  duplicates: Int,
  reordered: Type.Integer({ minimum: 0, description: "frames that arrived after a later one" }),
  foreign_dropped: Type.Integer({ minimum: 0, description: "frames for this stream from non-publishers" }),
  relayed_frames: Type.Integer({ minimum: 0, description: "frames sent to players (one per player)" }),
  relayed_bytes: Int,
  backpressure_drops: Type.Integer({
    minimum: 0,
    description: "frames not sent: a player's buffer was full",
  }),
  last_seq: Type.Union([Int, Type.Null()]),
  latency_us: LatencySummary,
});

export const LoginOk = reply("login_ok", {
  req_id: ReqId,
  room_id: Type.String(),
  user_id: Type.String(),
  user_name: Type.String(),
  /** Everyone else already in the room; later changes arrive as room_user_update. */
  users: Type.Array(MediaUser),
  /** Streams published in the room; later changes arrive as room_stream_update. */
  streams: Type.Array(MediaStreamInfo),
  /** When the login token expires (ms), null for app-sign logins. */
  token_expire_at: Type.Union([Type.Number(), Type.Null()]),
});
export const LogoutOk = reply("logout_ok", { req_id: ReqId, room_id: Type.String() });
export const PublishOk = reply("publish_ok", { req_id: ReqId, stream_id: Type.String(), stream_hash: Int });
export const StopPublishOk = reply("stop_publish_ok", { req_id: ReqId, stream_id: Type.String() });
export const PlayOk = reply("play_ok", {
  req_id: ReqId,
  stream_id: Type.String(),
  stream_hash: Int,
  /** Whether someone publishes it now; frames start at the live edge either way (no backlog). */
  live: Type.Boolean(),
});
export const StopPlayOk = reply("stop_play_ok", { req_id: ReqId, stream_id: Type.String() });
export const RenewTokenOk = reply("renew_token_ok", { req_id: ReqId, token_expire_at: Type.Number() });
export const Pong = reply("pong", {
  req_id: ReqId,
  t: Type.Optional(Type.Number()),
  server_us: Type.Number(),
});
export const ErrorMsg = reply("error", {
  req_id: ReqId,
  /** The request type that failed; "frame" for binary frames; null when the message was not understood. */
  op: Type.Union([Type.String(), Type.Null()]),
  code: Type.Integer(),
  message: Type.String(),
  /** For op "frame": frames dropped for this reason since the previous report (reports are throttled). */
  dropped: Type.Optional(Int),
});
export const Kicked = reply("kicked", { code: Type.Integer(), message: Type.String() });
export const RoomUserUpdate = reply("room_user_update", {
  room_id: Type.String(),
  update_type: Type.Union([Type.Literal(UpdateType.Add), Type.Literal(UpdateType.Delete)]),
  users: Type.Array(MediaUser),
});
export const RoomStreamUpdate = reply("room_stream_update", {
  room_id: Type.String(),
  update_type: Type.Union([Type.Literal(UpdateType.Add), Type.Literal(UpdateType.Delete)]),
  streams: Type.Array(MediaStreamInfo),
});
export const TokenWillExpire = reply("token_will_expire", { room_id: Type.String(), remain_seconds: Int });
export const StreamStatsMsg = Type.Composite([
  Type.Object({ type: Type.Literal("stream_stats"), req_id: ReqId }),
  StreamStats,
]);

export const SERVER_MESSAGES = {
  login_ok: LoginOk,
  logout_ok: LogoutOk,
  publish_ok: PublishOk,
  stop_publish_ok: StopPublishOk,
  play_ok: PlayOk,
  stop_play_ok: StopPlayOk,
  renew_token_ok: RenewTokenOk,
  pong: Pong,
  error: ErrorMsg,
  kicked: Kicked,
  room_user_update: RoomUserUpdate,
  room_stream_update: RoomStreamUpdate,
  token_will_expire: TokenWillExpire,
  stream_stats: StreamStatsMsg,
} as const;

export type MediaUser = Static<typeof MediaUser>;
export type MediaStreamInfo = Static<typeof MediaStreamInfo>;
export type LatencySummary = Static<typeof LatencySummary>;
export type StreamStats = Static<typeof StreamStats>;
export type ServerMessage = {
  [K in keyof typeof SERVER_MESSAGES]: Static<(typeof SERVER_MESSAGES)[K]>;
}[keyof typeof SERVER_MESSAGES];
export type ServerMessageType = ServerMessage["type"];
/** The server message of one type, e.g. `ServerMessageOf<"login_ok">`. */
export type ServerMessageOf<T extends ServerMessageType> = Extract<ServerMessage, { type: T }>;

// ---- validation -------------------------------------------------------------------------------------------

export type ParseResult<T> =
  | { ok: true; msg: T }
  | {
      ok: false;
      /** 1000017 (illegal parameter) for anything that is not a well-formed message. */
      code: number;
      message: string;
      /** The message's `type` when it had a known one, so the error can name the failed request. */
      op: string | null;
      req_id?: string | number;
    };

type Checkers = Record<string, ReturnType<typeof TypeCompiler.Compile>>;
const compileAll = (defs: Record<string, TSchema>): Checkers =>
  Object.fromEntries(Object.entries(defs).map(([k, v]) => [k, TypeCompiler.Compile(v)]));
const clientCheckers = compileAll(CLIENT_MESSAGES);
const serverCheckers = compileAll(SERVER_MESSAGES);

function parseWith<T>(text: string, checkers: Checkers, side: string): ParseResult<T> {
  const fail = (message: string, op: string | null = null, reqId?: unknown): ParseResult<T> => {
    const r: ParseResult<T> = { ok: false, code: VendorCode.ENGINE_ILLEGAL_PARAM, message, op };
    if (typeof reqId === "string" || (typeof reqId === "number" && Number.isInteger(reqId))) r.req_id = reqId;
    return r;
  };
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return fail("illegal parameter: the message is not JSON");
  }
  if (typeof v !== "object" || v === null || Array.isArray(v))
    return fail("illegal parameter: not a JSON object");
  const { type, req_id } = v as { type?: unknown; req_id?: unknown };
  if (typeof type !== "string") return fail("illegal parameter: /type must be a string", null, req_id);
  const check = Object.hasOwn(checkers, type) ? checkers[type] : undefined;
  if (!check) {
    return fail(
      `illegal parameter: unknown ${side} message type ${JSON.stringify(type.slice(0, 64))}`,
      null,
      req_id,
    );
  }
  if (!check.Check(v)) {
    const e = check.Errors(v).First();
    const where = e?.path || "/";
    return fail(`illegal parameter: ${type}${where} ${e?.message ?? "is invalid"}`, type, req_id);
  }
  return { ok: true, msg: v as T };
}

/** Validates a client control message (what the server does with each text frame). */
export function parseClientMessage(text: string): ParseResult<ClientMessage> {
  return parseWith<ClientMessage>(text, clientCheckers, "client");
}

/** Validates a server message (what a careful client does with each text frame). */
export function parseServerMessage(text: string): ParseResult<ServerMessage> {
  return parseWith<ServerMessage>(text, serverCheckers, "server");
}

/** Why a stream id breaks the rules, or undefined: 1..256 bytes of letters, digits, '-' and '_'. */
export function streamIdProblem(streamId: string): string | undefined {
  if (streamId === "") return "stream_id is empty";
  if (streamId.length > 256) return "stream_id is longer than 256 bytes";
  if (!/^[A-Za-z0-9_-]+$/.test(streamId)) return "stream_id may only contain letters, digits, '-' and '_'";
  return undefined;
}
