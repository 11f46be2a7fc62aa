// Synthesis throughput per tier, through the CDN's own path (64 KiB chunks, no cache):
//   npx tsx simulator/music/synth-bench.ts [seconds-of-audio]
// Prints MB/s and the multiple of real time on one core for each tier and track layout.
import { cpus } from "node:os";
import type { Quality } from "../../protocol/enums.ts";
import { createCatalog } from "../catalog/index.ts";
import { audioFileFor, CHUNK_BYTES, renderBytes } from "../cdn/audio-file.ts";
import { audioLayout } from "../cdn/format.ts";

const seconds = Number(process.argv[2] ?? 60);
const catalog = createCatalog(1, 2000);
let song = catalog.at(0);
for (let i = 0; i < catalog.size && !(song.has_original === 1 && song.item.duration > seconds * 1000); i++) {
  song = catalog.at(i);
}

console.log(
  `node ${process.version}, ${cpus()[0]?.model ?? "cpu"} (${cpus().length} cores), ${seconds} s of audio`,
);
console.log("tier  tracks  MB/s    x real time");
for (const quality of [0, 1, 2] as Quality[]) {
  for (const tracks of [1, 2] as const) {
    const span = { begin: 0, end: seconds * 1000 };
    const file = audioFileFor(
      { span, layout: audioLayout(quality, span.end, tracks), resource_type: 1, quality },
      song,
    );
    renderBytes(file, 0, CHUNK_BYTES); // warm up JIT and the arrangement
    const t0 = performance.now();
    for (let b = 0; b < file.size; b += CHUNK_BYTES) renderBytes(file, b, b + CHUNK_BYTES);
    const s = (performance.now() - t0) / 1000;
    const name = ["normal", "hq", "sq"][quality]!.padEnd(6);
    console.log(
      `${name}${String(tracks).padEnd(8)}${(file.size / 1e6 / s).toFixed(1).padEnd(8)}${(seconds / s).toFixed(0)}`,
    );
  }
}
