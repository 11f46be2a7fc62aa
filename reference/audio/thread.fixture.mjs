// Entry of the worker threads of cross-thread.test.ts: registers tsx in this thread, then runs the TypeScript
// body named in workerData.
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(workerData.module);
