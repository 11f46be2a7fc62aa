import type { PipelineConfig } from "../../reference/pipeline/config.ts";
import { runPipeline } from "../../reference/pipeline/run.ts";

// Test fixture (conformance.test.ts): a client that never retries anything, as a partner's naive client might;
// `ktv run conformance --client` must fail it on the rules that need retries.

export default function noRetryClient(config: PipelineConfig, signal: AbortSignal) {
  return runPipeline({ ...config, retry: { maxAttempts: 1 } }, signal);
}
