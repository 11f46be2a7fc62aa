// What a benchmark case is to the runner (run.ts): ours and a reference measured by the same means, one value
// per call, in one unit. The runner interleaves the calls over rounds and judges the medians; a case only
// measures. Cases live in bench/cases/ and are listed in bench/cases/index.ts.

export type Extra = Record<string, string | number | boolean>;

/**
 * What ours() or reference() throws when this one round gave no figure though the race itself is sound (e.g. the
 * relay met its lag bar at no step under a passing load spike). The runner records it (the case's
 * `round_failures`) and goes on with the next round; the case's medians are over the rounds that gave a figure.
 * Any other error ends the case as an error: a broken race must not be measured again.
 */
export class RoundFailure extends Error {
  override name = "RoundFailure";
}

export interface RaceOptions {
  /** `--quick`: the same race with less work per call (shorter inputs, fewer seconds of load). */
  quick: boolean;
  /** Rounds the runner will run; a case may size its per-call work from it. */
  rounds: number;
}

/**
 * One prepared race: servers started, inputs written. Each call returns one measurement in the case's unit, or
 * throws RoundFailure when this round gave none.
 */
export interface Race {
  ours(): Promise<number> | number;
  reference(): Promise<number> | number;
  /** After the rounds: a check that failed (e.g. outputs not bit-identical) and facts worth keeping. */
  finish?(): Promise<{ failure?: string; extra?: Extra }> | { failure?: string; extra?: Extra };
  /** Always called, also after a failure: stop servers, remove files. */
  close?(): Promise<void> | void;
}

export interface BenchCase {
  /** Unique, kebab-case: what `--only` takes. */
  name: string;
  /** What is raced against what, one line. */
  description: string;
  referenceName: string;
  unit: string;
  /** True for a rate (req/s, MB/s), false for a cost (µs, ms): orients the ratio so that higher is better. */
  higherIsBetter: boolean;
  /** The bar: on the ratio (pass when ratio >= target), or on ours itself in `unit`. */
  target: number;
  targetOf: "ratio" | "ours";
  /** Binaries the reference needs on PATH (ffmpeg, nginx, wrk); missing ones skip the case. */
  peers?: string[];
  /** Binaries that make the race better when present but are not required (e.g. wrk over the JS load). */
  optionalPeers?: string[];
  /**
   * What `--quick` changes in this case's figure when it is more than fewer rounds (e.g. fewer VUs): printed
   * with the case and kept in the result's `extra.quick`, so a quick figure is read as indicative.
   */
  quickNote?: string;
  /** Rounds in each mode (default 3 quick, 5 full). */
  rounds?: { quick: number; full: number };
  setup(opts: RaceOptions): Promise<Race>;
  /**
   * Starts the servers this case shares with others (runner/shared.ts) so that the runner can start every
   * case's at once before the first measurement; setup() must still ask for them itself.
   */
  prestart?(opts: Pick<RaceOptions, "quick">): Promise<unknown>;
}
