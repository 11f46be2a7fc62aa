import { createServer } from "node:http";
import { type WebSocket, WebSocketServer } from "ws";
import { MAX_FRAME_BYTES } from "../../protocol/media.ts";

// The reference for the media relay case: a bare `ws` relay of the same frames, what a relay costs with no
// protocol around it. A socket's first text message names its role, {"publish":"<stream>"} or
// {"play":"<stream>"}; each binary message from a publisher goes to every player of its stream with ws.send,
// skipping a player whose socket holds more than 256 KB unsent (the simulator's playerBufferLimitBytes), with
// the same ws options as the simulator (no compression, the protocol's max frame as max payload). No login, frame decoding,
// sequence tracking, counters or fault seam: whatever the simulator costs beyond this is its own work.
const LIMIT = 256 * 1024;
const players = new Map<string, Set<WebSocket>>();
const server = createServer((_req, res) => {
  res.writeHead(426).end();
});
const wss = new WebSocketServer({ server, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });
wss.on("connection", (ws) => {
  let publishes: Set<WebSocket> | null = null;
  let plays: Set<WebSocket> | null = null;
  ws.on("message", (data, isBinary) => {
    if (isBinary) {
      if (!publishes) return;
      for (const p of publishes) if (p.bufferedAmount <= LIMIT) p.send(data, { binary: true });
      return;
    }
    const m = JSON.parse(data.toString()) as { publish?: string; play?: string };
    const id = m.publish ?? m.play ?? "";
    let set = players.get(id);
    if (!set) {
      set = new Set();
      players.set(id, set);
    }
    if (m.publish !== undefined) publishes = set;
    else {
      plays = set;
      set.add(ws);
    }
    ws.send('{"ok":true}');
  });
  ws.on("close", () => plays?.delete(ws));
  ws.on("error", () => {});
});
server.listen(0, "127.0.0.1", () => {
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  process.stdout.write(`${JSON.stringify({ listening: `http://127.0.0.1:${port}` })}\n`);
});
process.on("SIGTERM", () => {
  for (const c of wss.clients) c.terminate();
  server.close(() => process.exit(0));
});
