import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import * as ws from "ws";
import { WebSocketServer } from "ws";
import { MAX_FRAME_BYTES } from "../../protocol/media.ts";
import { closeWsServer } from "../../test/ws-server.ts";
import { silentLogger } from "../music/transport.ts";
import { MediaSocket, mediaUrl } from "./media-socket.ts";
import { ServerFrameReader } from "./server-frame-reader.ts";

// Relayed packets taken off the socket before ws must change nothing a client sees: the same messages, pings,
// fragments and close, in the same order, however the bytes are split across reads; and what ws would refuse
// (oversized, masked by the server) still reaches ws.

/** ws's frame parser (exported by the package, not in its type definitions). */
interface WsReceiver extends NodeJS.EventEmitter {
  write(chunk: Buffer): boolean;
}
const Receiver = (
  ws as unknown as {
    Receiver: new (o: { isServer: boolean; maxPayload: number; binaryType: string }) => WsReceiver;
  }
).Receiver;

/** One server (unmasked) frame. */
function frame(b0: number, payload: Buffer): Buffer {
  const n = payload.length;
  const head =
    n <= 125
      ? Buffer.from([b0, n])
      : n <= 0xffff
        ? Buffer.from([b0, 126, n >> 8, n & 0xff])
        : Buffer.from([b0, 127, 0, 0, 0, 0, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
  return Buffer.concat([head, payload]);
}

function bytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 13 + seed) & 0xff;
  return b;
}

/** What a client sees, in order: messages (binary as length + first byte), pings, the close. */
type Seen = string[];

function receiverInto(seen: Seen): WsReceiver {
  const r = new Receiver({ isServer: false, maxPayload: MAX_FRAME_BYTES, binaryType: "nodebuffer" });
  r.on("message", (d: Buffer, binary: boolean) =>
    seen.push(binary ? `bin ${d.length} ${d[0] ?? "-"} ${d[d.length - 1] ?? "-"}` : `text ${d.toString()}`),
  );
  r.on("ping", (d: Buffer) => seen.push(`ping ${d.toString()}`));
  r.on("pong", (d: Buffer) => seen.push(`pong ${d.toString()}`));
  r.on("conclude", (code: number) => seen.push(`close ${code}`));
  r.on("error", (e: Error) => seen.push(`error ${(e as { code?: string }).code}`));
  return r;
}

/** The stream through ws's Receiver alone, and through the reader in front of one, split at `cuts`. */
function both(stream: Buffer, cuts: number[]): { alone: Seen; reader: Seen; fast: number } {
  const alone: Seen = [];
  const ra = receiverInto(alone);
  const reader: Seen = [];
  const rr = receiverInto(reader);
  const fr = new ServerFrameReader(
    (p) => reader.push(`bin ${p.length} ${p[0] ?? "-"} ${p[p.length - 1] ?? "-"}`),
    (chunk) => rr.write(chunk),
    null,
    MAX_FRAME_BYTES,
  );
  let from = 0;
  for (const at of [...cuts, stream.length]) {
    const piece = Buffer.from(stream.subarray(from, at));
    ra.write(piece);
    fr.onData(Buffer.from(piece));
    from = at;
  }
  return { alone, reader, fast: fr.packets };
}

/** As `both`, with the reader fed through onBytes from one buffer that is scribbled over after every read. */
function inPlace(stream: Buffer, cuts: number[]): Seen {
  const seen: Seen = [];
  const rr = receiverInto(seen);
  const fr = new ServerFrameReader(
    (p) => seen.push(`bin ${p.length} ${p[0] ?? "-"} ${p[p.length - 1] ?? "-"}`),
    (chunk) => rr.write(chunk),
    null,
    MAX_FRAME_BYTES,
  );
  const shared = Buffer.alloc(stream.length + 16);
  let from = 0;
  for (const at of [...cuts, stream.length]) {
    stream.copy(shared, 0, from, at);
    fr.onBytes(shared, at - from);
    shared.fill(0xee); // the next read overwrites it: anything kept without a copy is now garbage
    from = at;
  }
  return seen;
}

