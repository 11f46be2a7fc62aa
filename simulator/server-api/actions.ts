import { type TSchema, Type } from "@sinclair/typebox";
import type { ServerApiAction } from "../../protocol/server-api.ts";
import type { Session } from "../auth/sessions.ts";
import { ALL_VENDORS } from "../content/command.ts";
import { dispatch } from "../content/dispatch.ts";
import { isVendorId } from "../content/params.ts";
import { PlusHistory } from "../content/plus-history.ts";
import { COMMAND_SCHEMAS } from "../content/schemas.ts";
import type { SimContext } from "../context.ts";
import { VendorError } from "../errors.ts";
import { buildLrc } from "../lyrics/lrc.ts";
import { compositionOf } from "../music/composition.ts";
import type { AppConfig } from "../options.ts";
import { ServerApiError } from "./errors.ts";
import { pascalData, pascalSchema } from "./keys.ts";
import type { ParamSpec } from "./params.ts";

// Each server API action: its params (wire name -> the SDK command's param), and what it runs. Twelve of the
// thirteen run the SDK path's own command (content/commands/), from the same catalog, with the same vendor
// checks and revocation overlay, and answer its data with PascalCase keys (keys.ts), so the two paths cannot
// drift apart. DescribeSongLyric answers the raw LRC of getLrcLyric (lyrics/lrc.ts). None is billable: the
// vendor bills requestResource only (spec §7), and these are all catalogue and lyric reads.

export interface ActionContext {
  sim: SimContext;
  app: AppConfig;
  /** The caller's UserId (a common param). */
  userId: string;
  /** VendorId after parsing (a common param; default 0). */
  vendor: number;
  /** SDK-named params read by params.ts. */
  params: Record<string, unknown>;
}

export interface ServerAction {
  name: ServerApiAction;
  summary: string;
  /** The SDK command this action shares (fault selectors' `command` picks both paths). */
  command?: string;
  /** Vendors that have the action (documentation; the command checks). */
  vendors: string;
  params: readonly ParamSpec[];
  /** The answer's Data schema (PascalCase). */
  data: TSchema;
  run(ctx: ActionContext): Record<string, unknown>;
}

/**
 * The server API is stateless: a partner backend may ask for page 3 of a QuerySongPlus search it never opened
 * (the SDK path answers 1017074 for that; the vendor's server page does not mention the rule).
 */
class StatelessPlus extends PlusHistory {
  override hasOpened(): boolean {
    return true;
  }
  override opened(): void {}
}
const STATELESS_PLUS = new StatelessPlus(1, 1);

/** The SDK commands want a session: the server API's caller is the app acting for UserId. */
function sessionOf(ctx: ActionContext): Session {
  return {
    id: `server-api:${ctx.app.app_id}:${ctx.userId}`,
    app_id: ctx.app.app_id,
    user_id: ctx.userId,
    user_name: ctx.userId,
    created_at: ctx.sim.clock.now(),
  };
}

function runCommand(command: string, ctx: ActionContext): Record<string, unknown> {
  const data = dispatch(
    { command, params: { ...ctx.params, vendor_id: ctx.vendor } },
    { sim: ctx.sim, session: sessionOf(ctx), app: ctx.app, plus: STATELESS_PLUS },
  );
  return pascalData(data) as Record<string, unknown>;
}

const vendorsOf = (command: string) => COMMAND_SCHEMAS[command]?.vendors ?? "";

const P = {
  page: {
    name: "Page",
    sdk: "page",
    kind: "int",
    required: true,
    min: 1,
    badCode: 320040005,
    description: "page, from 1 (20 songs a page). Missing: 320000004; not an integer >= 1: 320040005",
  },
  filter: (codes: string) =>
    ({
      name: "Filter",
      sdk: "filter",
      kind: "ints",
      description: `filter codes (${codes}): 1 drop songs without lyric rights, 2 drop pure music, 3 drop songs without word-timed lyrics, 4 drop songs without a pitch line`,
    }) satisfies ParamSpec,
  songId: {
    name: "SongId",
    sdk: "song_id",
    kind: "string",
    required: true,
    description: "song id. Missing: 320000004; not in this vendor's library: 320040004",
  },
  songsId: (max: number) =>
    ({
      name: "SongsId",
      sdk: "songs_id",
      kind: "strings",
      required: true,
      description: `song ids, at most ${max}. One outside the vendor's library: 320040004`,
    }) satisfies ParamSpec,
  keyword: {
    name: "Keyword",
    sdk: "keyword",
    kind: "string",
    required: true,
    description: "search words (at most 100 characters)",
  },
} satisfies Record<string, ParamSpec | ((x: never) => ParamSpec)>;

function commandAction(
  name: ServerApiAction,
  command: string,
  params: readonly ParamSpec[],
  summary?: string,
): ServerAction {
  const schema = COMMAND_SCHEMAS[command];
  if (!schema) throw new Error(`no SDK command ${command}`);
  return {
    name,
    summary: summary ?? schema.summary,
    command,
    vendors: vendorsOf(command),
    params,
    data: pascalSchema(schema.data),
    run: (ctx) => runCommand(command, ctx),
  };
}

