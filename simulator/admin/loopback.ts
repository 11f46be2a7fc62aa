import { Type } from "@sinclair/typebox";
import type { FastifyReply, FastifyRequest } from "fastify";
import { VendorError } from "../errors.ts";

// Admin routes change what every client sees (revocations, expiry, the ledger): by default only a process on
// this machine may call them. `--admin-host any` lifts that, for a simulator inside a private test network.
//
// "A process on this machine" includes a web browser, so two more checks keep a web page out:
// - an `Origin` header (a browser sends one with every cross-origin POST, simple or not) must name this
//   server (its host:port equal to the Host header): a page elsewhere cannot drive the admin API;
// - under the default policy the Host header must be a loopback name (127.x, ::1, localhost): DNS rebinding
//   points a page's own name at 127.0.0.1, so its requests are same-origin to the browser but carry the
//   page's name as Host. curl, the runner and Node clients send no Origin and a loopback Host;
// - a request that changes state (any method but GET/HEAD) must carry a marker no "simple" request can:
//   `content-type: application/json` or the header `x-ktv-admin` (ADMIN_MARKER). A browser sends neither
//   without a CORS preflight, and the preflight (OPTIONS) is never granted, so even a page the Origin check
//   lets through (the simulator's own /docs) cannot post a form or a text/plain body that changes state.
/** The header that marks a body-less admin state change as not a browser's simple request (any value). */
export const ADMIN_MARKER = "x-ktv-admin";

/** Documents the marker on body-less admin state changes (so /docs can send it). */
export const adminMarkerHeaders = Type.Object(
  {
    [ADMIN_MARKER]: Type.Optional(
      Type.String({ description: "any value: required on a state change without a JSON body (403 without)" }),
    ),
  },
  { additionalProperties: true },
);

/** A state change carries JSON or the admin marker: what no simple (unpreflighted) request can. */
export function hasNonSimpleMarker(
  method: string,
  headers: Record<string, string | string[] | undefined>,
): boolean {
  if (method === "GET" || method === "HEAD") return true;
  if (headers[ADMIN_MARKER] !== undefined) return true;
  const type = headers["content-type"];
  return typeof type === "string" && /^application\/json\s*(;|$)/i.test(type);
}

export function isLoopback(addr: string | undefined): boolean {
  if (!addr) return false;
  if (addr === "::1") return true;
  const v4 = addr.startsWith("::ffff:") ? addr.slice(7) : addr;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/** `host[:port]` of a Host header names this machine's loopback: 127.x.x.x, [::1] or localhost. */
export function isLoopbackHost(host: string | undefined): boolean {
  if (!host) return false;
  const name = host.startsWith("[") ? host.slice(1, host.indexOf("]")) : host.replace(/:\d*$/, "");
  return name.toLowerCase() === "localhost" || isLoopback(name);
}

/** The Origin (if any) names the server the request came to, by its Host header. */
function sameOrigin(origin: string | undefined, host: string | undefined): boolean {
  if (origin === undefined) return true;
  try {
    const u = new URL(origin);
    return (
      (u.protocol === "http:" || u.protocol === "https:") &&
      host !== undefined &&
      u.host === host.toLowerCase()
    );
  } catch {
    return false; // "null" (a sandboxed or file: page) and anything unparsable
  }
}

export async function requireAdminAccess(req: FastifyRequest, _reply: FastifyReply): Promise<void> {
  const policy = req.server.sim.options.adminHost;
  const origin = req.headers.origin;
  const host = req.headers.host;
  if (!sameOrigin(origin, host)) {
    req.log.warn({ origin, host }, "admin request refused: cross-origin");
    throw new VendorError(1017040, `admin API refuses cross-origin requests (Origin ${origin})`, 403);
  }
  if (policy !== "any") requireLoopback(req, policy, host);
  if (!hasNonSimpleMarker(req.method, req.headers)) {
    req.log.warn(
      { method: req.method, content_type: req.headers["content-type"] },
      "admin request refused: simple",
    );
    throw new VendorError(
      1017040,
      `admin state changes need content-type: application/json or an ${ADMIN_MARKER} header (a browser's simple request carries neither)`,
      403,
    );
  }
}

function requireLoopback(req: FastifyRequest, policy: string, host: string | undefined): void {
  const addr = req.socket.remoteAddress;
  if (!(policy === "loopback" ? isLoopback(addr) : addr === policy || isLoopback(addr))) {
    req.log.warn({ remote: addr }, "admin request refused: not from loopback");
    throw new VendorError(1017040, "admin API is reachable from loopback only (see --admin-host)", 403);
  }
  if (policy === "loopback" && !isLoopbackHost(host)) {
    req.log.warn({ host }, "admin request refused: Host is not a loopback name");
    throw new VendorError(
      1017040,
      `admin API answers only to a loopback Host (127.0.0.1, [::1] or localhost), not ${host ?? "none"}`,
      403,
    );
  }
}
