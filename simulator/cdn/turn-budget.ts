import { setImmediate as nextTurn } from "node:timers/promises";

// How much of one event-loop turn the CDN may spend rendering, shared by every download of the thread.
// Each download already sends one piece per turn, but all downloads waiting for a turn run in the same
// check phase: 8 cold downloads rendering a chunk each made a 40-75 ms turn (measured), and the media relay
// waits through all of it. Past the budget, a download waits for the next turn, behind the I/O that queued
// meanwhile; rendering stays the same work, only spread out. Cached pieces cost next to nothing and pass.

/** Rendering per turn before later downloads wait; one chunk may overshoot it (1-3 ms, the first of a song more). */
export const TURN_BUDGET_MS = 4;

let spent = 0;
let resetQueued = false;

function reset(): void {
  spent = 0;
  resetQueued = false;
}

/** Resolves in a turn that still has rendering budget left. */
export async function turnWithBudget(): Promise<void> {
  while (spent >= TURN_BUDGET_MS) await nextTurn();
}

/** Charges `ms` of work to the current turn; the charge ends with the turn. */
export function charge(ms: number): void {
  spent += ms;
  if (!resetQueued) {
    resetQueued = true;
    // Queued now, it runs at the start of the next turn's check phase, before the downloads that wait.
    setImmediate(reset);
  }
}
