import type { SongChoice } from "../../reference/pipeline/config.ts";
import type { ResolvedScenario } from "../resolve.ts";
import type { Role, Seat } from "../vu/types.ts";
import { unitDraw } from "./hash.ts";

// Who a virtual user is and what it sings, from the scenario and a few numbers alone (no coordination):
//   closed model: VU j is user j for the whole run: room ⌊j / usersPerRoom⌋ (mod rooms when rooms is given),
//                 seat j mod usersPerRoom; its n-th iteration is the room's round n.
//   open model:   arrival k is a new user (user id per arrival) on seat k mod (rooms · usersPerRoom); the
//                 round is ⌊k / (rooms · usersPerRoom)⌋.
// The room's song in round n is a Zipf draw over the pool (chart rank 1 most likely) from (seed, room, n): every
// member picks the same song. Whether a user tries the room's share first is a draw against shareRatio; the
// room's first singer always requests (somebody pays).

export interface PoolSong {
  song_id: string;
  song_name: string;
}

export interface Population {
  rooms: number;
  usersPerRoom: number;
  singersPerRoom: number;
}

export function resolvePopulation(s: ResolvedScenario, maxVUs: number): Population {
  const upr = s.population.usersPerRoom;
  return {
    rooms: s.population.rooms ?? Math.max(1, Math.ceil(maxVUs / upr)),
    usersPerRoom: upr,
    singersPerRoom: s.population.singersPerRoom,
  };
}

export function seatOfUser(user: number, p: Population): Seat {
  const slot = user % p.usersPerRoom;
  const room = Math.floor(user / p.usersPerRoom) % p.rooms;
  const role: Role = slot < p.singersPerRoom ? "singer" : "listener";
  return { room, slot, role };
}

export function roomID(prefix: string, room: number): string {
  return `${prefix}-room${room}`;
}

/** The stream id the pipeline publishes for a user (its default `<userID>_main`). */
export function streamOf(userID: string): string {
  return `${userID.replace(/[^A-Za-z0-9_-]/g, "_")}_main`;
}

/** Zipf(s) over ranks 0..n-1: a sampler from a uniform draw, by the cumulative weights. */
export function zipfSampler(n: number, s: number): (u: number) => number {
  const cum = new Float64Array(n);
  let total = 0;
  for (let r = 0; r < n; r++) {
    total += 1 / (r + 1) ** s;
    cum[r] = total;
  }
  return (u) => {
    const x = u * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid]! > x) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
}

export class SongPicker {
  private readonly sample: (u: number) => number;

  constructor(
    private readonly pool: PoolSong[],
    private readonly seed: number,
    zipf: number,
    private readonly searchMix: number,
  ) {
    if (pool.length === 0) throw new Error("the song pool is empty");
    this.sample = zipfSampler(pool.length, zipf);
  }

  /** The room's song for a round, by id or (searchMix of the time) by a search for its name. */
  pick(room: number, round: number): SongChoice {
    const song = this.pool[this.sample(unitDraw(this.seed, 1, room, round))]!;
    const bySearch = unitDraw(this.seed, 2, room, round) < this.searchMix && song.song_name !== "";
    return bySearch ? { query: song.song_name } : { songID: song.song_id };
  }
}

export function prefersShare(
  seed: number,
  shareRatio: number,
  seat: Seat,
  user: number,
  round: number,
): boolean {
  if (seat.slot === 0) return false;
  return unitDraw(seed, 3, user, round) < shareRatio;
}
