import type { Rng } from "./prng.ts";

// Lyric vocabulary. One sung note carries one Chinese character or one English word, the way karaoke word
// timing (KRC) splits lines, so a line of N notes needs exactly N units of text.

const ZH_PHRASES: readonly string[] = (
  "月光 思念 心里 我们 回忆 温柔 风吹过 那一年 你的笑 夜空 星星 远方 梦里 雨下着 " +
  "街角 等待 时光 再见 不放手 青春 海边 微笑 眼泪 勇敢 明天 花开 城市 灯火 " +
  "拥抱 故事 永远 天空 孤单 自由 心跳 相遇 告别 想你 春天 晚风 忘记 陪伴 " +
  "约定 爱 你 我 在 的 是 走 唱 听 飞 光 梦 心 风 雨"
).split(" ");

const EN_WORDS: readonly string[] = (
  "love night heart dream light fire rain home stay run fly sky star hold me you we on " +
  "through the dark again tonight forever away time feel world shine baby oh gold wild free " +
  "sun sea blue call my name dance slow burn high down here now alone together know"
).split(" ");

export type Language = "zh" | "en";

/** Chinese when the title has CJK characters, English otherwise (titles and lyrics share a language). */
export function languageOf(title: string): Language {
  return /[\u3400-\u9fff]/.test(title) ? "zh" : "en";
}

/** Exactly `count` sung units for one line: characters for Chinese, words for English. */
export function lyricUnits(r: Rng, language: Language, count: number): string[] {
  const out: string[] = [];
  if (language === "en") {
    while (out.length < count) out.push(r.pick(EN_WORDS));
    return out;
  }
  while (out.length < count) {
    // Whole phrases only, so a line reads as words rather than a cut-up phrase.
    const left = count - out.length;
    const fits = ZH_PHRASES.filter((p) => p.length <= left);
    out.push(...r.pick(fits));
  }
  return out;
}

/** How a line reads: characters run together in Chinese, words are spaced in English. */
export function joinUnits(language: Language, units: readonly string[]): string {
  return units.join(language === "zh" ? "" : " ");
}

/** What karaoke apps show for songs without words. */
export const INSTRUMENTAL_LINE = "纯音乐，请欣赏";
