// Test doubles for the resource unit tests: a hand-made catalog whose songs have exactly the flags a test
// needs, and an in-memory ledger that can be told to fail. Integration tests use the real ones.
import type { VendorId } from "../../protocol/enums.ts";
import { createRoomRegistry } from "../auth/rooms.ts";
import type { Session } from "../auth/sessions.ts";
import type { Catalog, SongFacts } from "../catalog/types.ts";
import { manualClock } from "../clock.ts";
import type { Ledger, LedgerRow, NewLedgerRow } from "../ledger/types.ts";
import { createMetrics } from "../ops/metrics.ts";
import { DEFAULT_OPTIONS, DEV_APP, type SimOptions } from "../options.ts";
import type { Caller } from "./caller.ts";
import type { ResourceDeps } from "./request-resource.ts";
import { createResourceStore } from "./store.ts";

export interface SongFlags {
  vendor_id?: VendorId;
  recording?: 0 | 1;
  song_lyric?: 0 | 1;
  has_accompaniment?: boolean;
  has_original?: 0 | 1;
  has_clip?: 0 | 1;
  has_short_segment?: 1 | 2;
}

export function makeSong(index: number, f: SongFlags = {}): SongFacts {
  const vendor = f.vendor_id ?? 0;
  const duration = 200_000 + index * 1000;
  return {
    item: {
      song_id: String(10_000 + index),
      song_name: `song ${index}`,
      singer_id: `s${index}`,
      singer_name: `singer ${index}`,
      singer_img: "",
      album_id: `a${index}`,
      album_name: `album ${index}`,
      album_img: "",
      album_img_mini: "",
      album_img_small: "",
      album_img_medium: "",
      duration,
      accompany_duration: duration - 500,
      vendor_id: vendor,
      ...(vendor === 2
        ? { pitch_ability: 1 as const, has_short_segment: f.has_short_segment ?? 1 }
        : { has_clip: f.has_clip ?? 1 }),
      copyright: { song_lyric: f.song_lyric ?? 1, recording: f.recording ?? 1, channel: 0 },
    },
    index,
    key: index * 7919,
    has_accompaniment: f.has_accompaniment ?? true,
    has_original: f.has_original ?? 0,
    has_krc: true,
    has_pitch: true,
    pure_music: false,
    bpm: 100,
    bpm_type: "2",
    genres: [20],
    clip: { segment_begin: 60_000, segment_end: 100_000, prelude_duration: 4_000 },
    segment: {
      begin: 10_000,
      end: 30_000,
      other_segments: [
        { begin: 2_000, end: 12_000 },
        { begin: 20_000, end: 38_000 },
      ],
    },
    chorus: [{ start: 60_000, end: 90_000, tags: ["1"] }],
    intro_end: 12_000,
  };
}

type UsedCatalog = Pick<
  Catalog,
  "seed" | "size" | "get" | "at" | "indexOf" | "isRevoked" | "revoke" | "restore" | "reset"
>;

/** Only what the resource surface uses; the list/search side is absent (calling it fails loudly). */
export function tinyCatalog(songs: SongFacts[]): Catalog {
  const byId = new Map(songs.map((s, i) => [s.item.song_id, i]));
  const revoked = new Set<string>();
  const used: UsedCatalog = {
    seed: 1,
    size: songs.length,
    get: (id) => songs[byId.get(id) ?? -1],
    at(i) {
      const s = songs[i];
      if (!s) throw new RangeError(`no song at ${i}`);
      return s;
    },
    indexOf: (id) => byId.get(id),
    isRevoked: (id) => revoked.has(id),
    revoke(id) {
      if (!byId.has(id)) return false;
      revoked.add(id);
      return true;
    },
    restore: (id) => revoked.delete(id),
    reset: () => revoked.clear(),
  };
  return used as Catalog;
}

export function memoryLedger(): Ledger & { failNext: boolean; all: LedgerRow[] } {
  const all: LedgerRow[] = [];
  const ledger = {
    failNext: false,
    all,
    append(row: NewLedgerRow): LedgerRow {
      if (ledger.failNext) {
        ledger.failNext = false;
        throw new Error("disk full");
      }
      const r = { ...row, id: all.length + 1 };
      all.push(r);
      return r;
    },
    rows: () => [...all],
    totals: () => ({ billable: all.length, by_mode: {}, by_vendor: {}, by_app: {} }),
    count: () => all.length,
    clear: () => {
      all.length = 0;
    },
    close: () => {},
  };
  return ledger;
}

export function fixtureDeps(songs: SongFacts[], opts: Partial<SimOptions> = {}) {
  const clock = manualClock();
  const options: SimOptions = { ...DEFAULT_OPTIONS, ...opts };
  const ledger = memoryLedger();
  const deps: ResourceDeps = {
    catalog: tinyCatalog(songs),
    rooms: createRoomRegistry(),
    resources: createResourceStore({ clock, options }),
    ledger,
    metrics: createMetrics(),
    options,
    clock,
  };
  return { deps, clock, ledger };
}

let sessionSeq = 0;
export function caller(userId: string, app = DEV_APP): Caller {
  const session: Session = {
    id: `s_test_${++sessionSeq}`,
    app_id: app.app_id,
    user_id: userId,
    user_name: userId,
    created_at: 0,
  };
  return { session, app };
}