describe("relayed packets read before ws", () => {
  const frames = [
    frame(0x82, bytes(352, 1)),
    frame(0x82, Buffer.alloc(0)),
    frame(0x81, Buffer.from('{"type":"kicked"}')),
    frame(0x82, bytes(125, 2)),
    frame(0x89, Buffer.from("hi")),
    frame(0x82, bytes(126, 3)),
    // A fragmented binary message with a ping between its fragments.
    frame(0x02, bytes(10, 4)),
    frame(0x8a, Buffer.from("po")),
    frame(0x00, bytes(20, 5)),
    frame(0x80, bytes(5, 6)),
    frame(0x82, bytes(3872, 7)),
    frame(0x82, bytes(65_568, 8)),
    frame(0x88, Buffer.from([0x0f, 0xa1])),
  ];
  const traffic = Buffer.concat(frames);
  const frameEnds = frames
    .slice(0, -1)
    .map((_, i) => frames.slice(0, i + 1).reduce((n, f) => n + f.length, 0));

  it("gives what ws alone gives, in order, for every single split point", () => {
    const want = both(traffic, []).alone;
    expect(want.length).toBe(11);
    expect(want.at(-1)).toBe("close 4001");
    for (let cut = 1; cut < traffic.length; cut += cut < 600 ? 1 : 997) {
      const { reader, fast } = both(traffic, [cut]);
      expect(reader, `split at ${cut}`).toEqual(want);
      expect(fast).toBe(6);
    }
  });

  it("and for reads of a few bytes at a time", () => {
    const want = both(traffic, []).alone;
    for (const step of [7, 64, 1000]) {
      const cuts: number[] = [];
      for (let at = step; at < traffic.length; at += step) cuts.push(at);
      expect(both(traffic, cuts).reader, `step ${step}`).toEqual(want);
    }
  });

  it("from a buffer reused for every read: the same, for every split point and small reads", () => {
    const want = both(traffic, []).alone;
    for (let cut = 1; cut < traffic.length; cut += cut < 600 ? 1 : 997) {
      expect(inPlace(traffic, [cut]), `split at ${cut}`).toEqual(want);
    }
    for (const step of [7, 64, 1000]) {
      const cuts: number[] = [];
      for (let at = step; at < traffic.length; at += step) cuts.push(at);
      expect(inPlace(traffic, cuts), `step ${step}`).toEqual(want);
    }
    // One read per frame: ws keeps a fragment (as a view of what it was given) until the message's last one.
    expect(inPlace(traffic, frameEnds), "a read per frame").toEqual(want);
  });

  it("leaves what ws refuses to ws: a payload over the limit, a masked server frame", async () => {
    const big = Buffer.concat([frame(0x82, bytes(10, 1)), frame(0x82, bytes(MAX_FRAME_BYTES + 1, 2))]);
    const over = both(big, [100]);
    const masked = Buffer.from([0x82, 0x80 | 2, 0, 0, 0, 0, 1, 2]);
    const m = both(Buffer.concat([frame(0x82, bytes(4, 1)), masked]), []);
    // ws's stream emits its errors on the next tick.
    await new Promise((r) => setImmediate(r));
    expect(over.reader).toEqual(over.alone);
    expect(over.reader.at(-1)).toBe("error WS_ERR_UNSUPPORTED_MESSAGE_LENGTH");
    expect(m.reader).toEqual(m.alone);
    expect(m.reader.at(-1)).toBe("error WS_ERR_UNEXPECTED_MASK");
  });
});

let server: Server | undefined;
let wss: WebSocketServer | undefined;

afterEach(async () => {
  await closeWsServer(server, wss);
  server = wss = undefined;
});

describe("the media socket with the reader in front of ws", () => {
  it.each(["tcp", "unix"])(
    "delivers packets, pushes, fragments and the close from a real ws server as before (%s)",
    async (transport) => {
      server = createServer();
      wss = new WebSocketServer({ server, perMessageDeflate: false });
      let pongs = 0;
      wss.on("connection", (ws) => {
        ws.on("pong", () => pongs++);
        ws.send(bytes(352, 1));
        ws.send(JSON.stringify({ type: "kicked", code: 1, message: "x" }));
        ws.ping("p");
        ws.send(bytes(3872, 2));
        ws.send(bytes(7, 3), { fin: false });
        ws.send(bytes(9, 4), { fin: true });
        ws.send(bytes(65_568, 5));
        setTimeout(() => ws.close(4001, "bye"), 50);
      });
      const dir = transport === "unix" ? mkdtempSync(join(tmpdir(), "ktv-sfr-")) : "";
      const path = join(dir, "media.sock");
      if (transport === "unix") await new Promise<void>((r) => server!.listen(path, r));
      else await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
      const url =
        transport === "unix"
          ? mediaUrl("http://localhost", path)
          : `ws://127.0.0.1:${(server.address() as AddressInfo).port}/v1/media`;
      const seen: string[] = [];
      let closed = "";
      const sock = await MediaSocket.open(
        url,
        {
          onPush: (m) => seen.push(`push ${m.type}`),
          onFrame: (d) => seen.push(`bin ${d.length} ${d[0]} ${d[d.length - 1]}`),
          onClose: (code, reason) => {
            closed = `${code} ${reason}`;
          },
        },
        { timeoutMs: 2000, logger: silentLogger, readPackets: true },
      );
      const deadline = performance.now() + 5000;
      while (closed === "" && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      const last = (n: number, seed: number) => bytes(n, seed)[n - 1];
      expect(seen).toEqual([
        `bin 352 1 ${last(352, 1)}`,
        "push kicked",
        `bin 3872 2 ${last(3872, 2)}`,
        // The fragments, reassembled by ws: first byte of the first, last byte of the second.
        `bin 16 3 ${last(9, 4)}`,
        `bin 65568 5 ${last(65_568, 5)}`,
      ]);
      expect(closed).toBe("4001 bye");
      expect(pongs).toBe(1);
      expect(sock.packetsRead).toBe(3);
      // The reads after the upgrade went through the thread's reused buffer (read-buffer-connection.ts).
      expect(sock.readsInPlace).toBeGreaterThan(0);
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  );

  it("is off unless asked for: ws reads everything", async () => {
    server = createServer();
    wss = new WebSocketServer({ server, perMessageDeflate: false });
    wss.on("connection", (ws) => ws.send(bytes(352, 1)));
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
    const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/v1/media`;
    const got: number[] = [];
    const sock = await MediaSocket.open(
      url,
      { onPush() {}, onFrame: (d) => got.push(d.length), onClose() {} },
      { timeoutMs: 2000, logger: silentLogger },
    );
    const deadline = performance.now() + 5000;
    while (got.length === 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(got).toEqual([352]);
    expect(sock.packetsRead).toBe(0);
    expect(sock.readsInPlace).toBe(0);
    sock.close();
  });
});
