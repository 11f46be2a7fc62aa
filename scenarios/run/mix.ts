import type { ResolvedMix, ResolvedScenario } from "../resolve.ts";
import { defaultCharts } from "../resolve.ts";
import { vendorOffers } from "../validate.ts";
import { unitDraw } from "./hash.ts";
import type { PoolSong } from "./population.ts";
import { buildSongPool } from "./song-pool.ts";

// ktv.mix at run time: which resource type, vendor, scene and billing mode a room asks for in a round, and the
// song pools behind it. The draw is (seed, room, round) like the room's song, so every member of the room, on
// whatever worker, agrees without talking: listeners look for the share of the type and vendor their singer
// requested. A song id belongs to one vendor's library (1017072 elsewhere) and a song may lack a clip or a
// segment (1017034), so each (vendor, type) the mix can draw has its own pool, built like the single pool.

export interface Variant {
  type: number;
  vendorId: number;
  sceneId: number;
  billingMode: number;
}

/** Draw streams of hash.ts used here (population.ts uses 1-3). */
const STREAM = { vendor: 11, type: 12, scene: 13, mode: 14 } as const;

/** The value of a weighted list for a uniform draw u in [0, 1); entries of weight 0 are never drawn. */
export function weighted(list: readonly [number, number][], u: number): number {
  let total = 0;
  for (const [, w] of list) total += w;
  let x = u * total;
  let last = list[0]![0];
  for (const [v, w] of list) {
    if (w <= 0) continue;
    last = v;
    if (x < w) return v;
    x -= w;
  }
  return last;
}

/** What room `room` asks for in `round`: the vendor first, then a type that vendor offers (spec §2). */
export function drawVariant(mix: ResolvedMix, seed: number, room: number, round: number): Variant {
  const vendorId = weighted(mix.vendors, unitDraw(seed, STREAM.vendor, room, round));
  const types = mix.types.filter(([t]) => vendorOffers(vendorId, t));
  return {
    vendorId,
    type: weighted(types, unitDraw(seed, STREAM.type, room, round)),
    sceneId: weighted(mix.scenes, unitDraw(seed, STREAM.scene, room, round)),
    billingMode: weighted(mix.billingModes, unitDraw(seed, STREAM.mode, room, round)),
  };
}

export const poolKey = (vendorId: number, type: number) => `${vendorId}:${type}`;

/** Every (vendor, type) the mix can draw. */
export function mixCombos(mix: ResolvedMix): { vendorId: number; type: number }[] {
  const out: { vendorId: number; type: number }[] = [];
  for (const [v, vw] of mix.vendors) {
    if (vw <= 0) continue;
    for (const [t, tw] of mix.types) if (tw > 0 && vendorOffers(v, t)) out.push({ vendorId: v, type: t });
  }
  return out;
}

/**
 * A song pool per (vendor, type) of the mix. The scenario's own charts serve its `resource` vendor; another
 * vendor uses its default charts (vendor 4, without charts, its first tag's songs).
 */
export async function buildMixPools(
  s: ResolvedScenario,
  creds: Parameters<typeof buildSongPool>[1],
): Promise<Record<string, PoolSong[]>> {
  const pools: Record<string, PoolSong[]> = {};
  for (const { vendorId, type } of mixCombos(s.mix!)) {
    const charts = vendorId === s.resource.vendorId ? s.songs.charts : defaultCharts(vendorId);
    pools[poolKey(vendorId, type)] = await buildSongPool(
      { ...s, resource: { ...s.resource, vendorId, type }, songs: { ...s.songs, charts } },
      creds,
    );
  }
  return pools;
}

/** The scenes a mix draws other than 0: the app must have them enabled (else 1017076). */
export function mixScenes(mix: ResolvedMix | null): number[] {
  return mix ? mix.scenes.filter(([v, w]) => w > 0 && v !== 0).map(([v]) => v) : [];
}
