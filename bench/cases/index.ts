// The registry of `npm run bench`: every case, in the order they run (cheap in-process ones first).

import type { BenchCase } from "../runner/case.ts";
import { k6VuFootprint, musicVuFootprint } from "./footprint.ts";
import { cdnVsNginx, simSearchSong, simTopSong } from "./http.ts";
import { mediaRelay } from "./media-relay.ts";
import { mixerVsFfmpeg } from "./mixer-ffmpeg.ts";
import { kernelVsMemcpy, publishCpuPerFrame } from "./publish.ts";

export const CASES: readonly BenchCase[] = [
  kernelVsMemcpy,
  publishCpuPerFrame,
  mixerVsFfmpeg,
  simTopSong,
  simSearchSong,
  cdnVsNginx,
  mediaRelay,
  // Minutes each (10,000 VUs, two children per round): last.
  k6VuFootprint,
  musicVuFootprint,
];
