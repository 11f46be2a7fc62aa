import { randomBytes } from "node:crypto";
import type { Quality } from "../../protocol/enums.ts";
import { audioLayout } from "../cdn/format.ts";
import { warmFirstChunk } from "../cdn/warm.ts";
import type { SimContext } from "../context.ts";
import { VendorError } from "../errors.ts";
import type { FaultSeam } from "../faults/seam.ts";
import { hasWordTimedLyrics } from "../lyrics/krc.ts";
import { checkBilling } from "./billing.ts";
import { type Caller, checkRequestTarget, checkScene } from "./caller.ts";
import { checkQuality } from "./capabilities.ts";
import { resourceResult, resourceSpan, trackCount } from "./result.ts";
import type { RequestResourceBody, ResourceData } from "./schemas.ts";
import { checkSongRights, songInVendor } from "./song-rules.ts";

export type ResourceDeps = Pick<
  SimContext,
  "catalog" | "rooms" | "resources" | "ledger" | "metrics" | "options" | "clock"
> & { faults?: Pick<FaultSeam, "issueTtl"> };

interface Log {
  error(obj: object, msg: string): void;
}

const nonEmpty = (s: string | undefined) => (s === undefined || s === "" ? null : s);
export const newShareToken = () => `st_${randomBytes(16).toString("base64url")}`;

/**
 * requestResource: validates in the order "what is asked" (song id, vendor, type, quality), "who pays"
 * (billing, scene, room), "may this song be used so" (library, rights), then bills exactly once and only then
 * issues the resource. A ledger failure answers 1017099 and issues nothing, so a resource never exists unbilled.
 */
export function requestResource(
  sim: ResourceDeps,
  caller: Caller,
  body: RequestResourceBody,
  requestId: string,
  log: Log,
): ResourceData {
  const { session, app } = caller;
  const { vendor, type } = checkRequestTarget(app, body);
  const quality = (body.quality ?? 0) as Quality;
  checkQuality(type, quality, vendor);

  const roomId = nonEmpty(body.room_id);
  const masterId = nonEmpty(body.master_id);
  const mode = checkBilling({ billing_mode: body.billing_mode, master_id: masterId, room_id: roomId }, app);
  const sceneId = body.scene_id ?? 0;
  checkScene(app, sceneId);
  if (roomId !== null && !sim.rooms.isMember(session.app_id, roomId, session.user_id)) {
    throw new VendorError(1017054);
  }

  const facts = songInVendor(sim.catalog, body.song_id, vendor);
  checkSongRights(sim.catalog, facts, type);

  const now = sim.clock.now();
  const span = resourceSpan(type, facts);
  const krc =
    type === 0 || !hasWordTimedLyrics(facts)
      ? null
      : sim.resources.krc.issue(facts.item.song_id, vendor, app.app_id, session.user_id, now);
  const subject = {
    app_id: session.app_id,
    user_id: session.user_id,
    song_id: facts.item.song_id,
    vendor_id: vendor,
    resource_type: type,
    room_id: roomId,
  };
  const rec = sim.resources.create({
    ...subject,
    session_id: session.id,
    quality,
    billing_mode: mode,
    span,
    layout: audioLayout(quality, span.end - span.begin, trackCount(type, facts)),
    via_share: false,
    krc_token: krc?.krc_token ?? null,
    ttlMs: sim.faults?.issueTtl(caller.faultKey, "POST /v1/music/resource", subject),
  });
  try {
    sim.ledger.append({
      time: now,
      app_id: session.app_id,
      user_id: session.user_id,
      room_id: roomId,
      song_id: rec.song_id,
      resource_type: type,
      billing_mode: mode,
      vendor_id: vendor,
      quality,
      scene_id: sceneId,
      master_id: masterId,
      resource_id: rec.resource_id,
      request_id: requestId,
    });
  } catch (err) {
    log.error({ err, song_id: rec.song_id }, "ledger append failed: resource not issued");
    throw new VendorError(
      1017099,
      "internal error: billing ledger unavailable, nothing was billed or issued",
    );
  }
  sim.resources.add(rec);
  warmFirstChunk(sim, rec);
  sim.metrics.ledgerRows.inc({ billing_mode: String(mode), vendor_id: String(vendor) });
  sim.metrics.resourcesIssued.inc({ resource_type: String(type), via: "request" });

  const shareToken = newShareToken();
  if (roomId !== null) sim.resources.shares.offer(rec, shareToken, now);
  return resourceResult({
    rec,
    facts,
    now,
    share_token: shareToken,
    share_ttl: sim.options.shareTtlMs,
    krc,
    shared: false,
  });
}
