import { spawnSync } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeFrameHeader } from "../protocol/media.ts";
import { rawRequest, testSimulator } from "../test/sim.ts";
import type { Simulator } from "./app.ts";
import { loginClient, pcmFrame } from "./media/test-client.ts";

// The simulator's second listener on a Unix domain socket: the same routes and media WebSocket as its TCP
// port (a frame published over TCP reaches a player on the socket and back), admin stays loopback-TCP only,
// and the socket file is made, replaced when stale, never clobbers another file, and is removed on close.

let dir: string;
let sim: Simulator;

const get = (socketPath: string, path: string) => rawRequest({ socketPath, path, method: "GET" });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "ktv-sock-test-"));
  sim = await testSimulator({ socketPath: join(dir, "sim.sock") });
});
afterAll(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("the simulator's Unix domain socket", () => {
  it("serves the HTTP routes it serves on TCP", async () => {
    expect(sim.socketPath).toBe(join(dir, "sim.sock"));
    const r = await get(sim.socketPath!, "/healthz");
    expect(r.status).toBe(200);
  });

  it("refuses the admin API: a Unix peer is not a loopback address", async () => {
    const r = await get(sim.socketPath!, "/admin/media/streams");
    expect(r.status).toBe(403);
    expect(r.body).toContain("1017040");
  });

  it("relays media between a publisher on TCP and a player on the socket, both ways", async () => {
    const viaSocket = { socketPath: sim.socketPath! };
    const pubTcp = await loginClient(sim.url, "uds", "singer-tcp");
    const playerUds = await loginClient(sim.url, "uds", "fan-uds", {}, viaSocket);
    const pubUds = await loginClient(sim.url, "uds", "singer-uds", {}, viaSocket);
    const playerTcp = await loginClient(sim.url, "uds", "fan-tcp");
    try {
      for (const [pub, player, id] of [
        [pubTcp, playerUds, "st-tcp"],
        [pubUds, playerTcp, "st-uds"],
      ] as const) {
        expect((await pub.request({ type: "publish", stream_id: id })).type).toBe("publish_ok");
        expect((await player.request({ type: "play", stream_id: id })).type).toBe("play_ok");
        const sent = [0, 1, 2].map((s) => pcmFrame(id, s));
        for (const f of sent) pub.sendFrame(f);
        for (const f of sent) {
          const got = await player.nextFrame();
          expect(got.equals(f)).toBe(true);
          expect(decodeFrameHeader(got).seq).toBe(decodeFrameHeader(f).seq);
        }
      }
    } finally {
      await Promise.all([pubTcp, playerUds, pubUds, playerTcp].map((c) => c.close()));
    }
  });
});

describe("the socket file", () => {
  // Connects made while the listener's thread is busy (here: all in one synchronous loop, so nothing is
  // accepted until it ends) wait in the kernel's queue; past it a Unix socket's connect fails at once with
  // EAGAIN, which a client reports as 1002030. Node's default queue is 511; the kernel caps it at somaxconn.
  const somaxconn = Number(readFileSync("/proc/sys/net/core/somaxconn", "utf8"));
  it.skipIf(!(somaxconn >= 1024))(
    "queues a burst of 800 connects made while it is busy: none refused",
    async () => {
      const socks = Array.from({ length: 800 }, () => connect(sim.socketPath!));
      const outcomes = await Promise.all(
        socks.map(
          (s) =>
            new Promise<string>((resolve) => {
              s.once("connect", () => resolve("connected"));
              s.once("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
            }),
        ),
      );
      for (const s of socks) s.destroy();
      const counts: Record<string, number> = {};
      for (const o of outcomes) counts[o] = (counts[o] ?? 0) + 1;
      expect(counts).toEqual({ connected: 800 });
    },
  );

  it("replaces a stale socket, never a live one or another file, and is gone after close", async () => {
    const path = join(dir, "own.sock");
    // A live listener on the path: refused, and it keeps its socket.
    const live = createServer().listen(path);
    await once(live, "listening");
    await expect(testSimulator({ socketPath: path })).rejects.toThrow(/another process listens there/);
    // A stale socket file (its process is gone without removing it): replaced.
    live.close();
    await once(live, "close");
    const stale = spawnSync(process.execPath, [
      "-e",
      `require("net").createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, "SIGKILL"))`,
    ]);
    expect(stale.signal).toBe("SIGKILL");
    expect(existsSync(path)).toBe(true);

    const plain = join(dir, "notes.txt");
    writeFileSync(plain, "keep me");
    await expect(testSimulator({ socketPath: plain })).rejects.toThrow(/exists and is not a socket/);
    expect(readFileSync(plain, "utf8")).toBe("keep me");

    const again = await testSimulator({ socketPath: path });
    expect((await get(path, "/healthz")).status).toBe(200);
    await again.close();
    expect(existsSync(path)).toBe(false);
  });
});
