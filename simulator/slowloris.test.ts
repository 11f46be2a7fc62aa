import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MEDIA_PATH } from "../protocol/media.ts";
import { call, metricSum, session, testSimulator } from "../test/sim.ts";
import type { Simulator } from "./app.ts";
import { resolveHttpTimeouts } from "./http-timeouts.ts";
import { loginClient } from "./media/test-client.ts";

// Slow clients on purpose against the real server (http-timeouts.ts, media closeGraceMs): headers a byte at a
// time, bodies that never end, silent connections, WebSocket upgrades that stall before or after the
// handshake, a download whose reader stopped. Each is cut within its (short, configured) bound while a normal
// client is served. Bounds asserted are generous multiples of the configured ones: they test that a timeout
// exists, never how fast the machine is (without the protection these sockets stay for 30-90 s).

const HEADERS_MS = 300;
const REQUEST_MS = 600;
const STALLED_MS = 500;
const CHECK_MS = 100;
/** Generous: a loaded 2-core machine may be seconds late, the unprotected server is 30 s+ late. */
const CUT_WITHIN_MS = 12_000;

let sim: Simulator;
let port: number;
const sockets: Socket[] = [];

beforeAll(async () => {
  sim = await testSimulator({
    http: {
      headersTimeoutMs: HEADERS_MS,
      requestTimeoutMs: REQUEST_MS,
      stalledReaderMs: STALLED_MS,
      checkIntervalMs: CHECK_MS,
    },
    media: { loginTimeoutMs: 400, sweepIntervalMs: 50, closeGraceMs: 200 },
  });
  port = Number(new URL(sim.url).port);
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await sim.close();
});

interface Slow {
  socket: Socket;
  /** What the server sent, as text. */
  received: () => string;
  closed: Promise<number>;
}

/** A raw TCP connection to the simulator; `closed` resolves with ms from open to the server's close. */
function open(onConnect: (s: Socket) => void): Slow {
  const socket = connect(port, "127.0.0.1");
  sockets.push(socket);
  const t0 = performance.now();
  let text = "";
  socket.on("data", (d) => {
    text += d.toString("latin1");
  });
  socket.on("error", () => {});
  socket.on("connect", () => onConnect(socket));
  const closed = new Promise<number>((resolve) => socket.on("close", () => resolve(performance.now() - t0)));
  return { socket, received: () => text, closed };
}

/** Writes `text` one byte per `everyMs` until the socket closes. */
function dribble(s: Socket, text: string, everyMs = 40): void {
  let i = 0;
  const t = setInterval(() => {
    if (s.destroyed || i >= text.length) return clearInterval(t);
    s.write(text[i++]!);
  }, everyMs);
}

const serverConnections = () =>
  new Promise<number>((resolve, reject) =>
    sim.app.server.getConnections((err, n) => (err ? reject(err) : resolve(n))),
  );

