// A measurement, run by hand: what one media packet costs a Node thread just to cross a socket, the floor under
// rooms-250's CPU (issue 10). Every packet of the 1,000-VU case crosses sockets four times: the singer's send,
// the relay's read, one relay write per listener, each listener's read; at 250 rooms of 1 singer + 3 listeners
// and 50 packets/s that is 12,500 sends, 12,500 relay reads, 37,500 relay writes and 37,500 listener reads per
// second. This prices a read and a write per packet, with `ws` (what the reference client and the simulator
// use) and with a bare net.Socket walking the same WebSocket framing (the least a Node thread can do), over
// loopback TCP and a Unix domain socket (rooms-250's media transport).
//
//   node --import tsx bench/harness/socket-floor.ts [--clients 100] [--seconds 8] [--rounds 2]
//
// A child process is the far end (it paces: one 350-byte packet per client every 20 ms, Opus at the Karaoke
// profile's size); this process's CPU (process.cpuUsage: user + system) per packet is the figure, median of the
// rounds, with the load average. Reads: the child sends, this process reads. Writes: this process sends (masked,
// as a client must), the child reads.
//
// Kinds: `ws` (ws's own send and receive), `framed` (a ws connection whose packets are written as the reference
// client's media socket writes them: one pre-framed buffer per packet, zero masking key,
// reference/engine/client-frame-writer.ts; and reads them as MediaSocket.open's `readPackets` option does:
// packets taken off the socket before ws's Receiver, server-frame-reader.ts), `raw` (a bare net.Socket). `--transports unix` and
// `--kinds ws,framed` narrow the matrix.

import { fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import net from "node:net";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { WebSocket, WebSocketServer } from "ws";
import { ClientFrameWriter } from "../../reference/engine/client-frame-writer.ts";
import { readPacketsBeforeWs } from "../../reference/engine/server-frame-reader.ts";

const PACKET = 350;
const PERIOD_MS = 20;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

// ---- the far end (child) ----------------------------------------------------------------------------------

/** The WebSocket frame of one packet from a server (unmasked): FIN + binary, 16-bit length. */
function serverFrame(payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0x82, 126, payload.length >> 8, payload.length & 255]), payload]);
}

async function farEnd(dir: string): Promise<void> {
  const payload = Buffer.alloc(PACKET, 7);
  const framed = serverFrame(payload);
  const sending = { ws: new Set<WebSocket>(), raw: new Set<net.Socket>() };
  let pace = false;
  const listen = (server: net.Server, at: number | string) =>
    new Promise<string | number>((resolve) => {
      server.listen(at, () => {
        const a = server.address();
        resolve(typeof a === "string" ? a : a!.port);
      });
    });
  const endpoints: Record<string, string | number> = {};
  for (const transport of ["tcp", "unix"] as const) {
    const at = (k: string) => (transport === "tcp" ? 0 : join(dir, `${k}.sock`));
    const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
    const httpServer = createServer();
    httpServer.on("upgrade", (req, socket, head) =>
      wss.handleUpgrade(req, socket, head, (ws) => {
        ws.on("message", () => {});
        if (pace) sending.ws.add(ws);
        ws.on("close", () => sending.ws.delete(ws));
      }),
    );
    endpoints[`ws-${transport}`] = await listen(httpServer, at("ws"));
    const raw = net.createServer((s) => {
      s.on("data", () => {});
      s.on("error", () => {});
      if (pace) sending.raw.add(s);
      s.on("close", () => sending.raw.delete(s));
    });
    endpoints[`raw-${transport}`] = await listen(raw, at("raw"));
  }
  process.on("message", (m: { pace?: boolean; cpu?: boolean }) => {
    if (m.cpu) {
      // The far end's own CPU, µs: a write's cost to the reading side (a server unmasking, ws framing).
      const u = process.cpuUsage();
      process.send!({ cpuUs: u.user + u.system });
      return;
    }
    pace = m.pace === true;
    if (!pace) {
      sending.ws.clear();
      sending.raw.clear();
    }
  });
  setInterval(() => {
    for (const c of sending.ws) c.send(payload, { binary: true });
    for (const s of sending.raw) s.write(framed);
  }, PERIOD_MS);
  process.send!(endpoints);
}

// ---- this process: the measured side ----------------------------------------------------------------------

type Kind = "ws" | "framed" | "raw";
const KINDS: readonly Kind[] = ["ws", "framed", "raw"];

