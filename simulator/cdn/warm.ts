import { setImmediate as nextTurn } from "node:timers/promises";
import type { Quality } from "../../protocol/enums.ts";
import type { SimContext } from "../context.ts";
import type { ResourceRecord } from "../resources/types.ts";
import { audioFileFor, chunkAt, renderBytes } from "./audio-file.ts";
import type { ChunkCache } from "./chunk-cache.ts";
import { audioLayout } from "./format.ts";
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

// The renderer's first use, paid at start-up (SimOptions.warmUp). The first chunk a fresh simulator renders
// took 52 ms of CPU where the third song's took 5-8 (compose + arrange + chunk 0; a throwaway probe at load 6):
// V8 compiles and optimises the synthesiser's loops on that first use, and at `ktv run` start that lands on the
// first users' downloads, together with everything else that is cold. Rendered here into nothing (no cache, no
// ledger, no metric), so what a download is served, and every count, stays what it was.

/** Songs rendered (their composition, arrangement and first chunk) by `warmRenderer`. */
export const WARM_SONGS = 2;
/** Bytes rendered of each (song, tier, tracks) file: enough loop iterations for V8 to optimise the synthesiser. */
export const WARM_BYTES = 16 * 1024;

/**
 * Renders the first WARM_BYTES of a ~40 s clip of the catalog's first `WARM_SONGS` songs at every quality tier, single
 * and dual track, and throws the bytes away. Returns the bytes rendered (0 for an empty catalog). Synchronous:
 * call it before serving.
 */
export function warmRenderer(catalog: SimContext["catalog"]): number {
  let rendered = 0;
  const songs = Math.min(WARM_SONGS, catalog.size);
  for (let i = 0; i < songs; i++) {
    const facts = catalog.at(i);
    const begin = Math.min(30_000, Math.max(0, facts.item.duration - 40_000));
    const span = { begin, end: Math.min(facts.item.duration, begin + 40_000) };
    for (const quality of [0, 1, 2] as Quality[]) {
      for (const tracks of [1, 2] as const) {
        const layout = audioLayout(quality, span.end - span.begin, tracks);
        const file = audioFileFor({ span, layout, resource_type: tracks === 2 ? 1 : 2, quality }, facts);
        rendered += renderBytes(file, 0, WARM_BYTES).length;
      }
    }
  }
  return rendered;
}

/** Bytes the start-up warm-up rendered, per simulator (keyed like the caches); absent when it did not run. */
const warmed = new WeakMap<object, number>();

/** The start-up warm-up of `sim`'s CDN (SimOptions.warmUp): warmRenderer over its catalog, remembered. */
export function warmUpRenderer(sim: Sim): void {
  warmed.set(sim.resources, warmRenderer(sim.catalog));
}

/** What the start-up warm-up rendered (bytes), or 0 when it did not run. */
export function warmedAtStart(sim: Sim): number {
  return warmed.get(sim.resources) ?? 0;
}
