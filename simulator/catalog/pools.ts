import { base, en, Faker, zh_CN } from "@faker-js/faker";
import { Draws } from "./prng.ts";
import { ZH_BAND_SUFFIXES, ZH_MODIFIERS, ZH_NOUNS, ZH_VERBS } from "./words.ts";

/**
 * The shared vocabularies songs draw from, built once at start-up. Pool sizes grow with the catalog so a
 * large catalog has more singers and titles, not just more repeats; everything is a function of the seed.
 */
export interface Pools {
  singers: string[];
  /** 0 = Chinese, 1 = English, per singer. */
  singerLang: Uint8Array;
  /** Albums per singer (1..6). */
  singerAlbums: Uint8Array;
  /** All titles: Chinese in [0, zhEnd), English in [zhEnd, enEnd), pure-music titles in [enEnd, length). */
  titles: string[];
  zhEnd: number;
  enEnd: number;
  albums: string[];
}

const LANE_ZH_TITLE = 101;
const LANE_EN_TITLE = 102;
const LANE_PURE_TITLE = 103;
const LANE_ALBUM = 104;
const LANE_SINGER = 105;

const clamp = (x: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, Math.ceil(x)));

export function poolSizes(size: number) {
  return {
    singers: clamp(size / 20, 60, 50_000),
    zhTitles: clamp(size * 0.25, 200, 250_000),
    enTitles: clamp(size * 0.12, 100, 120_000),
    pureTitles: clamp(size * 0.01, 20, 10_000),
    albums: clamp(size / 10, 50, 100_000),
  };
}

const en_words = en.word as { adjective: string[]; noun: string[]; verb: string[] };
const EN_ADJ = en_words.adjective;
const EN_NOUN = en_words.noun;
const EN_VERB = en_words.verb;
const EN_SONGS = (en.music as { song_name: string[] }).song_name;
const ZH_SONGS = (zh_CN.music as { song_name: string[] }).song_name;

const cap = (w: string) => w.charAt(0).toUpperCase() + w.slice(1);

function zhTitle(d: Draws): string {
  const p = d.float();
  let t: string;
  if (p < 0.06) t = d.pick(ZH_NOUNS);
  else if (p < 0.2) t = d.pick(ZH_NOUNS) + d.pick(ZH_NOUNS);
  else if (p < 0.42) t = `${d.pick(ZH_NOUNS)}的${d.pick(ZH_NOUNS)}`;
  else if (p < 0.58) t = `${d.pick(ZH_MODIFIERS)}的${d.pick(ZH_NOUNS)}`;
  else if (p < 0.74) t = d.pick(ZH_VERBS) + d.pick(ZH_NOUNS);
  else if (p < 0.84) t = `${d.pick(["我的", "你的", "给", "致", "关于"])}${d.pick(ZH_NOUNS)}`;
  else if (p < 0.92) t = `${d.pick(ZH_NOUNS)}的${d.pick(ZH_MODIFIERS)}${d.pick(ZH_NOUNS)}`;
  else t = d.pick(ZH_SONGS);
  const s = d.float();
  if (s < 0.03) t += "(Live)";
  else if (s < 0.05) t += "(DJ版)";
  return t;
}

function enTitle(d: Draws): string {
  const p = d.float();
  let t: string;
  if (p < 0.3) t = `${cap(d.pick(EN_ADJ))} ${cap(d.pick(EN_NOUN))}`;
  else if (p < 0.45) t = `The ${cap(d.pick(EN_NOUN))}`;
  else if (p < 0.58) t = `${cap(d.pick(EN_NOUN))} of the ${cap(d.pick(EN_NOUN))}`;
  else if (p < 0.7)
    t = `${cap(d.pick(EN_VERB))} Me ${cap(d.pick(["Tonight", "Now", "Again", "Home", "Slowly"]))}`;
  else if (p < 0.8) t = `${cap(d.pick(EN_ADJ))} ${cap(d.pick(EN_ADJ))} ${cap(d.pick(EN_NOUN))}`;
  else t = d.pick(EN_SONGS);
  const s = d.float();
  if (s < 0.03) t += " (Live)";
  else if (s < 0.05) t += " (DJ Remix)";
  return t;
}

function pureTitle(d: Draws): string {
  const p = d.float();
  if (p < 0.5) return `${zhTitle(d)}(纯音乐)`;
  if (p < 0.8) return `纯音乐·${d.pick(ZH_NOUNS)}`;
  return `${enTitle(d)} (纯音乐)`;
}

function albumTitle(d: Draws): string {
  const p = d.float();
  if (p < 0.45) return d.pick(ZH_NOUNS) + d.pick(["", "", "集", "之歌", " 新歌+精选"]);
  if (p < 0.7) return `${d.pick(ZH_MODIFIERS)}${d.pick(ZH_NOUNS)}`;
  if (p < 0.92) return `${cap(d.pick(EN_ADJ))} ${cap(d.pick(EN_NOUN))}`;
  return `${d.pick(ZH_NOUNS)} ${d.pick(["EP", "Deluxe", "Live", "Vol.2"])}`;
}

export function buildPools(seed: number, size: number): Pools {
  const n = poolSizes(size);
  // One faker per locale, seeded from the catalog seed: names are faker's, and its output is a pure function
  // of the seed for a given faker version (pinned in package-lock.json).
  const fzh = new Faker({ locale: [zh_CN, en, base] });
  const fen = new Faker({ locale: [en, base] });
  fzh.seed(seed);
  fen.seed(seed ^ 0x2545f491);
  const singers: string[] = new Array(n.singers);
  const singerLang = new Uint8Array(n.singers);
  const singerAlbums = new Uint8Array(n.singers);
  for (let k = 0; k < n.singers; k++) {
    const d = new Draws(seed, k, LANE_SINGER);
    const zh = d.chance(0.65);
    const band = d.chance(0.06);
    singerLang[k] = zh ? 0 : 1;
    singerAlbums[k] = d.int(1, 6);
    if (zh) {
      singers[k] = band ? d.pick(ZH_NOUNS) + d.pick(ZH_BAND_SUFFIXES) : fzh.person.fullName();
    } else {
      singers[k] = band
        ? `The ${cap(d.pick(EN_NOUN))}s`
        : `${fen.person.firstName()} ${fen.person.lastName()}`;
    }
  }
  const titles: string[] = [];
  for (let k = 0; k < n.zhTitles; k++) titles.push(zhTitle(new Draws(seed, k, LANE_ZH_TITLE)));
  const zhEnd = titles.length;
  for (let k = 0; k < n.enTitles; k++) titles.push(enTitle(new Draws(seed, k, LANE_EN_TITLE)));
  const enEnd = titles.length;
  for (let k = 0; k < n.pureTitles; k++) titles.push(pureTitle(new Draws(seed, k, LANE_PURE_TITLE)));
  const albums: string[] = new Array(n.albums);
  for (let k = 0; k < n.albums; k++) albums[k] = albumTitle(new Draws(seed, k, LANE_ALBUM));
  return { singers, singerLang, singerAlbums, titles, zhEnd, enEnd, albums };
}
