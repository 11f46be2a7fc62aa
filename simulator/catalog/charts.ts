import type { VendorId } from "../../protocol/enums.ts";
import { F_KRC, F_LYRIC, F_RECORDING } from "./songs.ts";
import { slotOf } from "./tags.ts";

// Charts (/top/song) with the spec's top ids. Vendors 0/1 share the four public ids; vendor 2 has themed
// lists in general / KTV / listening variants; vendor 4 has none. A chart is its theme's most popular songs.

/** What a chart's theme looks at, computed once per song during the start-up pass. */
export interface ChartTraits {
  flags: number;
  genres: readonly number[];
  slots: readonly number[];
  /** uint32 draw: "rising" and "duet" membership. */
  trend: number;
}

export interface ChartSpec {
  top_id: string;
  name: string;
  accept(t: ChartTraits): boolean;
}

export const CHART_LENGTH = 200;

const has = (xs: readonly number[], x: number) => xs.includes(x);
const slot = (t: ChartTraits, g: Parameters<typeof slotOf>[0], k: number) => t.slots.includes(slotOf(g, k));
const all = () => true;
const ktv = (t: ChartTraits) => (t.flags & (F_LYRIC | F_KRC)) === (F_LYRIC | F_KRC);
const listening = (t: ChartTraits) => (t.flags & F_RECORDING) !== 0;

const PUBLIC_CHARTS: ChartSpec[] = [
  { top_id: "6666", name: "飙升榜", accept: (t) => t.trend % 100 < 12 },
  { top_id: "8888", name: "热歌榜", accept: all },
  {
    top_id: "23784",
    name: "网络热歌榜",
    accept: (t) => has(t.genres, 27) || (has(t.genres, 20) && t.trend % 97 < 25),
  },
  { top_id: "24971", name: "DJ热歌榜", accept: (t) => has(t.genres, 2) || slot(t, "style", 9) },
];

const themes: Record<string, (t: ChartTraits) => boolean> = {
  pop: (t) => slot(t, "style", 0),
  classics: (t) => slot(t, "era", 0) || slot(t, "era", 1) || slot(t, "era", 2),
  love: (t) => slot(t, "mood", 3) || slot(t, "mood", 7),
  sad: (t) => slot(t, "mood", 0) || slot(t, "mood", 6),
  y9000: (t) => slot(t, "era", 2) || slot(t, "era", 3),
  y7080: (t) => slot(t, "era", 0) || slot(t, "era", 1),
  duet: (t) => t.trend % 89 < 6,
};

const v2 = (
  top_id: string,
  name: string,
  theme: keyof typeof themes,
  variant: (t: ChartTraits) => boolean,
) => ({
  top_id,
  name,
  accept: (t: ChartTraits) => (themes[theme] as (t: ChartTraits) => boolean)(t) && variant(t),
});

const VENDOR2_CHARTS: ChartSpec[] = [
  v2("22004", "流行金曲", "pop", all),
  v2("22005", "流行金曲·K歌", "pop", ktv),
  v2("22006", "流行金曲·听歌", "pop", listening),
  v2("22007", "经典老歌", "classics", all),
  v2("22008", "经典老歌·K歌", "classics", ktv),
  v2("22009", "经典老歌·听歌", "classics", listening),
  v2("22010", "情歌", "love", all),
  v2("22011", "情歌·K歌", "love", ktv),
  v2("22015", "伤感歌曲", "sad", all),
  v2("22016", "伤感歌曲·K歌", "sad", ktv),
  v2("22017", "90后00后", "y9000", all),
  v2("22018", "90后00后·K歌", "y9000", ktv),
  v2("22019", "70后80后", "y7080", all),
  v2("22020", "70后80后·K歌", "y7080", ktv),
  v2("22026", "对唱·K歌", "duet", ktv),
];

export const CHART_SPECS: Record<VendorId, ChartSpec[]> = {
  0: PUBLIC_CHARTS,
  1: PUBLIC_CHARTS,
  2: VENDOR2_CHARTS,
  4: [],
};

/** Collects each chart's first CHART_LENGTH accepted songs from a most-popular-first stream of songs. */
export class ChartBuilder {
  readonly lists = new Map<string, number[]>();
  private open: number;
  constructor(private readonly specs: ChartSpec[]) {
    for (const s of specs) this.lists.set(s.top_id, []);
    this.open = specs.length;
  }
  get full(): boolean {
    return this.open === 0;
  }
  offer(index: number, t: ChartTraits): void {
    for (const s of this.specs) {
      const list = this.lists.get(s.top_id) as number[];
      if (list.length < CHART_LENGTH && s.accept(t)) {
        list.push(index);
        if (list.length === CHART_LENGTH) this.open--;
      }
    }
  }
}
