import type { PipelineConfig } from "../../reference/pipeline/config.ts";
import { runPipeline } from "../../reference/pipeline/run.ts";

// Test fixture (conformance.test.ts): a client that logs in with the token it is given and never gets another
// (no token server), and shows no lyrics; `ktv run conformance --client` must fail it on the token and lyrics
// rules, and on nothing else.

export default function noTokenRenewalClient(config: PipelineConfig, signal: AbortSignal) {
  const { renewToken: _renew, lyrics: _lyrics, ...rest } = config;
  return runPipeline(rest, signal);
}