const clipInfoData = Type.Object(
  {
    SegmentBegin: Type.Integer({ description: "vendors 0/1/4: the long clip's start, ms (0: no clip)" }),
    SegmentEnd: Type.Integer({ description: "vendors 0/1/4: the long clip's end, ms (0: no clip)" }),
    ShortSegmentBegin: Type.Integer({ description: "vendor 2: the short segment's start, ms (0: none)" }),
    ShortSegmentEnd: Type.Integer({ description: "vendor 2: the short segment's end, ms (0: none)" }),
  },
  { additionalProperties: false },
);

const lyricData = Type.Object(
  { Lyric: Type.String({ description: "raw LRC, CRLF-separated, the same text as getLrcLyric's lyrics" }) },
  { additionalProperties: false },
);

const lyricAction: ServerAction = {
  name: "DescribeSongLyric",
  summary: "the song's whole line-timed lyric as raw LRC",
  vendors: "0, 1, 2, 4",
  params: [P.songId],
  data: lyricData,
  run(ctx) {
    const songId = ctx.params.song_id as string;
    if (!isVendorId(ctx.vendor)) throw new VendorError(1017071, `vendor id invalid: ${ctx.vendor}`);
    if (!(ctx.app.vendors ?? ALL_VENDORS).includes(ctx.vendor)) {
      throw new VendorError(1017052, `vendor ${ctx.vendor} not enabled`);
    }
    const f = ctx.sim.catalog.get(songId);
    if (!f || f.item.vendor_id !== ctx.vendor) {
      throw new ServerApiError(
        320040004,
        `invalid SongId: ${JSON.stringify(songId).slice(0, 80)} is not in vendor ${ctx.vendor}'s library`,
      );
    }
    // A revoked song's lyric is gone with its rights (the SDK path answers 1017030 there).
    if (ctx.sim.catalog.isRevoked(songId)) {
      throw new ServerApiError(320010009, "lyric does not exist: the song's copyright was revoked");
    }
    return { Lyric: buildLrc(f, compositionOf(f)).lyrics };
  },
};

export const ACTIONS: ReadonlyMap<ServerApiAction, ServerAction> = new Map(
  [
    commandAction("DescribeTags", "/tag/list", []),
    commandAction("DescribeTagSongs", "/tag/song", [
      {
        name: "TagId",
        sdk: "tag_id",
        kind: "string",
        required: true,
        description: "a TagId of DescribeTags",
      },
      P.page,
      P.filter("1, 3, 4"),
    ]),
    commandAction("DescribeTopSongs", "/top/song", [
      {
        name: "TopId",
        sdk: "top_id",
        kind: "string",
        required: true,
        description:
          "chart id: vendors 0/1 6666, 8888, 23784, 24971; vendor 2 22004-22011, 22015-22020, 22026. Another: 320040008",
      },
      P.page,
      P.filter("1, 3, 4"),
    ]),
    commandAction("QuerySong", "/search/song", [P.keyword, P.page, P.filter("1, 2, 3, 4")]),
    commandAction("QuerySongPlus", "/search/plus", [
      P.keyword,
      P.page,
      P.filter("1, 2, 3, 4"),
      {
        name: "VendorsId",
        sdk: "vendors_id",
        kind: "ints",
        description: "vendors searched, in page order; default every vendor enabled for the app",
      },
      {
        name: "KeepVendor",
        sdk: "keep_vendor",
        kind: "int",
        description: "the vendor a song listed by several keeps; default VendorsId[0]",
      },
      {
        name: "Items",
        sdk: "items",
        kind: "ints",
        description: "songs per vendor per page, 1:1 with VendorsId; default 1 each",
      },
    ]),
    commandAction("QueryTips", "/search/tips", [P.keyword]),
    commandAction("QuerySongsInfo", "/song/infos", [P.songsId(30)]),
    commandAction("QuerySongsCopyright", "/song/copyright", [P.songsId(20)]),
    commandAction("DescribeKrcSegment", "/song/accompany/krc/segment", [P.songId]),
    {
      ...commandAction("DescribeAccompanyClipInfo", "/song/accompany/clip_info", [P.songId]),
      data: clipInfoData,
      // The vendor's example answers all four fields whatever the vendor; the SDK command answers two.
      run: (ctx: ActionContext) => ({
        SegmentBegin: 0,
        SegmentEnd: 0,
        ShortSegmentBegin: 0,
        ShortSegmentEnd: 0,
        ...runCommand("/song/accompany/clip_info", ctx),
      }),
    },
    commandAction("DescribeAccompanyClipStatus", "/song/accompany/clip_url/status", [P.songId]),
    commandAction("DescribeSongExtra", "/song/extra", [P.songId]),
    lyricAction,
  ].map((a) => [a.name, a]),
);
