import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["**/*.test.ts"],
    exclude: ["**/node_modules/**", ".ktv/**", "results/**"],
    // Integration tests start real servers on real sockets; 2 shared cores make them slow, not broken.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    // The JSON report lets .ci/run print "N passed, N failed" from the very same `npm test` run.
    reporters: ["default", "json"],
    outputFile: { json: ".ktv/test-results.json" },
  },
});