async function until(what: string, ok: () => Promise<boolean>, ms = CUT_WITHIN_MS): Promise<void> {
  const deadline = performance.now() + ms;
  while (!(await ok())) {
    if (performance.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `p`, or a failure naming `what` once `ms` have passed (the bound on a normal client's answer). */
function within<T>(what: string, p: Promise<T>, ms = CUT_WITHIN_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

async function activeDownloads(): Promise<number> {
  return (await sim.ctx.metrics.activeDownloads.get()).values[0]?.value ?? 0;
}

async function someResource(headers: Record<string, string>): Promise<string> {
  for (let i = 0; i < sim.ctx.catalog.size; i++) {
    const f = sim.ctx.catalog.at(i);
    if (f.item.vendor_id !== 0 || f.item.copyright.song_lyric !== 1 || !f.has_accompaniment) continue;
    const r = await call(sim.url, "POST", "/v1/music/resource", {
      headers,
      body: { song_id: f.item.song_id, resource_type: 1, billing_mode: 0, vendor_id: 0 },
    });
    if (r.body.code === 0) return r.body.data.resources[0].resource_id;
  }
  throw new Error("no accompaniment in the test catalog");
}

describe("slowloris on the CDN and the API", () => {
  it("cuts dribbled headers, endless bodies and silent sockets with 408 while a normal client downloads", async () => {
    const alice = await session(sim.url, "alice");
    const id = await someResource(alice);
    const get = `GET /v1/music/download/${id} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-App-Id: ${alice["x-app-id"]}\r\n`;
    const body = '{"user_id":"slow"}';
    const slow = [
      ...Array.from({ length: 20 }, () => open((s) => dribble(s, `${get}${"X-Pad: y\r\n".repeat(50)}\r\n`))),
      ...Array.from({ length: 10 }, () =>
        open((s) => {
          s.write(
            `POST /v1/music/init HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${body.length + 100}\r\n\r\n`,
          );
          dribble(s, body + " ".repeat(100));
        }),
      ),
      ...Array.from({ length: 10 }, () => open(() => {})),
    ];

    // A normal client meanwhile: a whole download and an API call, answered right.
    const res = await fetch(`${sim.url}/v1/music/download/${id}`, { headers: alice });
    expect(res.status).toBe(200);
    const bytes = (await res.arrayBuffer()).byteLength;
    expect(bytes).toBe(Number(res.headers.get("content-length")));
    expect((await call(sim.url, "GET", "/healthz")).status).toBe(200);

    const times = await Promise.race([
      Promise.all(slow.map((s) => s.closed)),
      new Promise<never>((_, reject) =>
        setTimeout(
          () => reject(new Error(`slow sockets still open after ${CUT_WITHIN_MS} ms`)),
          CUT_WITHIN_MS,
        ),
      ),
    ]);
    expect(times).toHaveLength(40);
    // Each was told why, in the envelope, before the close.
    for (const s of slow) {
      expect(s.received()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
      expect(s.received()).toMatch(/Connection: close/);
      expect(s.received()).toMatch(/"code":1017040/);
    }
    expect(await metricSum(sim.url, /^ktv_http_slow_bodies_cut /)).toBe(10);
  });

  it("cuts a download whose client stopped reading, and frees what it held", async () => {
    const bob = await session(sim.url, "bob");
    const id = await someResource(bob);
    const head = `GET /v1/music/download/${id} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-App-Id: ${bob["x-app-id"]}\r\nX-App-Sign: ${bob["x-app-sign"]}\r\nX-Session: ${bob["x-session"]}\r\n\r\n`;
    // Five pipelined downloads on one connection (more than the kernel's loopback buffers take), never read.
    const stalled = open((s) => {
      s.pause();
      s.write(head.repeat(5));
    });
    await until("the download started", async () => (await activeDownloads()) > 0);
    // A normal download meanwhile completes.
    const res = await within(
      "a normal download",
      fetch(`${sim.url}/v1/music/download/${id}`, { headers: bob }),
    );
    expect((await within("its body", res.arrayBuffer())).byteLength).toBe(
      Number(res.headers.get("content-length")),
    );
    await until("the stalled download is cut", async () => (await activeDownloads()) === 0);
    expect(await metricSum(sim.url, /^ktv_http_stalled_readers_cut /)).toBeGreaterThanOrEqual(1);
    expect(stalled.socket.readableLength + stalled.received().length).toBeGreaterThan(0);
  });
});

describe("slowloris on the media socket", () => {
  it("cuts stalled upgrade requests and upgraded sockets that never log in nor read; a normal client plays on", async () => {
    const before = await serverConnections();
    const upgrade =
      `GET ${MEDIA_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    // Half the upgrade request, a byte at a time; and whole handshakes after which the client goes silent and
    // stops reading (the 101 arrives, then nothing is read again).
    const dribbling = Array.from({ length: 10 }, () => open((s) => dribble(s, upgrade.slice(0, -2), 60)));
    const silent = Array.from({ length: 10 }, () =>
      open((s) => {
        s.write(upgrade);
        s.once("data", () => s.pause());
      }),
    );
    await until("the upgrades were answered", async () =>
      silent.every((s) => s.received().startsWith("HTTP/1.1 101")),
    );

    const alice = await within("a normal media login", loginClient(sim.url, "slow-room", "alice"));
    const bob = await within("another", loginClient(sim.url, "slow-room", "bob"));
    expect(await alice.request({ type: "publish", stream_id: "alice_main" })).toMatchObject({
      type: "publish_ok",
    });
    expect(await bob.request({ type: "play", stream_id: "alice_main" })).toMatchObject({ type: "play_ok" });

    await Promise.all(dribbling.map((s) => s.closed));
    for (const s of dribbling) expect(s.received()).toMatch(/^HTTP\/1\.1 408 /);
    // The silent ones never read their close: the server cuts them itself. Only the two real clients remain.
    await until("silent media sockets cut", async () => (await serverConnections()) <= before + 2);
    expect(await bob.request({ type: "get_stream_stats", stream_id: "alice_main" })).toMatchObject({
      type: "stream_stats",
      stream_id: "alice_main",
    });
    await Promise.all([alice.close(), bob.close()]);
  });
});

describe("resolveHttpTimeouts", () => {
  it("refuses what node would refuse or ignore, naming the knob", () => {
    expect(() => resolveHttpTimeouts({ headersTimeoutMs: 0 })).toThrow(/headersTimeoutMs must be a positive/);
    expect(() => resolveHttpTimeouts({ headersTimeoutMs: 5000, requestTimeoutMs: 4000 })).toThrow(
      /must not exceed requestTimeoutMs/,
    );
    expect(() => resolveHttpTimeouts({ idle: 1 } as never)).toThrow(/unknown http timeout idle/);
  });
});
