import { dirname, resolve } from "node:path";
import { bundleScript, compileScript } from "../k6-runner/bundle.ts";
import { Registry } from "../k6-runner/metrics.ts";
import { createVu } from "../k6-runner/vu.ts";
import { ChecksBook, type TestControl } from "../k6-runner/vu-state.ts";

// A k6 script's `options.thresholds`, read by evaluating its init context once as `ktv k6` does (VU 0), for
// `ktv merge --script`: k6's JSON output records a metric's own thresholds but never a submetric's
// (`"http_req_duration{name:requestResource}": [...]`), so the script is where the whole set is.

const idle: TestControl = {
  abort(reason: string): never {
    throw new Error(`the script aborted in its init context: ${reason}`);
  },
  callbackError() {},
  options: {},
  startTime: 0,
  instance: { vusActive: () => 0, vusInitialized: () => 0, completed: () => 0, interrupted: () => 0 },
};

export async function scriptThresholds(
  script: string,
  env: Record<string, string>,
): Promise<Record<string, unknown>> {
  const path = resolve(script);
  const factory = compileScript(await bundleScript(path), path);
  const vu = createVu(0, {
    factory,
    env,
    registry: new Registry(),
    checks: new ChecksBook(),
    test: idle,
    scriptDir: dirname(path),
  });
  try {
    const options = (vu.exports.options ?? {}) as { thresholds?: unknown };
    const t = options.thresholds ?? {};
    if (typeof t !== "object" || t === null || Array.isArray(t))
      throw new Error(`${script}: options.thresholds is not an object`);
    return t as Record<string, unknown>;
  } finally {
    vu.close();
  }
}
