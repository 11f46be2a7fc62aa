import { VENDOR_IDS, type VendorId } from "../../protocol/enums.ts";
import type { Session } from "../auth/sessions.ts";
import { VendorError } from "../errors.ts";
import type { AppConfig } from "../options.ts";

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

/** 1017076 unless the scene is 0 (the SDK samples' default, always allowed) or enabled for the app. */
export function checkScene(app: AppConfig, sceneId: number): void {
  if (sceneId !== 0 && !(app.scenes ?? [0]).includes(sceneId)) throw new VendorError(1017076);
}
