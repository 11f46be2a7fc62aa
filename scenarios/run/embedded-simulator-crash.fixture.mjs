// A stand-in for the simulator's thread body (embedded-simulator.test.ts): it says it listens, then dies the
// way a simulator bug would, with an uncaught error.
import { parentPort } from "node:worker_threads";

parentPort.postMessage({ type: "listening", url: "http://127.0.0.1:9" });
setTimeout(() => {
  throw new Error("relay blew up");
}, 20);
