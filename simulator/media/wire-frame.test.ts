import { once } from "node:events";
import { describe, expect, it } from "vitest";
import * as wsModule from "ws";
import { type WebSocket, WebSocketServer, WebSocket as WsClient } from "ws";
import { binaryFrame, directSocket } from "./wire-frame.ts";

// The relay's pre-framed write: the bytes equal ws's own framing for every length class, a client receives
// exactly the messages (interleaved with ordinary ws sends, in order), and a busy sender falls back.

// ws's own framing (its Sender.frame static, not in @types/ws) is the reference.
const Sender = (wsModule as unknown as { Sender: { frame(d: Buffer, o: object): Buffer[] } }).Sender;

const SIZES = [0, 1, 125, 126, 330, 3856, 65_535, 65_536, 70_000];

function payload(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + n) & 0xff;
  return b;
}

describe("binaryFrame", () => {
  it.each(SIZES)("frames %i bytes as ws frames an unmasked binary message", (n) => {
    const p = payload(n);
    const ws = Sender.frame(p, { fin: true, rsv1: false, opcode: 2, mask: false, readOnly: false });
    expect(binaryFrame(p).equals(Buffer.concat(ws))).toBe(true);
  });
});

describe("directSocket", () => {
  it("delivers pre-framed and ordinary messages to a client in order, byte for byte", async () => {
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1", perMessageDeflate: false });
    await once(wss, "listening");
    const port = (wss.address() as { port: number }).port;
    const serverSide = new Promise<WebSocket>((resolve) => wss.once("connection", resolve));
    const client = new WsClient(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
    const got: Buffer[] = [];
    client.on("message", (d) => got.push(d as Buffer));
    await once(client, "open");
    const server = await serverSide;
    const sent: Buffer[] = [];
    for (const n of SIZES) {
      const p = payload(n);
      sent.push(p);
      const socket = directSocket(server);
      expect(socket).not.toBeNull();
      socket!.write(binaryFrame(p));
      const q = payload(n + 3);
      sent.push(q);
      server.send(q, { binary: true });
    }
    const deadline = Date.now() + 10_000;
    while (got.length < sent.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(got.length).toBe(sent.length);
    for (const [i, g] of got.entries()) expect(g.equals(sent[i]!)).toBe(true);
    client.close();
    await once(client, "close");
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  });

  it("answers no socket when ws has something queued, or the socket is gone", () => {
    const queued = { _socket: { destroyed: false, write: () => true }, _sender: { _queue: [1] } };
    expect(directSocket(queued as never)).toBeNull();
    const busy = { _socket: { destroyed: false, write: () => true }, _sender: { _queue: [], _state: 1 } };
    expect(directSocket(busy as never)).toBeNull();
    const gone = { _socket: { destroyed: true, write: () => true }, _sender: { _queue: [] } };
    expect(directSocket(gone as never)).toBeNull();
    expect(directSocket({} as never)).toBeNull();
  });
});
