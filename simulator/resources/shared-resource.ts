import { warmFirstChunk } from "../cdn/warm.ts";
import { VendorError } from "../errors.ts";
import { hasWordTimedLyrics } from "../lyrics/krc.ts";
import { type Caller, checkRequestTarget } from "./caller.ts";
import type { ResourceDeps } from "./request-resource.ts";
import { resourceResult } from "./result.ts";
import type { ResourceData, SharedResourceBody } from "./schemas.ts";
import { songInVendor } from "./song-rules.ts";

/**
 * getSharedResource: a room member takes, free and once per requested resource, the newest live resource
 * another member of the same room requested for (song, type, vendor). The fetcher gets their own resource id (same file: the requester's
 * quality and span) bound to their session; nothing is billed. Whether the requester is still in the room does
 * not matter (not public; the share simply lives `shareTtlMs`).
 */
export function getSharedResource(
  sim: Omit<ResourceDeps, "ledger">,
  caller: Caller,
  body: SharedResourceBody,
): ResourceData {
  const { session, app } = caller;
  const { vendor, type } = checkRequestTarget(app, body);
  if (!sim.rooms.isMember(session.app_id, body.room_id, session.user_id)) throw new VendorError(1017054);
  const facts = songInVendor(sim.catalog, body.song_id, vendor);
  if (sim.catalog.isRevoked(facts.item.song_id))
    throw new VendorError(1017030, "no copyright: the song was revoked");
  // Rights may have changed since the share was offered: a listen-only song has no accompaniment to hand out.
  const { song_lyric, recording } = facts.item.copyright;
  if (type !== 0 && song_lyric !== 1) throw new VendorError(recording === 1 ? 1017031 : 1017030);

  const now = sim.clock.now();
  const key = {
    app_id: session.app_id,
    room_id: body.room_id,
    song_id: facts.item.song_id,
    resource_type: type,
    vendor_id: vendor,
  };
  const live = sim.resources.shares.live(key, session.user_id, now);
  if (live.length === 0) throw new VendorError(1017050);
  // Each requested resource is one free fetch per user: take the newest this user has not fetched yet.
  const share = live.find((s) => !s.claimed.has(session.user_id));
  if (!share) throw new VendorError(1017051);

  const src = share.source;
  const krc =
    type === 0 || !hasWordTimedLyrics(facts)
      ? null
      : sim.resources.krc.issue(src.song_id, vendor, app.app_id, session.user_id, now);
  const subject = {
    app_id: session.app_id,
    user_id: session.user_id,
    song_id: src.song_id,
    vendor_id: vendor,
    resource_type: type,
    room_id: body.room_id,
  };
  const rec = sim.resources.create({
    ...subject,
    session_id: session.id,
    quality: src.quality,
    billing_mode: src.billing_mode,
    span: src.span,
    layout: src.layout,
    via_share: true,
    krc_token: krc?.krc_token ?? null,
    ttlMs: sim.faults?.issueTtl(caller.faultKey, "POST /v1/music/shared-resource", subject),
  });
  sim.resources.add(rec);
  warmFirstChunk(sim, rec);
  share.claimed.add(session.user_id);
  sim.metrics.resourcesIssued.inc({ resource_type: String(type), via: "share" });
  return resourceResult({
    rec,
    facts,
    now,
    share_token: share.share_token,
    share_ttl: share.expires_at - now,
    krc,
    shared: true,
  });
}
