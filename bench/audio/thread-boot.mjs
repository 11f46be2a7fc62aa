// Entry of process-audio.ts's worker threads: registers tsx in this thread, then runs the bench's worker body.
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(workerData.module);
