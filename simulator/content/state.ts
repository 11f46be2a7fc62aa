import type { SimContext } from "../context.ts";
import { PageCache } from "./page-cache.ts";
import { PlusHistory } from "./plus-history.ts";

// The content center's per-simulator state, shared by the Fastify route (routes.ts) and the pre-dispatch fast
// path (simulator/fast-path/): both must answer from the same page cache and the same /search/plus history, or
// a page revoked through one would still be served by the other.
export interface ContentState {
  pages: PageCache;
  plus: PlusHistory;
  /**
   * Compiles `schema` for the extended route with the compiler (and ajv options) Fastify compiled that route's
   * own schemas with: the content plugin's, set once the plugin is registered and the app ready.
   */
  compile?: (schema: unknown, httpPart: "body" | "headers") => (data: unknown) => boolean;
}

const states = new WeakMap<SimContext, ContentState>();

/** The content state of `sim`, made on first use. */
export function contentStateOf(sim: SimContext): ContentState {
  let s = states.get(sim);
  if (s === undefined) {
    s = { pages: new PageCache(), plus: new PlusHistory() };
    states.set(sim, s);
  }
  return s;
}
