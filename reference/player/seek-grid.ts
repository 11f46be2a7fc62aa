import { FRAME_MS } from "../mixer/frame.ts";

// Where a seek restarts the resampler. A resampler started at a position has silence as its history, so its
// output depends on where it started: the shared audio (../audio) keys each stream by its start frame, and a
// seek to an arbitrary ms would open a stream (a resampler, a filter design, chunks of rendering) per VU and
// per position, shared by nobody. Instead both playbacks restart on a grid point at or before the target and
// skip whole 10 ms frames up to it: the per-VU path reads and drops them (at most SEEK_GRID_MS of resampling,
// in the control call), the shared path moves its cursor into the grid point's stream, which every seek into
// that second of the song shares. The samples of the two paths stay identical, and a seek to a whole second
// (what the pipeline's player actions do) skips nothing.
//
// The grid point keeps the target's offset below 10 ms (1234 ms restarts at 1004 and skips 23 frames), so the
// skip is always whole frames and the shared cursor stays on the frame-aligned copy path.

export const SEEK_GRID_MS = 100;

/** The restart point of a seek to `ms` (an integer): at or before it, same ms modulo 10. */
export function seekRestartMs(ms: number): number {
  return ms - Math.floor((ms % SEEK_GRID_MS) / FRAME_MS) * FRAME_MS;
}
