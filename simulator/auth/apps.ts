import type { AppConfig } from "../options.ts";
import { parseApps } from "./apps-file.ts";
import { createRateLimits } from "./rate-limit.ts";
import { Token04Cache } from "./token-cache.ts";

/** The apps this simulator serves, and their live request quotas. */
export interface AppRegistry {
  get(appId: number): AppConfig | undefined;
  list(): AppConfig[];
  /** Rate limit: 0 when the app may make one more request at nowMs, else ms until it may retry. */
  admit(appId: number, nowMs: number): number;
  /** Refills every app's quota (admin reset). */
  reset(): void;
  /** token04 verdicts of these apps (token-cache.ts): one per registry, so it never outlives the apps it judged. */
  readonly tokens: Token04Cache;
}

/** Validates like an apps.json (throws AppsFileError naming the app and field), duplicates included. */
export function createAppRegistry(apps: AppConfig[]): AppRegistry {
  const byId = new Map<number, AppConfig>();
  for (const a of parseApps(apps, "apps option")) byId.set(a.app_id, a);
  const limits = createRateLimits();
  return {
    get: (id) => byId.get(id),
    list: () => [...byId.values()],
    admit: (id, nowMs) => limits.admit(id, byId.get(id)?.rate_limit_rps, nowMs),
    reset: () => limits.reset(),
    tokens: new Token04Cache(),
  };
}
