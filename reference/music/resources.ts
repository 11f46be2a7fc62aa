import { QUALITY_NAMES } from "../../protocol/enums.ts";
import type { ResourceData } from "./types.ts";

// Resource ids this SDK instance obtained (requestResource / getSharedResource). They live only as long as
// the session: nothing here is persisted, and destroy / re-init forgets them all (spec §2 "Validity").

export interface ResourceInfo {
  resourceID: string;
  songID: string;
  vendorID: number;
  resourceType: number;
  /** 0 normal, 1 hq, 2 sq */
  quality: number;
  qualityName: "normal" | "hq" | "sq";
  /** Bytes, as the vendor announced. */
  size: number;
  /** Local clock (ms) after which the vendor no longer serves it (from resource_ttl). */
  expiresAt: number;
  /** Set when the vendor answered 1017019 for it: request the song again. */
  expired: boolean;
  shared: boolean;
  /** The vendor's play length (ms) for the resource's span, when announced. */
  durationMs?: number;
  /** Accompaniment: 1 when the file carries the original vocal as a second track. */
  hasOriginal?: number;
  krcToken?: string;
  /** Clip / segment: where the file starts in the whole song, ms (lyrics are timed on the whole song). */
  segmentBeginMs?: number;
}

export function qualityOf(name: string): number {
  const i = (QUALITY_NAMES as readonly string[]).indexOf(name);
  return Math.max(i, 0);
}

export class ResourceRegistry {
  private readonly byId = new Map<string, ResourceInfo>();

  /** Records every resources[] entry of a successful answer; returns the entries' infos. */
  addAll(data: ResourceData, o: { resourceType: number; vendorID: number; shared: boolean; now: number }) {
    const out: ResourceInfo[] = [];
    for (const r of data.resources) {
      const info: ResourceInfo = {
        resourceID: r.resource_id,
        songID: data.song_id,
        vendorID: o.vendorID,
        resourceType: o.resourceType,
        quality: qualityOf(r.quality),
        qualityName: QUALITY_NAMES[qualityOf(r.quality)] ?? "normal",
        size: r.size,
        expiresAt: o.now + r.resource_ttl,
        expired: false,
        shared: o.shared,
        ...(data.duration !== undefined ? { durationMs: data.duration } : {}),
        ...(data.has_original !== undefined ? { hasOriginal: data.has_original } : {}),
        ...(data.krc_token !== undefined ? { krcToken: data.krc_token } : {}),
        ...(data.segment_begin !== undefined ? { segmentBeginMs: data.segment_begin } : {}),
      };
      this.byId.set(info.resourceID, info);
      out.push(info);
    }
    return out;
  }

  get(resourceID: string): ResourceInfo | undefined {
    return this.byId.get(resourceID);
  }

  markExpired(resourceID: string): void {
    const info = this.byId.get(resourceID);
    if (info) info.expired = true;
  }

  isExpired(info: ResourceInfo, now: number): boolean {
    return info.expired || now >= info.expiresAt;
  }

  clear(): void {
    this.byId.clear();
  }

  get size(): number {
    return this.byId.size;
  }
}