async function connect(kind: Kind, at: string | number, onPacket: () => void) {
  if (kind === "ws" || kind === "framed") {
    const url = typeof at === "number" ? `ws://127.0.0.1:${at}` : `ws+unix://${at}`;
    const ws = new WebSocket(url, { perMessageDeflate: false });
    let socket: net.Socket | null = null;
    ws.once("upgrade", (res) => {
      socket = res.socket as net.Socket;
    });
    ws.on("message", (d: Buffer, binary) => {
      if (binary && d.length === PACKET) onPacket();
    });
    await new Promise<void>((r) =>
      ws.once("open", () => {
        // As the media socket does, inside 'open': relayed packets read before ws's Receiver.
        if (kind === "framed") {
          readPacketsBeforeWs(
            socket!,
            (d) => {
              if (d.length === PACKET) onPacket();
            },
            1 << 20,
          );
        }
        r();
      }),
    );
    if (kind === "framed") {
      const writer = new ClientFrameWriter(socket!);
      return { send: (p: Buffer) => void writer.write(p), close: () => ws.terminate() };
    }
    return { send: (p: Buffer) => ws.send(p, { binary: true }), close: () => ws.terminate() };
  }
  const s = typeof at === "number" ? net.connect(at, "127.0.0.1") : net.connect(at);
  s.setNoDelay(true);
  let pending = 0;
  s.on("data", (chunk: Buffer) => {
    // The WebSocket framing walked by hand (server frames: 4-byte header, unmasked payload).
    let off = 0;
    while (off < chunk.length) {
      if (pending > 0) {
        const take = Math.min(pending, chunk.length - off);
        pending -= take;
        off += take;
        if (pending === 0) onPacket();
        continue;
      }
      const len = (chunk[off + 2]! << 8) | chunk[off + 3]!;
      const avail = chunk.length - off - 4;
      if (avail >= len) {
        onPacket();
        off += 4 + len;
      } else {
        pending = len - avail;
        off = chunk.length;
      }
    }
  });
  await new Promise((r) => s.once("connect", r));
  // A client frame: masked with a fresh key, as `ws` does (here the key is 0: the cost of the write alone).
  const header = Buffer.from([0x82, 0x80 | 126, PACKET >> 8, PACKET & 255, 0, 0, 0, 0]);
  return {
    send: (p: Buffer) => {
      s.cork();
      s.write(header);
      s.write(p);
      s.uncork();
    },
    close: () => s.destroy(),
  };
}

async function measure(
  child: ReturnType<typeof fork>,
  kind: Kind,
  at: string | number,
  direction: "read" | "write",
  clients: number,
  seconds: number,
): Promise<{ us: number; farUs: number }> {
  let packets = 0;
  const conns: { send: (p: Buffer) => void; close: () => void }[] = [];
  for (let i = 0; i < clients; i++) conns.push(await connect(kind, at, () => packets++));
  const payload = Buffer.alloc(PACKET, 9);
  let timer: NodeJS.Timeout | null = null;
  if (direction === "read") child.send({ pace: true });
  else {
    // Reconnected after `pace` went off, so the far end does not send: this side writes, paced.
    timer = setInterval(() => {
      for (const c of conns) c.send(payload);
      packets += conns.length;
    }, PERIOD_MS);
  }
  // The readers connected before `pace` was set get nothing: reconnect them now.
  if (direction === "read") {
    for (const c of conns) c.close();
    conns.length = 0;
    for (let i = 0; i < clients; i++) conns.push(await connect(kind, at, () => packets++));
  }
  await new Promise((r) => setTimeout(r, 1000));
  const p0 = packets;
  const farCpu = () =>
    new Promise<number>((r) => {
      const on = (m: { cpuUs?: number }) => {
        if (m.cpuUs === undefined) return;
        child.off("message", on);
        r(m.cpuUs);
      };
      child.on("message", on);
      child.send({ cpu: true });
    });
  const f0 = await farCpu();
  const c0 = process.cpuUsage();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const d = process.cpuUsage(c0);
  const f1 = await farCpu();
  const n = packets - p0;
  if (timer) clearInterval(timer);
  child.send({ pace: false });
  for (const c of conns) c.close();
  await new Promise((r) => setTimeout(r, 300));
  return { us: (d.user + d.system) / Math.max(1, n), farUs: (f1 - f0) / Math.max(1, n) };
}

async function main(): Promise<void> {
  const clients = arg("--clients", 100);
  const seconds = arg("--seconds", 8);
  const rounds = arg("--rounds", 2);
  const listArg = (name: string) => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1]!.split(",") : null;
  };
  const transports = listArg("--transports") ?? ["unix", "tcp"];
  const kinds = (listArg("--kinds") ?? KINDS) as Kind[];
  for (const k of kinds)
    if (!KINDS.includes(k)) throw new Error(`--kinds: ${k} is not one of ${KINDS.join(",")}`);
  const child = fork(fileURLToPath(import.meta.url), ["--far-end"], { execArgv: ["--import", "tsx"] });
  const endpoints = await new Promise<Record<string, string | number>>((r) =>
    child.once("message", r as never),
  );
  process.stdout.write(
    `socket floor: ${clients} sockets, one ${PACKET}-byte packet each per ${PERIOD_MS} ms, ${seconds} s x ${rounds} rounds, load ${loadavg()
      .map((v) => v.toFixed(1))
      .join(" ")}\n`,
  );
  const results = new Map<string, number[]>();
  const far = new Map<string, number[]>();
  for (let r = 0; r < rounds; r++) {
    for (const direction of ["read", "write"] as const) {
      for (const transport of transports) {
        for (const kind of kinds) {
          const key = `${direction} ${transport} ${kind}`;
          const m = await measure(
            child,
            kind,
            endpoints[`${kind === "framed" ? "ws" : kind}-${transport}`]!,
            direction,
            clients,
            seconds,
          );
          results.set(key, [...(results.get(key) ?? []), m.us]);
          far.set(key, [...(far.get(key) ?? []), m.farUs]);
        }
      }
    }
  }
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  };
  for (const [key, xs] of results) {
    const s = [...xs].sort((a, b) => a - b);
    process.stdout.write(
      `  ${key.padEnd(18)} ${median(xs).toFixed(1).padStart(6)} µs CPU per packet (min-max ${s[0]!.toFixed(1)}-${s[s.length - 1]!.toFixed(1)}); far end ${median(far.get(key)!).toFixed(1)} µs (a ws server for ws/framed)\n`,
    );
  }
  process.stdout.write(`load after: ${loadavg()[0]!.toFixed(1)}\n`);
  child.kill();
}

if (process.argv.includes("--far-end")) {
  const dir = mkdtempSync(join(tmpdir(), "ktv-socket-floor-"));
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  await farEnd(dir);
} else {
  await main();
}
