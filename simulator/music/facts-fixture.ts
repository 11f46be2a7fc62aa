import type { SongFacts } from "../catalog/types.ts";

/** A hand-made song for unit tests that must not depend on the catalog generator. */
export function fakeFacts(over: Partial<SongFacts> & { duration?: number; name?: string } = {}): SongFacts {
  const duration = over.duration ?? 200_000;
  const { duration: _d, name, ...rest } = over;
  return {
    item: {
      song_id: "S100",
      song_name: name ?? "月光下的约定",
      singer_id: "A1",
      singer_name: "测试歌手",
      singer_img: "",
      album_id: "B1",
      album_name: "测试专辑",
      album_img: "",
      album_img_mini: "",
      album_img_small: "",
      album_img_medium: "",
      duration,
      accompany_duration: duration,
      vendor_id: 0,
      has_clip: 1,
      copyright: { song_lyric: 1, recording: 1, channel: 0 },
    },
    index: 0,
    key: 0x1234abcd,
    has_accompaniment: true,
    has_original: 1,
    has_krc: true,
    has_pitch: true,
    pure_music: false,
    bpm: 96,
    bpm_type: "2",
    genres: [20],
    clip: { segment_begin: 60_000, segment_end: 100_000, prelude_duration: 4_000 },
    segment: { begin: 4_000, end: 24_000, other_segments: [] },
    intro_end: 12_000,
    chorus: [
      { start: 64_000, end: 96_000, tags: ["1"] },
      { start: 140_000, end: 172_000, tags: ["2"] },
    ],
    ...rest,
  };
}
