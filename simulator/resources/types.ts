import type { BillingMode, Quality, ResourceType, VendorId } from "../../protocol/enums.ts";
import type { AudioLayout } from "../cdn/format.ts";
import type { KrcTokens } from "./krc-token.ts";
import type { ShareRegistry } from "./shares.ts";

/** A resource handed out by requestResource / getSharedResource. Lives in memory for the simulator's life. */
export interface ResourceRecord {
  resource_id: string;
  app_id: number;
  /** The user (and session) it was issued to: only they may download it (1017018 for anyone else). */
  user_id: string;
  session_id: string;
  song_id: string;
  vendor_id: VendorId;
  resource_type: ResourceType;
  quality: Quality;
  billing_mode: BillingMode;
  room_id: string | null;
  /** ms since epoch */
  created_at: number;
  expires_at: number;
  /** Set by admin expire or an expiry fault: answers 1017019 from then on regardless of expires_at. */
  forced_expired: boolean;
  /** The part of the full song this file covers, ms. Song/accompaniment: whole song; clip/segment: the clip. */
  span: { begin: number; end: number };
  layout: AudioLayout;
  /** Obtained via getSharedResource (free) rather than requestResource (billed). */
  via_share: boolean;
  krc_token: string | null;
}

/** What a new resource is made from; the store adds the id, timestamps and expiry. */
export interface ResourceSpec
  extends Omit<ResourceRecord, "resource_id" | "created_at" | "expires_at" | "forced_expired"> {
  /** Validity override (ms), e.g. from the fault engine; default `options.resourceTtlMs`. */
  ttlMs?: number;
}

export interface UseOptions {
  /** HTTP status of the 1017019 answer: 410 for the download route, 200 (default) elsewhere. */
  expiredStatus?: number;
}

export interface ResourceStore {
  get(resourceId: string): ResourceRecord | undefined;
  /**
   * The resource if this session may use it now. Throws VendorError: 1017004 empty id, 1017018 unknown id or
   * another user's, app's or session's, 1017019 (HTTP `opts.expiredStatus`, default 200) expired.
   */
  use(
    resourceId: string,
    session: { id: string; app_id: number; user_id: string },
    opts?: UseOptions,
  ): ResourceRecord;
  /** A new record with a fresh unguessable id, NOT yet stored: bill first, then `add` it. */
  create(spec: ResourceSpec): ResourceRecord;
  /** Stores a record made by `create`, from then on usable. */
  add(rec: ResourceRecord): void;
  /** Force-expire one resource; false when unknown. */
  expire(resourceId: string): boolean;
  isExpired(rec: ResourceRecord, now: number): boolean;
  /** All resources of a song (revocation cuts their downloads). */
  ofSong(songId: string): ResourceRecord[];
  /** Every stored resource, oldest first (an expiry fault sweeps them when it starts). */
  all(): IterableIterator<ResourceRecord>;
  /** Clears resources and shares. */
  reset(): void;
  readonly count: number;
  /** Resources forgotten because their session or app held its cap of newer ones (limits.ts; since start). */
  readonly evicted: number;
  /** Room shares for getSharedResource. */
  readonly shares: ShareRegistry;
  /** krc_token issuer/verifier of this simulator (the KRC lyrics route verifies with `krc.verify`). */
  readonly krc: KrcTokens;
}
