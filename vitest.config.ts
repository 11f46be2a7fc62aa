import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["**/*.test.ts"],
    exclude: ["**/node_modules/**", ".ktv/**", "results/**"],
    // Integration tests start real servers on real sockets; 2 shared cores make them slow, not broken.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    // vitest's own default is one file per core but one: 1 on the 2-core CI runner, where the suite then ran one
    // file after another (650 s of CI's 750 s). Most files wait on real sockets and timers rather than compute:
    // two at a time ran the 12 slowest files in 209 s instead of 338 s for the same CPU (load 16, 2 cores).
    // Files are separate processes, bind port 0 and write to their own temp dirs. `--maxWorkers=1` to serialize.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // The JSON report lets .ci/run print "N passed, N failed" from the very same `npm test` run.
    reporters: ["default", "json"],
    outputFile: { json: ".ktv/test-results.json" },
  },
});
