import { parentPort, workerData } from "node:worker_threads";
import { startSimulator } from "../../simulator/app.ts";
import type { EmbeddedSimOptions, FromSimThread, ToSimThread } from "./embedded-simulator.ts";
import { currentTid } from "./thread-cpu.ts";

// The body of the embedded simulator's thread: start, say where it listens (or why it could not), close
// when asked. Nothing else keeps the thread alive once the simulator is closed, so it then exits by itself.

const port = parentPort!;
const post = (msg: FromSimThread) => port.postMessage(msg);
const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

try {
  const sim = await startSimulator(workerData as EmbeddedSimOptions);
  port.on("message", (msg: ToSimThread) => {
    if (msg.type !== "close") return;
    sim.close().then(
      () => {
        post({ type: "closed" });
        port.unref();
      },
      (err: unknown) => {
        post({ type: "closed", error: message(err) });
        port.unref();
      },
    );
  });
  post({ type: "listening", url: sim.url, socketPath: sim.socketPath, tid: currentTid() });
} catch (err) {
  post({ type: "failed", message: message(err) });
  port.unref();
}
