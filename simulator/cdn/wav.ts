import { wavHeader as pcmWavHeader } from "../../protocol/wav.ts";
import type { AudioLayout } from "./format.ts";

export { parseWavHeader, type WavInfo } from "../../protocol/wav.ts";

/** The header of a resource's file: the layout's size is fixed at 44 + data. */
export function wavHeader(layout: AudioLayout): Buffer {
  return pcmWavHeader(layout, layout.dataBytes);
}
