import type { Server } from "node:http";
import type { WebSocketServer } from "ws";

/** Ends a test's ws server and its HTTP server: clients terminated, keep-alive sockets closed, then the listener. */
export async function closeWsServer(
  server: Server | undefined,
  wss: WebSocketServer | undefined,
): Promise<void> {
  for (const c of wss?.clients ?? []) c.terminate();
  wss?.close();
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
}
