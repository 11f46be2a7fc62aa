// Test fixture (merge.test.ts): a worker thread records the values it is given into a MetricSet and sends the
// drained snapshot back, as the runner's workers do.
import { parentPort, workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
const { MetricSet } = await import("./set.ts");
const set = new MetricSet();
for (const v of workerData.values) set.record("ttfa_ms", v);
set.add("iterations", workerData.values.length);
set.rate("errors", workerData.values.length % 2 === 0);
set.error(1017019, workerData.index + 1);
parentPort.postMessage(set.drain());
