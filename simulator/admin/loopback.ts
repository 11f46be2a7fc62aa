import type { FastifyReply, FastifyRequest } from "fastify";
import { VendorError } from "../errors.ts";

// Admin routes change what every client sees (revocations, expiry, the ledger): by default only a process on
// this machine may call them. `--admin-host any` lifts that, for a simulator inside a private test network.
export function isLoopback(addr: string | undefined): boolean {
  if (!addr) return false;
  if (addr === "::1") return true;
  const v4 = addr.startsWith("::ffff:") ? addr.slice(7) : addr;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

export async function requireAdminAccess(req: FastifyRequest, _reply: FastifyReply): Promise<void> {
  const policy = req.server.sim.options.adminHost;
  if (policy === "any") return;
  const addr = req.socket.remoteAddress;
  if (policy === "loopback" ? isLoopback(addr) : addr === policy || isLoopback(addr)) return;
  req.log.warn({ remote: addr }, "admin request refused: not from loopback");
  throw new VendorError(1017040, "admin API is reachable from loopback only (see --admin-host)", 403);
}
