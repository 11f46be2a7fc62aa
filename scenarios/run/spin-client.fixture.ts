import type { PipelineConfig } from "../../reference/pipeline/config.ts";
import type { PipelineResult } from "../../reference/pipeline/result.ts";
import { pipelineResult } from "../../reference/pipeline/test-fixtures.ts";

// Test fixture (generator.test.ts): a client under test that starves its worker thread. Each call keeps the
// event loop busy in 20 ms slices of pure computation until it is aborted (end of the run), yielding between
// slices so the thread's timers (its health sampler) still run, late, as they would behind real work.

const SLICE_MS = 20;

export default async function spinClient(
  config: PipelineConfig,
  signal: AbortSignal,
): Promise<PipelineResult> {
  let x = 0;
  while (!signal.aborted) {
    const until = performance.now() + SLICE_MS;
    while (performance.now() < until) x = (x * 1103515245 + 12345) % 2147483648;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return pipelineResult({
    ok: false,
    aborted: true,
    user_id: config.userID,
    room_id: config.roomID,
    elapsed_ms: x >= 0 ? 0 : 1,
  });
}
