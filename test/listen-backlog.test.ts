import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { LineChild, listeningUrl } from "./child.ts";

// A burst of connections while the simulator's event loop cannot accept (here: the process is stopped) waits in
// the kernel's accept queue, as long as the listen backlog holds it. Node's default backlog (511) queued 512 and
// left the rest retransmitting SYNs; the simulator asks for 4096 (Linux's somaxconn), so a burst of 800 all
// complete their handshake before it accepts a single one. No timing involved: a connection past the queue
// cannot complete while the process is stopped, however long we wait.

const BURST = 800;
// The kernel caps any backlog at somaxconn: on an old kernel (128) no listen option can queue the burst.
const SOMAXCONN = Number(readFileSync("/proc/sys/net/core/somaxconn", "utf8").trim());
const children: LineChild[] = [];
const sockets: Socket[] = [];

afterAll(async () => {
  for (const s of sockets) s.destroy();
  for (const c of children) {
    c.proc.kill("SIGCONT");
    if (c.alive) await c.kill();
  }
});

describe("the simulator's listen backlog", () => {
  it.skipIf(!(SOMAXCONN > BURST))(
    `queues a burst of ${BURST} connections made while it cannot accept`,
    async () => {
      const c = new LineChild([
        "scenarios/cli/ktv.ts",
        "sim",
        "--port",
        "0",
        "--catalog-size",
        "500",
        "--log-level",
        "warn",
      ]);
      children.push(c);
      const port = Number(new URL(await listeningUrl(c)).port);
      c.proc.kill("SIGSTOP");
      let connected = 0;
      for (let i = 0; i < BURST; i++) {
        const s = connect(port, "127.0.0.1");
        s.on("connect", () => connected++);
        s.on("error", () => {});
        sockets.push(s);
      }
      // Until every one connected, or the count stood still for 2 s (the queue is full: the rest never will).
      let last = -1;
      let still = 0;
      while (connected < BURST && still < 8) {
        await new Promise((r) => setTimeout(r, 250));
        still = connected === last ? still + 1 : 0;
        last = connected;
      }
      expect(connected).toBe(BURST);
      c.proc.kill("SIGCONT");
    },
    60_000,
  );
});
