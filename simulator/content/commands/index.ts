import type { ExtendedCommand } from "../command.ts";
import { clipInfo } from "./clip-info.ts";
import { clipUrlStatus } from "./clip-url-status.ts";
import { krcSegment } from "./krc-segment.ts";
import { preludeEndTime } from "./prelude-end-time.ts";
import { searchPlus } from "./search-plus.ts";
import { searchSong } from "./search-song.ts";
import { searchTips } from "./search-tips.ts";
import { songCopyright } from "./song-copyright.ts";
import { songExtra } from "./song-extra.ts";
import { songInfos } from "./song-infos.ts";
import { tagList } from "./tag-list.ts";
import { tagSong } from "./tag-song.ts";
import { topSong } from "./top-song.ts";

/** Every sendExtendedRequest command of the spec, by name: adding one is a file plus a line here. */
export const COMMANDS: ReadonlyMap<string, ExtendedCommand> = new Map(
  [
    tagList,
    tagSong,
    songInfos,
    searchTips,
    searchSong,
    searchPlus,
    topSong,
    songCopyright,
    krcSegment,
    clipInfo,
    clipUrlStatus,
    songExtra,
    preludeEndTime,
  ].map((c) => [c.name, c]),
);
