import { setImmediate as nextTurn } from "node:timers/promises";
import type { SimContext } from "../context.ts";
import type { ResourceRecord } from "../resources/types.ts";
import { audioFileFor, chunkAt } from "./audio-file.ts";
import type { ChunkCache } from "./chunk-cache.ts";
import { charge, turnWithBudget } from "./turn-budget.ts";

// The CDN's first chunk of a resource, rendered when the resource is issued (requestResource /
// getSharedResource answered) instead of when its download asks for it. The first rendering of a song also
// composes and arranges it: measured 20-50 ms of the simulator's thread on a loaded machine, spent between
// the download's request and its first byte, so straight on the user's time to first audio. Issued here, it
// runs after the answer is written, while the client reads the answer and opens its download; the download
// then finds the chunk in the shared cache. Same work, not more: the download would render that chunk anyway
// (the cache holds it for every download of that file), and rendering waits for the CDN's turn budget.

/** Keyed by the simulator's resource store: one per simulator, reachable from every route's dependencies. */
const caches = new WeakMap<object, ChunkCache>();

type Sim = Pick<SimContext, "resources" | "catalog">;

/** The CDN routes register the chunk cache their downloads read (one per simulator). */
export function registerChunkCache(sim: Sim, cache: ChunkCache): void {
  caches.set(sim.resources, cache);
}

/** The chunk cache the CDN of this simulator serves from, if it has a CDN (stats for tests and ops). */
export function chunkCacheOf(sim: Sim): ChunkCache | undefined {
  return caches.get(sim.resources);
}

/** Renders the first chunk of `rec`'s file into the CDN's cache soon; a no-op without a CDN. Never throws. */
export function warmFirstChunk(sim: Sim, rec: ResourceRecord): void {
  const cache = caches.get(sim.resources);
  if (!cache) return;
  void (async () => {
    // After this turn: the answer that issued the resource goes out first.
    await nextTurn();
    await turnWithBudget();
    const facts = sim.catalog.get(rec.song_id);
    if (!facts) return;
    const t0 = performance.now();
    chunkAt(audioFileFor(rec, facts), 0, cache);
    charge(performance.now() - t0);
    // A failure here costs nothing but the head start: the download renders the chunk itself.
  })().catch(() => {});
}
