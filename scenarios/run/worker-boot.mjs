// Entry of the runner's worker threads: registers tsx in this thread so the TypeScript worker loads the same way
// whether the runner itself runs under tsx, vitest or the `ktv` bin.
import { register } from "tsx/esm/api";

register();
await import("./worker.ts");
