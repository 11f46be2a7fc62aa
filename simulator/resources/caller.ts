import { type ResourceType, VENDOR_IDS, type VendorId } from "../../protocol/enums.ts";
import type { Session } from "../auth/sessions.ts";
import { VendorError } from "../errors.ts";
import type { AppConfig } from "../options.ts";
import { checkTypeSupported, isVendorId } from "./capabilities.ts";

/** Who asks: the session from `requireSession` and its app's configuration. */
export interface Caller {
  session: Session;
  app: AppConfig;
  /** The request's fault key (faults/hook.ts): faults on the resource it issues are decided under it. */
  faultKey?: string;
}

/** 1017052 when the app's contract does not include this vendor (AppConfig.vendors; default all). */
export function checkVendorEnabled(app: AppConfig, vendor: VendorId): void {
  if (!(app.vendors ?? VENDOR_IDS).includes(vendor)) throw new VendorError(1017052);
}

/**
 * The checks requestResource and getSharedResource share, in the vendor's order: song id present (1017002),
 * vendor id valid (1017071) and enabled for the app (1017052), resource type offered by that vendor (1017053).
 */
export function checkRequestTarget(
  app: AppConfig,
  body: { song_id: string; vendor_id: number; resource_type: number },
): { vendor: VendorId; type: ResourceType } {
  if (body.song_id === "") throw new VendorError(1017002);
  const vendor = body.vendor_id;
  if (!isVendorId(vendor)) throw new VendorError(1017071);
  checkVendorEnabled(app, vendor);
  const type = body.resource_type as ResourceType;
  checkTypeSupported(type, vendor);
  return { vendor, type };
}

/** 1017076 unless the scene is 0 (the SDK samples' default, always allowed) or enabled for the app. */
export function checkScene(app: AppConfig, sceneId: number): void {
  if (sceneId !== 0 && !(app.scenes ?? [0]).includes(sceneId)) throw new VendorError(1017076);
}
