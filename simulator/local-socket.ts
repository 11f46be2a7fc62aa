import { lstatSync, unlinkSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";

// A second listener for the same HTTP server, on a Unix domain socket: a client on this machine (the
// embedded simulator's own load generator, or a partner's test rig beside `ktv sim --socket`) reaches every
// route and the media WebSocket without the TCP stack. Each accepted socket is handed to the HTTP server as
// if it had accepted it itself, so routing, upgrades, keep-alive and close are the server's, unchanged.
//
// Why: a loopback TCP send makes the sender's syscall also run the receiver's TCP input path, so the relay's
// per-packet cost charges the generator's receive work to the target. Measured on this 2-core machine with
// ws 8 (375 sockets, one 330-byte Opus packet each per 20 ms, server process CPU per send, medians of 3
// interleaved rounds, load ~5): loopback TCP 13.0 µs (9.1 µs of it system time), Unix socket 7.2 µs (3.6
// µs system). Relaying 1,000 VUs' media is ~37,500 sends/s, so the difference is ~0.2 of a core.
//
// Admin routes still require loopback TCP (a Unix peer has no remote address to check).

/**
 * Connections the kernel queues for this listener while its thread is busy. On a Unix domain socket a connect
 * beyond the queue fails at once with EAGAIN (TCP would retry the SYN), so with Node's default of 511 a
 * simulator thread that stalls under a ramp of logins made its clients fail "connect EAGAIN", which the reference
 * client reports as 1002030 (server unreachable): 288 of 800 connects made while the listener's loop was
 * blocked, measured; none with 4096 (the TCP listener's backlog; Linux caps it at net.core.somaxconn).
 */
const LOCAL_BACKLOG = 4096;

export interface LocalSocket {
  path: string;
  close(): Promise<void>;
}

export class LocalSocketError extends Error {
  override name = "LocalSocketError";
}

/**
 * Listens on `path` (replacing a stale socket file, never any other kind of file) and feeds each connection
 * to `http`. close() stops listening, ends what the HTTP server left open, and removes the file.
 */
export async function listenLocalSocket(http: Pick<Server, "emit">, path: string): Promise<LocalSocket> {
  await removeStale(path);
  const open = new Set<Socket>();
  const server = createServer((socket) => {
    open.add(socket);
    socket.once("close", () => open.delete(socket));
    http.emit("connection", socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ path, backlog: LOCAL_BACKLOG }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  let closing: Promise<void> | null = null;
  return {
    path,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of open) s.destroy();
      }).finally(() => unlinkQuietly(path));
      return closing;
    },
  };
}

/** A socket file nobody listens on (a killed simulator's) is removed; a live one or any other file is not. */
async function removeStale(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw err;
  }
  if (!isSocket) throw new LocalSocketError(`--socket ${path}: the file exists and is not a socket`);
  if (await answers(path)) throw new LocalSocketError(`--socket ${path}: another process listens there`);
  unlinkQuietly(path);
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone (a parent cleaned the directory): nothing to remove.
  }
}
