import { QUALITY_NAMES, type ResourceType } from "../../protocol/enums.ts";
import type { SongFacts } from "../catalog/types.ts";
import type { ResourceData } from "./schemas.ts";
import type { ResourceRecord } from "./types.ts";

/**
 * The part of the song a resource's file covers, ms in the full song. A short segment's file is the long clip:
 * its segment times are positions inside that clip (spec §2: "relative to the long clip ... straight to
 * seekTo"), which only works if the loaded file is the clip.
 */
export function resourceSpan(type: ResourceType, facts: SongFacts): { begin: number; end: number } {
  if (type === 0) return { begin: 0, end: facts.item.duration };
  if (type === 1) return { begin: 0, end: facts.item.accompany_duration };
  return { begin: facts.clip.segment_begin, end: facts.clip.segment_end };
}

/** Dual-track accompaniment files carry the original vocal as a second track. */
export function trackCount(type: ResourceType, facts: SongFacts): 1 | 2 {
  return type !== 0 && facts.has_original === 1 ? 2 : 1;
}

export interface ResultInput {
  rec: ResourceRecord;
  facts: SongFacts;
  now: number;
  /** The share this result announces (requester) or came from (fetcher). */
  share_token: string;
  /** token_ttl / share_token_ttl: the share's validity (requester) or what is left of it (fetcher), ms. */
  share_ttl: number;
  krc: { krc_token: string; krc_token_ttl: number } | null;
  /** Fetched via getSharedResource: song/accompaniment results then drop token_ttl and share tokens. */
  shared: boolean;
}

/** The vendor's result `data` for one resource, field for field as spec §2 lists them per type. */
export function resourceResult(i: ResultInput): ResourceData {
  const { rec, facts, krc } = i;
  const type = rec.resource_type;
  const keepShareFields = !i.shared || type === 2 || type === 3;
  const resources = [
    {
      resource_id: rec.resource_id,
      size: rec.layout.size,
      quality: QUALITY_NAMES[rec.quality] ?? "normal",
      ...(keepShareFields ? { share_token: i.share_token } : {}),
      // Remaining validity, never more than the TTL the record was issued with (i.now may predate created_at).
      resource_ttl: Math.max(0, Math.min(rec.expires_at - rec.created_at, rec.expires_at - i.now)),
    },
  ];
  const tokenTtl = keepShareFields ? { token_ttl: i.share_ttl } : {};
  const krcFields = krc ? { krc_token: krc.krc_token, krc_token_ttl: krc.krc_token_ttl } : {};

  if (type === 0) {
    return {
      is_accompany: 0,
      song_name: facts.item.song_name,
      singer_name: facts.item.singer_name,
      song_id: rec.song_id,
      duration: rec.span.end - rec.span.begin,
      ...tokenTtl,
      resources_size: resources.length,
      resources,
    };
  }
  if (type === 1) {
    return {
      has_original: facts.has_original,
      is_accompany: 1,
      song_id: rec.song_id,
      duration: rec.span.end - rec.span.begin,
      ...tokenTtl,
      ...krcFields,
      resources_size: resources.length,
      resources,
      share_token: i.share_token,
    };
  }
  const clipFields = {
    is_clip: 1 as const,
    is_accompany: 1,
    ...krcFields,
    song_id: rec.song_id,
    share_token_ttl: i.share_ttl,
    token_ttl: i.share_ttl,
  };
  if (type === 2) {
    return {
      ...clipFields,
      segment_begin: facts.clip.segment_begin,
      segment_end: facts.clip.segment_end,
      prelude_duration: facts.clip.prelude_duration,
      resources_size: resources.length,
      resources,
    };
  }
  return {
    ...clipFields,
    segment_begin: facts.segment.begin,
    segment_end: facts.segment.end,
    prelude_duration: facts.clip.prelude_duration,
    ...(rec.vendor_id === 0 || rec.vendor_id === 1
      ? { other_segments: facts.segment.other_segments.map((s) => ({ begin: s.begin, end: s.end })) }
      : {}),
    resources_size: resources.length,
    resources,
  };
}
