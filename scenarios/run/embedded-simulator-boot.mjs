// Entry of the embedded simulator's thread (embedded-simulator.ts): registers tsx in this thread, so the
// TypeScript simulator loads the same way under tsx, vitest or the `ktv` bin, then runs the thread's body.
import { register } from "tsx/esm/api";

register();
await import("./embedded-simulator-thread.ts");
