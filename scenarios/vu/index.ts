import type { VuKind } from "../format.ts";
import { createBackendVu } from "./backend.ts";
import { createConformanceVu } from "./conformance.ts";
import { createMusicVu } from "./music.ts";
import { createPipelineVu } from "./pipeline.ts";
import type { VuFactory } from "./types.ts";

// The VU kinds a scenario may name in ktv.vu.

export const VU_KINDS: Record<VuKind, VuFactory> = {
  pipeline: createPipelineVu,
  music: createMusicVu,
  conformance: createConformanceVu,
  backend: createBackendVu,
};
