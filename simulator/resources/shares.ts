import type { ResourceType, VendorId } from "../../protocol/enums.ts";
import type { ResourceRecord } from "./types.ts";

/**
 * A resource a room member requested with that room_id: other members of the room may fetch it once each, for
 * free, via getSharedResource until `expires_at`.
 */
export interface Share {
  /** The requester's record: its quality and span are what the fetchers get. */
  source: ResourceRecord;
  /** Legacy share_token of the vendor's result JSON. */
  share_token: string;
  created_at: number;
  expires_at: number;
  /** Users who already took their free fetch (1017051 on a second one). */
  claimed: Set<string>;
}

export interface ShareKey {
  app_id: number;
  room_id: string;
  song_id: string;
  resource_type: ResourceType;
  vendor_id: VendorId;
}

export interface ShareRegistry {
  /** Records a share of `source` (which must have a room_id). A requester's newer share replaces their older. */
  offer(source: ResourceRecord, shareToken: string, now: number): Share;
  /** Live shares of this key requested by someone other than `userId`, newest first. */
  live(key: ShareKey, userId: string, now: number): Share[];
  reset(): void;
  /** Keys with at least one share still held (live or not yet swept). */
  readonly size: number;
}

const keyOf = (k: ShareKey) =>
  `${k.app_id}\u0000${k.room_id}\u0000${k.song_id}\u0000${k.resource_type}\u0000${k.vendor_id}`;

export function createShareRegistry(shareTtlMs: number): ShareRegistry {
  // key -> requester user_id -> their newest share. Keys are re-inserted on every offer, so the Map's insertion
  // order is the order of each key's newest share: expired keys collect at the head and are swept from there.
  const byKey = new Map<string, Map<string, Share>>();

  function sweep(now: number): void {
    for (const [k, byUser] of byKey) {
      let newest = 0;
      for (const s of byUser.values()) newest = Math.max(newest, s.expires_at);
      if (newest > now) return;
      byKey.delete(k);
    }
  }

  return {
    offer(source, share_token, now) {
      if (source.room_id === null) throw new Error("a share needs the source resource's room_id");
      sweep(now);
      const k = keyOf({ ...source, room_id: source.room_id });
      const byUser = byKey.get(k) ?? new Map<string, Share>();
      byKey.delete(k);
      const share: Share = {
        source,
        share_token,
        created_at: now,
        expires_at: now + shareTtlMs,
        claimed: new Set(),
      };
      byUser.set(source.user_id, share);
      byKey.set(k, byUser);
      return share;
    },
    live(key, userId, now) {
      const byUser = byKey.get(keyOf(key));
      if (!byUser) return [];
      const out: Share[] = [];
      for (const [owner, s] of byUser) if (owner !== userId && s.expires_at > now) out.push(s);
      return out.sort((a, b) => b.created_at - a.created_at);
    },
    reset: () => byKey.clear(),
    get size() {
      return byKey.size;
    },
  };
}
