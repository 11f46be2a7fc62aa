import type { BillingMode, Quality, ResourceType, VendorId } from "../../protocol/enums.ts";

// The SDK's shapes (Flutter 3.19 names, V2 integer configs). Results carry `errorCode` (0 = success) instead
// of rejecting, as the SDK's callbacks do.

export interface ZegoUser {
  userID: string;
  /** Defaults to userID. */
  userName?: string;
}

export interface ZegoCopyrightedMusicConfig {
  /** Must be the same user as the room login. */
  user: ZegoUser;
}

export interface ZegoCopyrightedMusicRequestConfigV2 {
  songID: string;
  /** BillingMode: Count 0, User 1, Room 2, Master 3. */
  mode: BillingMode | number;
  /** VendorID: 0, 1, 2 or 4. */
  vendorID: VendorId | number;
  /** Required by room billing, and in multi-room mode; must be a room the user is logged in to (1017054). */
  roomID?: string;
  /** Required by master billing (1017073). */
  masterID?: string;
  sceneID?: number;
  /** ResourceType: Song 0, Accompaniment 1, AccompanimentClip 2, AccompanimentSegment 3. */
  resourceType: ResourceType | number;
  /** Quality: Normal 0 (default), HQ 1, SQ 2. */
  resourceQualityType?: Quality | number;
}

export interface ZegoCopyrightedMusicGetSharedConfigV2 {
  songID: string;
  vendorID?: VendorId | number;
  roomID: string;
  resourceType: ResourceType | number;
}

export interface ZegoCopyrightedMusicQueryCacheConfigV2 {
  songID: string;
  resourceType: ResourceType | number;
  resourceQualityType: Quality | number;
  vendorID: VendorId | number;
}

export interface ResultBase {
  errorCode: number;
}

export interface SendExtendedRequestResult extends ResultBase {
  command: string;
  /** The vendor's answer as a JSON string `{code, message, request_id, data}` ("" when none arrived). */
  result: string;
}

/** One `resources[]` entry of a resource result (spec §2). */
export interface ResourceEntry {
  resource_id: string;
  size: number;
  quality: "normal" | "hq" | "sq";
  share_token?: string;
  resource_ttl: number;
}

/** `data` of a requestResource / getSharedResource answer; which fields appear depends on the type. */
export interface ResourceData {
  is_accompany: number;
  is_clip?: 1;
  has_original?: number;
  song_name?: string;
  singer_name?: string;
  song_id: string;
  duration?: number;
  token_ttl?: number;
  share_token_ttl?: number;
  share_token?: string;
  krc_token?: string;
  krc_token_ttl?: number;
  segment_begin?: number;
  segment_end?: number;
  prelude_duration?: number;
  other_segments?: { begin: number; end: number }[];
  resources_size: number;
  resources: ResourceEntry[];
}

export interface RequestResourceResult extends ResultBase {
  /** The vendor's answer as a JSON string `{code, message, request_id, data}` ("" when none arrived). */
  resource: string;
  /** Not in the SDK: `resource`'s data already parsed, when errorCode is 0. */
  data?: ResourceData;
}

export interface LyricResult extends ResultBase {
  /** JSON string of the lyric object (lines, raw lrc/krc format, tags); "" on error. */
  lyrics: string;
}

export interface StandardPitchResult extends ResultBase {
  /** JSON string `{"pitch":[{begin_time, duration, value}]}`; "" on error. */
  pitch: string;
}
