import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { closeWsServer } from "../../test/ws-server.ts";
import { silentLogger } from "../music/transport.ts";
import { ClientFrameWriter, clientFrameHeaderBytes, writeClientBinaryFrame } from "./client-frame-writer.ts";
import { MediaSocket } from "./media-socket.ts";

// Published packets framed here and written around ws's Sender must be what any RFC 6455 server reads: a `ws`
// server (the simulator's library) gets every message whole, in order with the control messages between them,
// with the MASK bit set and a zero key on the wire. (engine.test.ts checks the simulator relays them exactly.)

let server: Server | undefined;
let wss: WebSocketServer | undefined;

afterEach(async () => {
  await closeWsServer(server, wss);
  server = wss = undefined;
});

interface Received {
  messages: { binary: boolean; data: Buffer }[];
  /** Every byte the server's socket read (headers included). */
  raw: Buffer[];
}

async function wsServer(): Promise<{ url: string; got: Received }> {
  const got: Received = { messages: [], raw: [] };
  server = createServer();
  wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 1 << 20 });
  server.on("upgrade", (req, socket, head) => {
    socket.on("data", (d: Buffer) => got.raw.push(Buffer.from(d)));
    wss!.handleUpgrade(req, socket, head, (ws) => {
      ws.on("message", (data: Buffer, binary) => got.messages.push({ binary, data: Buffer.from(data) }));
    });
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/v1/media`, got };
}

function payload(n: number, seed: number): Uint8Array {
  const p = new Uint8Array(n);
  for (let i = 0; i < n; i++) p[i] = (i * 31 + seed * 7) & 0xff;
  return p;
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + 5000;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("client frames written straight to the socket", () => {
  it("a ws server receives every size whole and in order with text messages, MASK set and a zero key", async () => {
    const { url, got } = await wsServer();
    const sock = await MediaSocket.open(
      url,
      { onPush() {}, onFrame() {}, onClose() {} },
      { timeoutMs: 2000, logger: silentLogger, framedWrites: true },
    );
    // 7-bit, 16-bit and 64-bit lengths at their edges; 352 is a 20 ms Opus packet, 3872 a PCM one.
    const sizes = [0, 1, 125, 126, 352, 3872, 65535, 65536, 65568];
    const sent: Uint8Array[] = [];
    for (const [i, n] of sizes.entries()) {
      const p = payload(n, i);
      sent.push(p);
      expect(sock.sendFrame(p)).toBe(true);
      // Reused buffer: overwriting the caller's packet after the call must not change what was sent.
      p.fill(0xee);
      sent[i] = payload(n, i);
      if (i === 4) void sock.request({ type: "ping" }, 200).catch(() => {});
    }
    await until(() => got.messages.length === sizes.length + 1, "every message");
    const kinds = got.messages.map((m) => (m.binary ? m.data.length : "text"));
    expect(kinds).toEqual([0, 1, 125, 126, 352, "text", 3872, 65535, 65536, 65568]);
    const binaries = got.messages.filter((m) => m.binary);
    for (const [i, m] of binaries.entries()) expect(Buffer.compare(m.data, Buffer.from(sent[i]!))).toBe(0);
    const wire = Buffer.concat(got.raw);
    // The first frame the server read after the handshake: FIN + binary, MASK + length 0, key 0.
    const at = wire.indexOf(Buffer.from([0x82, 0x80, 0, 0, 0, 0]));
    expect(at).toBe(0);
    // The 352-byte packet: 16-bit length, zero key, the payload as is.
    const p352 = Buffer.concat([Buffer.from([0x82, 0x80 | 126, 352 >> 8, 352 & 0xff, 0, 0, 0, 0]), sent[4]!]);
    expect(wire.indexOf(p352)).toBeGreaterThan(at);
    sock.close();
  });

  it("frames every length as RFC 6455 says (7/16/64-bit), the key zero, the payload unchanged", () => {
    for (const n of [0, 125, 126, 65535, 65536]) {
      const p = payload(n, 3);
      const out = new Uint8Array(clientFrameHeaderBytes(n) + n);
      const len = writeClientBinaryFrame(p, out);
      expect(len).toBe(out.length);
      expect(out[0]).toBe(0x82);
      expect(out[1]! & 0x80).toBe(0x80);
      const code = out[1]! & 0x7f;
      const h = clientFrameHeaderBytes(n);
      const decoded =
        code < 126
          ? code
          : code === 126
            ? (out[2]! << 8) | out[3]!
            : Number(new DataView(out.buffer).getBigUint64(2, false));
      expect(decoded).toBe(n);
      expect([...out.subarray(h - 4, h)]).toEqual([0, 0, 0, 0]);
      expect(Buffer.compare(Buffer.from(out.subarray(h)), Buffer.from(p))).toBe(0);
    }
  });

  it("reuses its buffer only when the socket holds none of it; a queued frame is never overwritten", () => {
    const writes: Buffer[] = [];
    /** A socket whose kernel takes everything, until `full`: then each write stays queued. */
    const sink = {
      writableLength: 0,
      full: false,
      write(b: Buffer) {
        writes.push(b);
        if (this.full) this.writableLength += b.length;
        return !this.full;
      },
    };
    const w = new ClientFrameWriter(sink as never);
    w.write(payload(352, 1));
    w.write(payload(352, 2));
    // Written at once: the same memory is reused.
    expect(writes[1]!.buffer).toBe(writes[0]!.buffer);
    expect(writes[1]!.byteOffset).toBe(writes[0]!.byteOffset);
    expect(w.fresh).toBe(0);
    // The kernel stops taking frames: the frame written from the reused buffer stays queued...
    sink.full = true;
    w.write(payload(352, 3));
    const queued = Buffer.from(writes[2]!);
    expect(writes[2]!.buffer).toBe(writes[0]!.buffer);
    // ...so the next ones get their own buffers, of exactly their size, and the queued frame is untouched.
    w.write(payload(352, 4));
    w.write(payload(200, 5));
    expect(Buffer.compare(writes[2]!, queued)).toBe(0);
    expect(writes[3]!.length).toBe(clientFrameHeaderBytes(352) + 352);
    expect(writes[4]!.length).toBe(clientFrameHeaderBytes(200) + 200);
    expect(w.fresh).toBe(2);
    // The queue drains: the reused buffer is free again.
    sink.full = false;
    sink.writableLength = 0;
    w.write(payload(352, 6));
    expect(writes[5]!.buffer).toBe(writes[0]!.buffer);
    expect(w.fresh).toBe(2);
    // A payload larger than the reused buffer gets one of its own.
    w.write(payload(10_000, 7));
    expect(writes[6]!.length).toBe(clientFrameHeaderBytes(10_000) + 10_000);
    expect(w.fresh).toBe(3);
    // Frames in buffers of their own, and the last one from the reused buffer, carry their own payloads
    // (first byte: the seed's); earlier views of the reused buffer were rewritten once the socket let go.
    for (const i of [3, 4, 5, 6]) {
      const b = writes[i]!;
      const code = b[1]! & 0x7f;
      const head = code === 127 ? 14 : code === 126 ? 8 : 6;
      expect(b[head]).toBe(payload(1, i + 1)[0]);
    }
  });
});
