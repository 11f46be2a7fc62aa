import type { PipelineConfig } from "../../reference/pipeline/config.ts";
import type { PipelineResult } from "../../reference/pipeline/result.ts";
import { pipelineResult } from "../../reference/pipeline/test-fixtures.ts";

// Test fixture (generator.test.ts): a client under test that costs its worker nothing: each call waits 200 ms
// (or until aborted) and reports an iteration that did nothing. A run of it leaves the generator unloaded.

export default function idleClient(config: PipelineConfig, signal: AbortSignal): Promise<PipelineResult> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      resolve(pipelineResult({ user_id: config.userID, room_id: config.roomID, aborted: signal.aborted }));
    };
    const timer = setTimeout(done, 200);
    signal.addEventListener("abort", done, { once: true });
  });
}
