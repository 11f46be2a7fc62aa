import { createServer, type Server } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { devHeaders } from "../../test/sim.ts";
import { startEmbeddedSimulator } from "./embedded-simulator.ts";

// The embedded simulator in its own thread: reachable over HTTP, a clean close (the thread exits by itself,
// leaving nothing behind), start-up errors that say what went wrong. The smoke test (scenarios/smoke.test.ts)
// covers media relayed through it in a whole run.

const base = { port: 0, host: "127.0.0.1", dataDir: ":memory:", logLevel: "silent", catalogSize: 200 };

describe("embedded simulator thread", () => {
  it("listens, serves the API, and closes with its thread exiting by itself", async () => {
    const crashes: string[] = [];
    const sim = await startEmbeddedSimulator({ ...base, seed: 3, onCrash: (w) => crashes.push(w) });
    expect(sim.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await fetch(`${sim.url}/healthz`);
    expect(health.status).toBe(200);
    // A vendor call through the thread: a session opens.
    const init = await fetch(`${sim.url}/v1/music/init`, {
      method: "POST",
      headers: { ...devHeaders, "content-type": "application/json" },
      body: JSON.stringify({ user_id: "thread-user" }),
    });
    expect(((await init.json()) as { code: number }).code).toBe(0);

    // close() rejects if the thread had to be terminated because a handle kept it alive.
    await sim.close();
    // Closed for real: the port no longer answers, and closing twice is harmless.
    await expect(fetch(`${sim.url}/healthz`)).rejects.toThrow();
    await sim.close();
    expect(crashes).toEqual([]);
  }, 30_000);

  it("reports a thread that dies after start-up instead of going silent", async () => {
    const crashes: string[] = [];
    const sim = await startEmbeddedSimulator({
      ...base,
      entry: new URL("./embedded-simulator-crash.fixture.mjs", import.meta.url),
      onCrash: (w) => crashes.push(w),
    });
    expect(sim.url).toBe("http://127.0.0.1:9");
    for (let i = 0; i < 200 && crashes.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(crashes).toHaveLength(1);
    expect(crashes[0]).toMatch(/embedded simulator crashed: .*relay blew up/);
    await sim.close();
  }, 30_000);

  describe("start-up failures", () => {
    let busy: Server;
    afterAll(() => new Promise<void>((r) => busy.close(() => r())));

    it("rejects with the simulator's own error when its port is taken", async () => {
      busy = createServer();
      const port = await new Promise<number>((resolve) =>
        busy.listen(0, "127.0.0.1", () => resolve((busy.address() as { port: number }).port)),
      );
      await expect(startEmbeddedSimulator({ ...base, seed: 1, port })).rejects.toThrow(
        /embedded simulator did not start: .*EADDRINUSE/,
      );
    }, 30_000);

    it("rejects with a clear message on an invalid option", async () => {
      await expect(startEmbeddedSimulator({ ...base, seed: 1, logLevel: "loudest" })).rejects.toThrow(
        /embedded simulator did not start: .*loudest/,
      );
    }, 30_000);
  });
});
